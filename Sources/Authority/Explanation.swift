import DNSWire
import GeoIP
import Policy

/// Why a client gets its answer (`geodns explain NAME TYPE --subnet P`): the client prefix used,
/// the database record and network, the region and rule, the pools that answered, the answer,
/// its TTL, and the ECS scope with the reason for it.
public struct Explanation: Sendable, CustomStringConvertible {
    /// One steered name met while answering (the query name, or a CNAME target).
    public struct SteeredStep: Sendable, Hashable {
        public var owner: DomainName
        public var type: RRType
        /// The pool that answered; nil when no pool of the region (nor the default) has data.
        public var pool: String?
        /// What the pool gave, in presentation form ("198.51.100.10", "CNAME eu.cdn.example.net.").
        public var data: [String]
        /// The decision table's scope for this client (before clamping to the honoured prefix).
        public var scope: UInt8
        /// The block of `scope` bits around the client: every address in it gets this answer.
        public var block: IPNetwork
        /// Every distinct answer this decision gives, with its pool, for context.
        public var alternatives: [String]
        /// What happens for a type the name has no data for.
        public var fallback: Fallback
        /// The pools tried in order (the region's list, then the default's), up to the one that
        /// answered; empty when the catalog does not carry the rule (`Steering.regionPools`).
        public var poolsTried: [String]
        /// The region of the client's chain this name answered from: the first one it lists;
        /// nil when it lists none of them (its default answered).
        public var region: String? = nil
        /// The regions of the chain walked past before it (regions this name does not list).
        public var skipped: [String] = []
    }

    public var name: DomainName
    public var type: RRType
    /// The subnet as given; nil for a query without ECS from 127.0.0.1.
    public var subnet: String?
    /// Why the request could not be explained (a bad subnet); the rest is then empty.
    public var problem: String?
    /// The address the answer was chosen for, and the prefix it stands for (after truncation to
    /// the longest honoured source prefix), or nil when the packet source was used.
    public var client: ClientAddress
    public var clientPrefix: IPNetwork?
    /// How the client was chosen, in words.
    public var clientReason: String
    /// The database record, network, region and rule (`Catalog.classify`).
    public var region: RegionMatch?
    public var zone: DomainName?
    public var steered: [SteeredStep]
    public var rcode: RCode
    public var authoritative: Bool
    /// The answer section, then authority, as `dig` prints records.
    public var answers: [String]
    public var authorities: [String]
    /// The TTL of the first answer record (the steered TTL for steered names); for NXDOMAIN and
    /// NODATA the SOA's in authority, the negative-caching TTL (RFC 2308 §5).
    public var ttl: UInt32?
    /// The SCOPE PREFIX-LENGTH a query with this subnet gets back (nil without ECS).
    public var scope: UInt8?
    public var scopeReason: String
    /// Engine notes: wildcard synthesis, CNAME chain ends, fallbacks, refusals.
    public var notes: [String]
    /// The catalog's regions (for naming the chain).
    public var catalogRegions: [Region] = []

    public var description: String {
        var lines: [String] = []
        func add(_ label: String, _ value: String) {
            lines.append(label.padding(9) + " " + value)
        }
        add("query:", "\(name) \(type)" + (subnet.map { " with ECS \($0)" } ?? " without ECS (from 127.0.0.1)"))
        if let problem {
            add("error:", problem)
            return lines.joined(separator: "\n")
        }
        add("client:", clientReason)
        if let region {
            if let record = region.record {
                let net = region.databaseNetwork.map { "\($0)" } ?? "?"
                add("database:", "\(net): \(Explanation.describe(record))")
            } else {
                add("database:", "no record for \(region.client)")
            }
            add("region:", (region.regionName ?? "(none)") + " — " + region.rule)
            if region.chain.count > 1 { add("", "region chain: " + region.chainText(catalogRegions)) }
            if let compiled = region.compiledRegion, compiled != region.region {
                add("", "note: the compiled table says region #\(compiled); the catalog may be hand-built")
            }
        }
        add("zone:", zone.map { "\($0)" } ?? "(none: the name is outside every zone)")
        for step in steered {
            let pool = step.pool.map { "pool \($0)" } ?? "no pool with \(step.type) data (fallback \(step.fallback.rawValue))"
            add("steered:", "\(step.owner) \(step.type) -> \(pool): \(step.data.joined(separator: ", "))")
            if region != nil {
                let walked = step.skipped.map { "\($0) (not listed)" } + [step.region.map { "\($0) (listed)" } ?? "default"]
                add("", "regions walked: " + walked.joined(separator: " -> "))
            }
            if !step.poolsTried.isEmpty {
                let tried = step.poolsTried.map { $0 == step.pool ? "\($0) (answered)" : "\($0) (no \(step.type) data)" }
                add("", "pools tried: " + tried.joined(separator: " -> "))
            }
            add("", "this answer covers \(step.block) (table scope /\(step.scope))")
            if step.alternatives.count > 1 {
                add("", "answers of this rule: " + step.alternatives.joined(separator: "; "))
            }
        }
        add("answer:", "\(rcode)" + (authoritative ? ", AA" : ""))
        for line in answers { add("", line) }
        for line in authorities { add("", "authority: " + line) }
        if let ttl { add("ttl:", answers.isEmpty ? "\(ttl) (negative caching: the SOA's TTL, RFC 2308)" : "\(ttl)") }
        add("scope:", (scope.map { "/\($0)" } ?? "none") + " — " + scopeReason)
        for note in notes { add("note:", note) }
        return lines.joined(separator: "\n")
    }

    static func describe(_ r: GeoRecord) -> String {
        var parts: [String] = []
        if let c = r.continent { parts.append("continent \(c)") }
        if let c = r.country { parts.append("country \(c)") }
        if !r.subdivisions.isEmpty { parts.append("subdivisions \(r.subdivisions.joined(separator: ","))") }
        if let a = r.asn { parts.append("AS\(a)") }
        return parts.isEmpty ? "(empty record)" : parts.joined(separator: ", ")
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

extension Authority {
    /// Explains the answer to `name type` for a query with ECS `subnet` ("81.2.69.0/24"), or
    /// without ECS from 127.0.0.1 when nil — the same query `geodns test` sends.
    public static func explain(name: DomainName, type: RRType, subnet: String?, catalog: Catalog) -> Explanation {
        var out = Explanation(name: name, type: type, subnet: subnet, problem: nil, client: loopback, clientPrefix: nil,
                              clientReason: "", region: nil, zone: nil, steered: [], rcode: .noError,
                              authoritative: false, answers: [], authorities: [], ttl: nil, scope: nil,
                              scopeReason: "", notes: [])
        let query: Query
        switch testQuery(name: name, type: type, subnet: subnet) {
        case .success(let q): query = q
        case .failure(let problem):
            out.problem = problem.description
            return out
        }
        let settings = catalog.settings
        let client = clientAddress(for: query, source: loopback, settings: settings.ecs)
        out.client = client
        let used = usedSubnet(query, settings: settings.ecs)
        if let cs = query.edns?.clientSubnet {
            if !settings.ecs.enabled {
                out.clientReason = "\(client) — the packet source: ECS is disabled in the settings, the option is ignored and not echoed"
            } else if let used {
                let p = min(Int(cs.sourcePrefix), Int(used.maxScope))
                let prefix = IPNetwork.block(around: client, prefixLength: p)
                out.clientPrefix = prefix
                out.clientReason = Int(cs.sourcePrefix) > p
                    ? "\(prefix) — the ECS subnet cut from /\(cs.sourcePrefix) to the longest honoured prefix /\(used.maxScope)"
                    : "\(prefix) — the ECS subnet"
            } else {
                out.clientReason = "\(client) — the packet source: ECS source prefix 0 asks for no tailoring"
            }
        } else {
            out.clientReason = "\(client) — the packet source (no ECS in the query)"
        }
        out.region = catalog.classify(client)
        // The region the compiled tables use (the same as classify's unless hand-built).
        // The chain the compiled tables use (the same as classify's unless hand-built).
        let chain: [RegionID] = out.region.map { $0.compiledChain ?? $0.chain.map(\.region) } ?? []
        out.catalogRegions = catalog.regions

        var trace: Trace? = Trace()
        let reply = answer(query, client: client, catalog: catalog, trace: &trace)
        out.zone = trace?.zone
        out.notes = trace?.notes ?? []
        out.steered = (trace?.steered ?? []).map { step in
            let (pool, data) = describe(step.answer)
            var seen: [String] = []
            if let decision = step.steering.decision(for: step.type) {
                for a in decision.answers {
                    let (p, d) = describe(a)
                    let text = (p ?? "no data") + (d.isEmpty ? "" : " (" + d.joined(separator: ", ") + ")")
                    if !seen.contains(text) { seen.append(text) }
                }
            }
            // The first region of the chain this name lists is the one it answers from.
            let listed = chain.firstIndex { step.steering.regionPools[$0] != nil }
            let name = { (id: RegionID) in catalog.regions.indices.contains(id) ? catalog.regions[id].name : "#\(id)" }
            var s = Explanation.SteeredStep(owner: step.owner, type: step.type, pool: pool, data: data, scope: step.scope,
                                            block: IPNetwork.block(around: client, prefixLength: Int(step.scope)),
                                            alternatives: seen, fallback: step.steering.fallback,
                                            poolsTried: poolsTried(step.steering, region: listed.map { chain[$0] }, answered: pool))
            s.region = listed.map { name(chain[$0]) }
            s.skipped = chain[..<(listed ?? chain.count)].map(name)
            return s
        }
        out.rcode = reply.rcode
        out.authoritative = reply.header.authoritative
        out.answers = reply.answers.map(presentation)
        out.authorities = reply.authorities.map(presentation)
        out.ttl = reply.answers.first?.ttl ?? reply.authorities.first { $0.type == .soa }?.ttl
        out.scope = reply.edns?.clientSubnet?.scopePrefix
        out.scopeReason = scopeReason(reply: reply, steered: out.steered, client: client, used: used,
                                      sentECS: query.edns?.clientSubnet != nil, ecsEnabled: settings.ecs.enabled)
        return out
    }

    /// The region's pool list, then the default's, up to the pool that answered (the compiler's
    /// order: the first pool with data for the type answers).
    static func poolsTried(_ steering: Steering, region: RegionID?, answered: String?) -> [String] {
        var order = region.flatMap { steering.regionPools[$0] } ?? []
        if let answered, order.contains(answered) {
            return Array(order.prefix { $0 != answered }) + [answered]
        }
        order += steering.defaultPools
        if let answered, let i = order.firstIndex(of: answered) { return Array(order[...i]) }
        return order
    }

    static func describe(_ answer: SteeredAnswer) -> (pool: String?, data: [String]) {
        switch answer {
        case .records(let pool, let rrset): return (pool, rrset.rdata.map { "\(rrset.type) \($0.presentationText)" })
        case .cname(let pool, let target): return (pool, ["CNAME \(target)"])
        case .noData: return (nil, [])
        }
    }

    static func presentation(_ rr: ResourceRecord) -> String {
        "\(rr.name) \(rr.ttl) \(rr.rrClass) \(rr.type) \(rr.rdata.presentationText)"
    }

    static func scopeReason(reply: Message, steered: [Explanation.SteeredStep], client: ClientAddress,
                            used: (client: ClientAddress, maxScope: UInt8)?, sentECS: Bool, ecsEnabled: Bool) -> String {
        guard sentECS else { return "no ECS in the query, so none in the reply: resolvers cache it for every client" }
        guard ecsEnabled else { return "ECS is disabled: the option is not echoed, the answer is for the packet source" }
        guard let used else { return "source prefix 0: the answer is not tailored, so it is valid for every client" }
        let scope = Int(reply.edns?.clientSubnet?.scopePrefix ?? 0)
        if reply.rcode == .refused { return "REFUSED does not depend on the client" }
        let decisive = steered.max { $0.scope < $1.scope }
        guard let decisive, decisive.scope > 0 else {
            if reply.rcode == .nxDomain { return "NXDOMAIN does not depend on the client" }
            if !steered.isEmpty { return "every client gets this same answer" }
            if reply.answers.isEmpty { return "this negative answer does not depend on the client" }
            return "static data: the answer does not depend on the client"
        }
        let block = IPNetwork.block(around: client, prefixLength: scope)
        var reason = "widest block whose every address gets this answer: \(block)"
        if Int(decisive.scope) > scope {
            reason = "the table splits finer (/\(decisive.scope)), but ECS clients are cut to /\(used.maxScope), so every one in \(block) gets this answer"
        }
        if steered.count > 1 {
            reason += " (the longest scope of \(steered.count) steered names in the CNAME chain: \(decisive.owner))"
        }
        return reason
    }
}
