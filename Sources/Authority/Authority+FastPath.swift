import DNSWire
import Policy

// The UDP hot path without heap allocation (issue 5).
//
// `Authority.respond` builds a `Message` per query (arrays for the question and every section,
// a copied EDNS); that costs a dozen allocations and most of the engine's instructions. The fast
// path answers the common queries from a plan compiled once per snapshot:
//
// * a hash table of every name of every zone (lowercased wire bytes) -> the plans for a query of
//   that exact name, and for a name *below* it that does not exist (this node is then the
//   closest encloser: NXDOMAIN, a wildcard's synthesized answer, or a referral);
// * a plan per query type: a fixed reply, or a steered decision (the compiled prefix table) with
//   one reply per answer index, or "ask the general engine";
// * replies as templates: rcode, AA and the records of each section, with "owner = the query
//   name" left open so that one template serves every name with the same data.
//
// Exactness by construction: every template is what `Authority.answer` itself returned for a
// representative query while the plan was built (a synthetic query of that name and type; for a
// steered decision, one client per answer index). The fast path only adds what the general path
// derives from the query itself: the header flags, the question as written, OPT/ECS echo with
// the scope from the same table lookup, the size limit. Anything the plan cannot prove the same
// for every query of its class — CNAME chains that continue inside our zones for types without
// their own plan, chains that consult a second steered decision, ANY, AXFR/IXFR, other classes,
// a zone whose empty non-terminals are not all present, ECS disabled with an ECS query — goes to
// `Authority.respond`. Tests/AuthorityTests/FastPathTests.swift compares both paths byte for byte.

extension Authority {
    /// The compiled fast-path plan of one catalog (immutable; shared by every worker).
    public final class FastPath: Sendable {
        // MARK: plan storage (flat arrays of trivial values: no reference counting per query)

        /// One name of a zone: its key in `keys`, and two plan sets.
        struct Entry {
            var hash: UInt32
            var keyStart: Int32
            var keyLength: Int32
            /// Queries for this exact name.
            var exact: PlanSet
            /// Queries for a name below this one whose first missing label is right below it.
            var below: PlanSet
        }

        /// Per-type plans: `planTypes[start..<start+count]` with `plans` alongside; `other` for
        /// every type not listed.
        struct PlanSet {
            var start: Int32
            var count: Int32
            var other: Int32
        }

        /// A plan value: >= 0 is a template index; `general` asks `Authority.respond`; <= -2 is a
        /// steered plan index `-(value + 2)`.
        static let general: Int32 = -1

        /// A steered decision: the table, and a template per answer index at `replyStart`.
        struct Steered: Sendable {
            var table: DecisionTable
            var replyStart: Int32
            var replyCount: Int32
        }

        /// A reply: header fields and the records of the three sections, contiguous in `records`.
        struct Template: Hashable {
            var rcode: RCode
            var authoritative: Bool
            var start: Int32
            var answers: Int32
            var authorities: Int32
            var additionals: Int32
        }

        /// A record of a template. With `ownerIsQName` the owner is the query name as written.
        struct TemplateRecord: Hashable {
            var ownerIsQName: Bool
            var record: ResourceRecord
        }

        let settings: ServerSettings
        let entries: [Entry]
        let slots: [Int32]
        let slotMask: Int
        let keys: [UInt8]
        let planTypes: [UInt16]
        let plans: [Int32]
        let steered: [Steered]
        let steeredReplies: [Int32]
        let templates: [Template]
        let records: [TemplateRecord]
        /// Out of every zone (no suffix of the name is a name we hold).
        let refusedTemplate: Int32

        /// What the plan covers, for reports and tests.
        public struct Statistics: Sendable, Equatable {
            public var names = 0
            public var templates = 0
            public var records = 0
            public var steeredPlans = 0
            public var generalPlans = 0
            public var unsafeZones = 0
        }
        public let statistics: Statistics

        // MARK: building

        /// Compiles the plan for `catalog`: runs the general engine once per (name, type class)
        /// and, for steered decisions, once per answer index.
        public init(catalog: Catalog) {
            var b = Builder(catalog: catalog)
            b.build()
            settings = catalog.settings
            entries = b.entries
            keys = b.keys
            planTypes = b.planTypes
            plans = b.plans
            steered = b.steered
            steeredReplies = b.steeredReplies
            templates = b.templates
            records = b.records
            refusedTemplate = b.refusedTemplate
            var capacity = 16
            while capacity < b.entries.count * 2 { capacity <<= 1 }
            var slots = [Int32](repeating: -1, count: capacity)
            for (i, e) in b.entries.enumerated() {
                var s = Int(e.hash) & (capacity - 1)
                while slots[s] != -1 { s = (s + 1) & (capacity - 1) }
                slots[s] = Int32(i)
            }
            self.slots = slots
            slotMask = capacity - 1
            var stats = b.stats
            stats.names = b.entries.count
            stats.templates = b.templates.count
            stats.records = b.records.count
            stats.steeredPlans = b.steered.count
            statistics = stats
        }

        /// FNV-1a over the lowercased bytes `p[from..<to]`.
        @inline(__always)
        static func hash(_ p: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> UInt32 {
            var h: UInt32 = 2_166_136_261
            var i = from
            while i < to {
                let c = p[i]
                h = (h ^ UInt32((c >= 0x41 && c <= 0x5A) ? c | 0x20 : c)) &* 16_777_619
                i += 1
            }
            return h ^ (h >> 15)
        }

        /// The entry holding the name `p[from..<to]` (wire labels, no root byte), case-insensitively.
        @inline(__always)
        func find(_ p: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
            let h = FastPath.hash(p, from: from, to: to)
            let length = to - from
            return slots.withUnsafeBufferPointer { slots in
                entries.withUnsafeBufferPointer { entries in
                    keys.withUnsafeBufferPointer { keys in
                        var s = Int(h) & slotMask
                        while true {
                            let index = Int(slots[s])
                            if index < 0 { return nil }
                            let e = entries[index]
                            if e.hash == h && Int(e.keyLength) == length {
                                let k = Int(e.keyStart)
                                var j = 0
                                while j < length {
                                    let c = p[from + j]
                                    if ((c >= 0x41 && c <= 0x5A) ? c | 0x20 : c) != keys[k + j] { break }
                                    j += 1
                                }
                                if j == length { return index }
                            }
                            s = (s + 1) & slotMask
                        }
                    }
                }
            }
        }

        /// The plan of `set` for `type`.
        @inline(__always)
        func plan(_ set: PlanSet, type: UInt16) -> Int32 {
            var i = Int(set.start)
            let end = i + Int(set.count)
            while i < end {
                if planTypes[i] == type { return plans[i] }
                i += 1
            }
            return set.other
        }

        /// Where a query name leads: the plan for its type, or nil for the general engine.
        /// `p[12..<end]` is the question name's labels (the caller checked them).
        func plan(for p: UnsafeBufferPointer<UInt8>, nameEnd end: Int, type: UInt16) -> Int32 {
            if let e = find(p, from: 12, to: end) { return plan(entries[e].exact, type: type) }
            // The closest encloser: the longest suffix we hold (empty non-terminals included).
            var at = 12
            while at < end {
                at += 1 + Int(p[at])
                if let e = find(p, from: at, to: end) { return plan(entries[e].below, type: type) }
            }
            return refusedTemplate
        }
    }

    /// What the fast path did with a datagram.
    public enum FastOutcome: Sendable, Equatable {
        /// The reply is in the scratch's `output`.
        case reply
        /// No reply (too short, or QR=1).
        case drop
        /// Ask `Authority.respond` (the bytes are in the scratch's `input`).
        case general
    }

    /// A worker's reusable buffers: with these warmed up, a fast-path query allocates nothing.
    /// One per thread; never shared.
    public struct FastPathScratch {
        public var query = Query()
        /// The datagram (copied in by the caller, or by `respond(to:...)`).
        public var input: [UInt8] = []
        /// The reply after `.reply`.
        public var output: [UInt8] = []
        var answers: [ResourceRecord] = []
        var authorities: [ResourceRecord] = []
        var additionals: [ResourceRecord] = []

        public init() {
            input.reserveCapacity(4096)
            output.reserveCapacity(65536)
            answers.reserveCapacity(16)
            authorities.reserveCapacity(16)
            additionals.reserveCapacity(16)
        }
    }
}

extension Authority.FastPath {
    /// Answers the UDP datagram in `scratch.input` from `source`, writing the reply into
    /// `scratch.output`; `.general` when `Authority.respond` must answer it instead.
    public func respond(source: ClientAddress, scratch: inout Authority.FastPathScratch) -> Authority.FastOutcome {
        switch Query.parse(scratch.input, into: &scratch.query) {
        case .success:
            break
        case .failure(let error):
            switch error {
            case .tooShort, .notAQuery: return .drop
            default: return .general      // FORMERR / NOTIMP / BADVERS: the general path builds them
            }
        }
        let question = scratch.query.question
        guard question.rrClass == .in else { return .general }
        let type = question.type
        guard type != .any, type != .axfr, type != .ixfr else { return .general }
        let used = Authority.usedSubnet(scratch.query, settings: settings.ecs)
        // ECS off: the general path strips the option from the echo; encodeReply would echo it.
        guard settings.ecs.enabled || scratch.query.edns?.clientSubnet == nil else { return .general }

        // The question name straight from the packet (parse succeeded, so it is well formed; a
        // compressed question name is legal but odd: general path).
        let plan: Int32 = scratch.input.withUnsafeBufferPointer { p -> Int32 in
            var at = 12
            while at < p.count {
                let n = Int(p[at])
                if n == 0 { return self.plan(for: p, nameEnd: at, type: type.rawValue) }
                guard n <= 63 else { return Authority.FastPath.general }
                at += 1 + n
            }
            return Authority.FastPath.general
        }
        var template: Int32
        var scope: UInt8 = 0
        if plan >= 0 {
            template = plan
        } else if plan == Authority.FastPath.general {
            return .general
        } else {
            let s = steered[Int(-(plan + 2))]
            let client: ClientAddress
            if let used { client = used.client } else {
                client = Authority.clientAddress(for: scratch.query, source: source, settings: settings.ecs)
            }
            let hit = s.table.lookup(client)
            guard hit.value >= 0, hit.value < Int(s.replyCount) else { return .general }
            template = steeredReplies[Int(s.replyStart) + hit.value]
            guard template >= 0 else { return .general }
            if hit.scope > 0, let used { scope = min(hit.scope, used.maxScope) }
        }
        let t = templates[Int(template)]
        let qname = question.name
        scratch.answers.removeAll(keepingCapacity: true)
        scratch.authorities.removeAll(keepingCapacity: true)
        scratch.additionals.removeAll(keepingCapacity: true)
        var i = Int(t.start)
        for k in 0..<3 {
            let n = Int(k == 0 ? t.answers : (k == 1 ? t.authorities : t.additionals))
            for _ in 0..<n {
                let r = records[i]
                let rr = r.ownerIsQName ? ResourceRecord(name: qname, ttl: r.record.ttl, rdata: r.record.rdata,
                                                          rrClass: r.record.rrClass) : r.record
                switch k {
                case 0: scratch.answers.append(rr)
                case 1: scratch.authorities.append(rr)
                default: scratch.additionals.append(rr)
                }
                i += 1
            }
        }
        scratch.query.encodeReply(rcode: t.rcode, answers: scratch.answers, authorities: scratch.authorities,
                                  additionals: scratch.additionals, scopePrefix: scope,
                                  payloadSize: settings.udpPayloadSize, authoritative: t.authoritative,
                                  maxSize: Authority.sizeLimit(for: scratch.query, transport: .udp, settings: settings),
                                  into: &scratch.output)
        return .reply
    }

    /// `respond(source:scratch:)` for a datagram given as raw bytes: copies it into the scratch.
    public func respond(to bytes: UnsafeRawBufferPointer, source: ClientAddress,
                        scratch: inout Authority.FastPathScratch) -> Authority.FastOutcome {
        scratch.input.removeAll(keepingCapacity: true)
        scratch.input.append(contentsOf: bytes)
        return respond(source: source, scratch: &scratch)
    }
}

// MARK: - building the plan

extension Authority.FastPath {
    typealias Entry = Authority.FastPath.Entry

    struct Builder {
        let catalog: Catalog
        var entries: [Entry] = []
        var keys: [UInt8] = []
        var planTypes: [UInt16] = []
        var plans: [Int32] = []
        var steered: [Steered] = []
        var steeredReplies: [Int32] = []
        var templates: [Template] = []
        var records: [TemplateRecord] = []
        var templateIndex: [TemplateKey: Int32] = [:]
        var refusedTemplate: Int32 = -1
        var stats = Statistics()

        struct TemplateKey: Hashable {
            var rcode: RCode
            var authoritative: Bool
            var sections: [[TemplateRecord]]
        }

        /// A type no node holds and that no code path singles out: stands for "every other type".
        static let otherTypes: [RRType] = [RRType(rawValue: 65280), RRType(rawValue: 65281), RRType(rawValue: 65282)]

        init(catalog: Catalog) { self.catalog = catalog }

        mutating func build() {
            // Out of every zone: REFUSED without AA (see `Authority.answer`).
            refusedTemplate = intern(rcode: .refused, authoritative: false, sections: [[], [], []])
            var seen = Set<DomainName>()
            for zi in catalog.zones.indices {
                let zone = catalog.zones[zi]
                let apex = zone.apex.lowercased()
                // Names of this zone that the engine resolves in it (a more specific zone wins).
                var names: [DomainName] = []
                if Authority.zoneIndex(for: apex, in: catalog) == zi { names.append(apex) }
                for key in zone.nodes.keys {
                    let name = key.lowercased()
                    if name == apex || !name.isSubdomain(of: apex) { continue }
                    if Authority.zoneIndex(for: name, in: catalog) == zi { names.append(name) }
                }
                // The walk finds the closest encloser as the longest suffix we hold: that needs
                // every empty non-terminal present (Zone.nodes promises it; checked, not assumed).
                var safe = true
                for name in names where name != apex {
                    var parent = name.parent()
                    while let p = parent, p != apex, p.isSubdomain(of: apex) {
                        if zone.nodes[p] == nil { safe = false; break }
                        parent = p.parent()
                    }
                    if !safe { break }
                }
                if !safe { stats.unsafeZones += 1 }
                for name in names where !seen.contains(name) {
                    seen.insert(name)
                    addEntry(name, zone: zi, safe: safe)
                }
            }
        }

        mutating func addEntry(_ name: DomainName, zone zi: Int, safe: Bool) {
            let bytes = Array(name.wireBytes.dropLast())
            let keyStart = Int32(keys.count)
            keys.append(contentsOf: bytes)
            let h = bytes.withUnsafeBufferPointer { Authority.FastPath.hash($0, from: 0, to: $0.count) }
            let general = PlanSet(start: 0, count: 0, other: Authority.FastPath.general)
            var exact = general, below = general
            if safe {
                let node = catalog.zones[zi].nodes[name] ?? Node()
                exact = planSet(for: name, node: node, zone: zi)
                below = belowPlanSet(under: name, zone: zi)
            }
            entries.append(Entry(hash: h, keyStart: keyStart, keyLength: Int32(bytes.count), exact: exact, below: below))
        }

        /// Plans for queries of `name` itself.
        mutating func planSet(for name: DomainName, node: Node, zone zi: Int) -> PlanSet {
            var types: [RRType] = [.a, .aaaa, .cname]
            for t in node.rrsets.keys.sorted(by: { $0.rawValue < $1.rawValue }) where !types.contains(t) { types.append(t) }
            if name == catalog.zones[zi].apex, !types.contains(.soa) { types.append(.soa) }
            if node.rrsets[.ns] != nil, !types.contains(.ds) { types.append(.ds) }
            types.removeAll { $0 == .any || $0 == .axfr || $0 == .ixfr }
            return planSet(qname: name, types: types)
        }

        /// Plans for names below `name` that do not exist, `name` being their closest encloser:
        /// computed on a synthetic child (a label holding byte 0). Without a wildcard child the
        /// answer (NXDOMAIN, or a referral from a cut at or above `name`) is the same for every type.
        mutating func belowPlanSet(under name: DomainName, zone zi: Int) -> PlanSet {
            let general = PlanSet(start: 0, count: 0, other: Authority.FastPath.general)
            guard let child = try? name.prepending("\\000"), catalog.zones[zi].nodes[child] == nil,
                  Authority.zoneIndex(for: child, in: catalog) == zi else { return general }
            let wildcard = (try? name.prepending("*")).flatMap { catalog.zones[zi].nodes[$0] }
            if let wild = wildcard {
                var types: [RRType] = [.a, .aaaa, .cname]
                for t in wild.rrsets.keys.sorted(by: { $0.rawValue < $1.rawValue }) where !types.contains(t) { types.append(t) }
                types.append(.soa)
                types.append(.ds)
                types.removeAll { $0 == .any || $0 == .axfr || $0 == .ixfr }
                return planSet(qname: child, types: types)
            }
            let a = plan(qname: child, type: .a)
            let other = plan(qname: child, type: Builder.otherTypes[0])
            guard a == other, a >= 0 else { return general }
            return PlanSet(start: 0, count: 0, other: a)
        }

        mutating func planSet(qname: DomainName, types: [RRType]) -> PlanSet {
            let start = Int32(planTypes.count)
            var computed: [(UInt16, Int32)] = []
            for t in types { computed.append((t.rawValue, plan(qname: qname, type: t))) }
            // "Every other type": valid only when two such types give the same plan and neither
            // reply leads on inside our zones (where the next name's data depends on the type).
            let o1 = plan(qname: qname, type: Builder.otherTypes[0], forOther: true)
            let o2 = plan(qname: qname, type: Builder.otherTypes[1], forOther: true)
            let other = o1 == o2 && o1 >= 0 ? o1 : Authority.FastPath.general
            for (t, p) in computed {
                planTypes.append(t)
                plans.append(p)
                if p == Authority.FastPath.general { stats.generalPlans += 1 }
            }
            return PlanSet(start: start, count: Int32(planTypes.count) - start, other: other)
        }

        /// The plan for a query of (`qname`, `type`): a template, a steered plan, or general.
        /// With `forOther`, a steered plan for a type standing for many is refused (its replies
        /// could differ per type after a CNAME) unless every reply stays out of our zones.
        mutating func plan(qname: DomainName, type: RRType, forOther: Bool = false) -> Int32 {
            let query = Query(header: Header(id: 0, recursionDesired: false), question: Question(name: qname, type: type))
            var trace: Authority.Trace? = Authority.Trace()
            let first = Authority.answer(query, client: .v4(0), catalog: catalog, trace: &trace)
            let steps = trace?.steered ?? []
            if steps.isEmpty {
                if forOther && leadsIntoZones(first) { return Authority.FastPath.general }
                return template(first, qname: qname)
            }
            let decisionStep = steps[0]
            guard let decision = decisionStep.steering.decision(for: decisionStep.type) else { return Authority.FastPath.general }
            var replies: [Int32] = []
            for k in decision.answers.indices {
                guard let client = Builder.representative(of: k, in: decision.table) else {
                    replies.append(Authority.FastPath.general)   // never chosen by the table
                    continue
                }
                var t: Authority.Trace? = Authority.Trace()
                let m = Authority.answer(query, client: client, catalog: catalog, trace: &t)
                let s = t?.steered ?? []
                guard s.count == 1, s[0].owner == decisionStep.owner, s[0].type == decisionStep.type,
                      s[0].answer == decision.answers[k], !(forOther && leadsIntoZones(m)) else {
                    replies.append(Authority.FastPath.general)
                    continue
                }
                replies.append(template(m, qname: qname))
            }
            if replies.allSatisfy({ $0 == Authority.FastPath.general }) { return Authority.FastPath.general }
            let index = Int32(steered.count)
            steered.append(Steered(table: decision.table, replyStart: Int32(steeredReplies.count), replyCount: Int32(replies.count)))
            steeredReplies.append(contentsOf: replies)
            return -(index + 2)
        }

        /// Whether a reply holds a CNAME whose target is in one of our zones (the chain went on).
        func leadsIntoZones(_ m: Message) -> Bool {
            m.answers.contains { rr in
                if case .cname(let target) = rr.rdata { return Authority.zoneIndex(for: target, in: catalog) != nil }
                return false
            }
        }

        /// A client the table maps to `value`: the first address of a run with that value.
        static func representative(of value: Int, in table: DecisionTable) -> ClientAddress? {
            let v = Int32(truncatingIfNeeded: value)
            if let i = table.v4.values.firstIndex(of: v) { return .v4(table.v4.starts[i]) }
            if let i = table.v6.values.firstIndex(of: v) { return .v6(table.v6.starts[i]) }
            return nil
        }

        mutating func template(_ m: Message, qname: DomainName) -> Int32 {
            func section(_ rrs: [ResourceRecord]) -> [TemplateRecord] {
                rrs.map { rr in
                    if rr.name == qname {
                        return TemplateRecord(ownerIsQName: true, record: ResourceRecord(name: .root, ttl: rr.ttl, rdata: rr.rdata, rrClass: rr.rrClass))
                    }
                    return TemplateRecord(ownerIsQName: false, record: rr)
                }
            }
            return intern(rcode: m.rcode, authoritative: m.header.authoritative,
                          sections: [section(m.answers), section(m.authorities), section(m.additionals)])
        }

        mutating func intern(rcode: RCode, authoritative: Bool, sections: [[TemplateRecord]]) -> Int32 {
            let key = TemplateKey(rcode: rcode, authoritative: authoritative, sections: sections)
            if let i = templateIndex[key] { return i }
            let i = Int32(templates.count)
            templates.append(Template(rcode: rcode, authoritative: authoritative, start: Int32(records.count),
                                      answers: Int32(sections[0].count), authorities: Int32(sections[1].count),
                                      additionals: Int32(sections[2].count)))
            for s in sections { records.append(contentsOf: s) }
            templateIndex[key] = i
            return i
        }
    }
}
