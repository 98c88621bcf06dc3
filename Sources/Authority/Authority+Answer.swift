import DNSWire
import Policy

// The lookup itself: RFC 1034 §4.3.2 (zone, delegation, exact match, CNAME), RFC 4592 wildcards,
// RFC 2308 negative answers, RFC 8482 ANY, RFC 7871 scope.

extension Authority {
    /// What `answer` did, for `geodns explain`. Nil on the query path, so nothing is recorded there.
    struct Trace {
        struct Steered {
            var owner: DomainName
            var type: RRType
            var steering: Steering
            var answer: SteeredAnswer
            var scope: UInt8
        }
        var zone: DomainName?
        var notes: [String] = []
        var steered: [Steered] = []
    }

    static func answer(_ query: Query, client: ClientAddress, catalog: Catalog, trace: inout Trace?) -> Message {
        let settings = catalog.settings
        // QDCOUNT=0 with a cookie: only the cookie is asked for (Authority+Cookies.swift).
        if query.isCookieOnly {
            var reply = cookieOnlyReply(to: query, payloadSize: settings.udpPayloadSize)
            if !settings.ecs.enabled { reply.edns?.clientSubnet = nil }
            return reply
        }
        // id, opcode, RD, CD copied; QR and AA set; the question as the client wrote it (0x20 case
        // echoed); OPT iff the query had one, with our payload size and ECS echoed at scope 0.
        var reply = Message(replyingTo: query, payloadSize: settings.udpPayloadSize)
        // ECS off: the option is ignored, so it is not echoed (see `Authority`).
        if !settings.ecs.enabled { reply.edns?.clientSubnet = nil }
        let question = query.question
        var scope: UInt8 = 0
        if question.rrClass == .ch {
            // id.server. and friends (Authority+Identity.swift).
            answerChaos(question, settings: settings, reply: &reply, trace: &trace)
        } else if question.rrClass != .in && question.rrClass != .any {
            // We serve IN (and QCLASS ANY, answered from IN as gdnsd and Knot do): no zone of
            // ours exists in another class.
            reply.rcode = .refused
            reply.header.authoritative = false
            trace?.notes.append("class \(question.rrClass) is not served: REFUSED")
        } else if question.type == .axfr || question.type == .ixfr {
            // No zone transfers (gdnsd answers the same).
            reply.rcode = .notImp
            reply.header.authoritative = false
            trace?.notes.append("\(question.type) (zone transfer) is not implemented: NOTIMP")
        } else if let zi = zoneIndex(for: question.name, in: catalog) {
            trace?.zone = catalog.zones[zi].apex
            scope = resolve(question, zoneIndex: zi, client: client, catalog: catalog, reply: &reply, trace: &trace)
        } else {
            // Outside every zone: not ours to answer (no AA).
            reply.rcode = .refused
            reply.header.authoritative = false
            trace?.notes.append("\(question.name) is outside every zone: REFUSED")
        }
        if scope > 0, let used = usedSubnet(query, settings: settings.ecs) {
            reply.edns?.clientSubnet?.scopePrefix = min(scope, used.maxScope)
        }
        // NOTIMP copies RD only, not CD, as gdnsd and Knot answer (issue 16).
        if reply.rcode == .notImp { reply.header.checkingDisabled = false }
        addNSID(to: &reply, query: query, settings: settings)
        return reply
    }

    // MARK: - names

    /// Where a name leads inside one zone.
    enum NameMatch {
        /// The name exists (possibly as an empty non-terminal).
        case node(Node)
        /// The name does not exist; `*.<closest encloser>` does and stands in for it (RFC 4592 §3.3.1).
        case wildcard(Node, source: DomainName)
        /// The name is at or below a zone cut (NS below the apex): a referral (RFC 1034 §4.3.2 3b).
        case referral(cut: DomainName, ns: RRSet)
        /// Neither the name nor a wildcard at its closest encloser exists.
        case nxDomain
    }

    /// Walks from the apex down to `name`, one label at a time: the first missing name is the
    /// closest encloser's child (RFC 4592 §3.3.1), so empty non-terminals (present in
    /// `zone.nodes`) block wildcards as they must; NS on the way marks a cut. Names one label
    /// below the apex (the common case) cost one hash lookup and no allocation.
    /// Takes the zone by index and reads `catalog.zones[zi].nodes` in place: passing a `Zone`
    /// would copy it (a retain per field) on every query.
    static func lookup(_ name: DomainName, zone zi: Int, catalog: Catalog, type: RRType) -> NameMatch {
        let depth = name.labelCount - catalog.zones[zi].apex.labelCount
        guard depth > 0 else { return .node(catalog.zones[zi].nodes[name] ?? Node()) }
        var level = 1
        while level <= depth {
            let candidate = level == depth ? name : name.dropFirst(depth - level)
            guard let node = catalog.zones[zi].nodes[candidate] else {
                let encloser = name.dropFirst(depth - level + 1)
                if let source = try? encloser.prepending("*"), let wild = catalog.zones[zi].nodes[source] {
                    return .wildcard(wild, source: source)
                }
                return .nxDomain
            }
            // A cut, except that DS at the cut belongs to the parent side (RFC 4035 §3.1.4.1).
            if let ns = node.rrsets[.ns], !(level == depth && type == .ds) {
                return .referral(cut: candidate, ns: ns)
            }
            if level == depth { return .node(node) }
            level += 1
        }
        return .nxDomain
    }

    /// What a node holds for a type.
    enum NodeData {
        case rrset(RRSet, scope: UInt8)
        case cname(target: DomainName, ttl: UInt32, scope: UInt8)
        case noData(scope: UInt8, fallback: Fallback)
    }

    static func data(at node: Node, owner: DomainName, apexSOA: ResourceRecord?, type: RRType,
                     client: ClientAddress, trace: inout Trace?) -> NodeData {
        if let rrset = node.rrsets[type] { return .rrset(rrset, scope: 0) }
        if type == .soa, let soa = apexSOA {
            // The apex SOA, whether or not the compiler also put it in `rrsets`; TTL as configured.
            return .rrset(RRSet(type: .soa, ttl: soa.ttl, rdata: [soa.rdata]), scope: 0)
        }
        // A CNAME answers every type (RFC 1034 §3.6.2); the compiler allows nothing beside it.
        if let cname = node.rrsets[.cname], case .cname(let target)? = cname.rdata.first {
            return .cname(target: target, ttl: cname.ttl, scope: 0)
        }
        guard let steering = node.steering else { return .noData(scope: 0, fallback: .soa) }
        guard let decision = steering.decision(for: type) else {
            // No region has data for this type: the same for every client.
            trace?.notes.append("\(owner) is steered but has no pool with \(type) data")
            return .noData(scope: 0, fallback: steering.fallback)
        }
        let (chosen, scope) = decision.answer(for: client)
        trace?.steered.append(.init(owner: owner, type: type, steering: steering, answer: chosen, scope: scope))
        switch chosen {
        case .records(_, let rrset):
            return .rrset(rrset, scope: scope)
        case .cname(_, let target):
            return .cname(target: target, ttl: steering.ttl, scope: scope)
        case .noData:
            return .noData(scope: scope, fallback: steering.fallback)
        }
    }

    // MARK: - resolution

    /// The zone whose apex is the closest enclosing name (`catalog.zones` is sorted most labels
    /// first). An index rather than a `Zone` so the query path borrows the zone instead of copying it.
    static func zoneIndex(for name: DomainName, in catalog: Catalog) -> Int? {
        catalog.zones.firstIndex { name.isSubdomain(of: $0.apex) }
    }

    /// Fills `reply` for a question inside `catalog.zones[firstZone]`; returns the ECS scope the answer needs.
    static func resolve(_ question: Question, zoneIndex firstZone: Int, client: ClientAddress, catalog: Catalog,
                        reply: inout Message, trace: inout Trace?) -> UInt8 {
        let type = question.type
        if type == .any { return resolveANY(question, zone: firstZone, catalog: catalog, reply: &reply, trace: &trace) }
        var name = question.name
        var zi = firstZone
        var scope: UInt8 = 0
        var hops = 0
        while true {
            let node: Node
            switch lookup(name, zone: zi, catalog: catalog, type: type) {
            case .nxDomain:
                // RFC 2308 §2.1; after a CNAME the RCODE is the last name's (RFC 6604 §2).
                reply.rcode = .nxDomain
                reply.authorities.append(negativeSOA(zi, catalog))
                trace?.notes.append("\(name) does not exist in \(catalog.zones[zi].apex): NXDOMAIN")
                return scope
            case .referral(let cut, let ns):
                // Only the first name can refer; a CNAME into delegated space ends the chain.
                if hops == 0 {
                    reply.header.authoritative = false
                    appendRRSet(ns, owner: cut, to: &reply.authorities)
                    appendGlue(for: ns, catalog: catalog, reply: &reply)
                    trace?.notes.append("\(name) is at or below the zone cut \(cut): referral")
                } else {
                    trace?.notes.append("CNAME target \(name) is delegated (\(cut)): chain ends")
                }
                return scope
            case .node(let n):
                node = n
            case .wildcard(let n, let source):
                node = n
                trace?.notes.append("\(name) synthesized from \(source) (RFC 4592)")
            }
            let apexSOA = type == .soa && name == catalog.zones[zi].apex ? catalog.zones[zi].soa : nil
            switch data(at: node, owner: name, apexSOA: apexSOA, type: type, client: client, trace: &trace) {
            case .rrset(let rrset, let s):
                scope = max(scope, s)
                // Minimal responses, as gdnsd sends them: no additional-section A/AAAA for NS, MX or
                // SRV answers (RFC 1035 §3.3.9 allows it, resolvers do not need it); glue only in
                // referrals, where it is needed.
                if rrset.rotate {
                    // A pool's `order: rotate`: the query's ID picks the rotation.
                    for rdata in rrset.ordered(forQueryID: reply.header.id) {
                        reply.answers.append(ResourceRecord(name: name, ttl: rrset.ttl, rdata: rdata))
                    }
                } else {
                    appendRRSet(rrset, owner: name, to: &reply.answers)
                }
                return scope
            case .cname(let target, let ttl, let s):
                scope = max(scope, s)
                reply.answers.append(ResourceRecord(name: name, ttl: ttl, rdata: .cname(target)))
                if type == .cname { return scope }
                hops += 1
                // Follow the chain while it stays in our zones, at most `maxCNAMEChain` hops
                // (which also ends loops); past that the resolver follows it itself.
                guard hops <= maxCNAMEChain else {
                    trace?.notes.append("CNAME chain longer than \(maxCNAMEChain): stopped")
                    return scope
                }
                guard let next = zoneIndex(for: target, in: catalog) else { return scope }
                name = target
                zi = next
            case .noData(let s, let fallback):
                scope = max(scope, s)
                if fallback == .notimp && hops == 0 {
                    // The policy's choice for this steered name (the seed's TCP example).
                    reply.rcode = .notImp
                    reply.header.authoritative = false
                    trace?.notes.append("\(name) has no \(type) data and its fallback is notimp: NOTIMP")
                } else {
                    reply.authorities.append(negativeSOA(zi, catalog))   // RFC 2308 §2.2 NODATA
                    trace?.notes.append("\(name) has no \(type) data: NODATA")
                }
                return scope
            }
        }
    }

    /// RFC 8482 §4.2: one synthesized HINFO instead of every RRset.
    static func resolveANY(_ question: Question, zone zi: Int, catalog: Catalog, reply: inout Message,
                           trace: inout Trace?) -> UInt8 {
        let node: Node
        switch lookup(question.name, zone: zi, catalog: catalog, type: .any) {
        case .nxDomain:
            reply.rcode = .nxDomain
            reply.authorities.append(negativeSOA(zi, catalog))
            return 0
        case .referral(let cut, let ns):
            reply.header.authoritative = false
            appendRRSet(ns, owner: cut, to: &reply.authorities)
            appendGlue(for: ns, catalog: catalog, reply: &reply)
            return 0
        case .node(let n), .wildcard(let n, _):
            node = n
        }
        let isApex = question.name == catalog.zones[zi].apex
        if node.isEmpty && !isApex {
            reply.authorities.append(negativeSOA(zi, catalog))
            return 0
        }
        reply.answers.append(ResourceRecord(name: question.name, ttl: anyHINFOTTL,
                                            rdata: .hinfo(cpu: Array("RFC8482".utf8), os: [])))
        trace?.notes.append("ANY: minimal RFC 8482 answer")
        return 0
    }

    // MARK: - records

    /// The SOA for negative answers: TTL min(SOA TTL, minimum) (RFC 2308 §3; compiled as `negativeTTL`).
    static func negativeSOA(_ zi: Int, _ catalog: Catalog) -> ResourceRecord {
        ResourceRecord(name: catalog.zones[zi].soa.name, ttl: catalog.zones[zi].negativeTTL, rdata: catalog.zones[zi].soa.rdata)
    }

    static func appendRRSet(_ rrset: RRSet, owner: DomainName, to section: inout [ResourceRecord]) {
        for rdata in rrset.rdata {
            section.append(ResourceRecord(name: owner, ttl: rrset.ttl, rdata: rdata))
        }
    }

    /// Glue for a referral: static A/AAAA of the in-zone NS targets in the additional section
    /// (RFC 1034 §4.3.2 3b). Additional data is dropped first when the reply does not fit, without
    /// TC (`Message.encode`). Steered targets are left out: their addresses would need a scope.
    static func appendGlue(for rrset: RRSet, catalog: Catalog, reply: inout Message) {
        for rdata in rrset.rdata {
            let target: DomainName
            switch rdata {
            case .ns(let t), .mx(_, let t), .srv(_, _, _, let t): target = t
            default: continue
            }
            if reply.additionals.contains(where: { $0.name == target }) { continue }
            guard let zi = zoneIndex(for: target, in: catalog), let node = catalog.zones[zi].nodes[target] else { continue }
            if let a = node.rrsets[.a] { appendRRSet(a, owner: target, to: &reply.additionals) }
            if let aaaa = node.rrsets[.aaaa] { appendRRSet(aaaa, owner: target, to: &reply.additionals) }
        }
    }
}
