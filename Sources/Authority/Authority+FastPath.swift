import DNSWire
import Policy

// The UDP hot path without heap allocation (issue 5).
//
// `Authority.respond` builds a `Message` per query (arrays for the question and every section, a
// copied EDNS) and encodes it with name compression: a dozen allocations and ~13k instructions.
// The fast path answers the common queries from a plan compiled once per snapshot:
//
// * a hash table of every name of every zone (lowercased wire bytes) -> the plans for a query of
//   that exact name, and for a missing name *below* it (this node is then the closest encloser:
//   NXDOMAIN, a wildcard's synthesized answer, or a referral);
// * per query type a plan: a fixed reply, a steered decision (the compiled prefix table) with one
//   reply per answer index, or "ask the general engine";
// * each reply twice: as a template (rcode, AA, records with "owner = the query name" left open),
//   and as pre-encoded bytes of its three sections, compressed exactly as the encoder compresses
//   them after that question, with the compression pointers that depend on the query name's length
//   listed for patching.
//
// Three tiers per datagram: **express** reads the packet itself (only the plain shapes: one
// question, no other records than one OPT, at most one valid ECS option), looks the plan up and
// writes header + the client's question + pre-encoded sections + OPT straight into the reply
// buffer; **templated** (anything express declines that `Query.parse` accepts) parses into a reused
// `Query` and encodes the template's records with `Query.encodeReply`; **general** is
// `Authority.respond`.
//
// Exactness by construction: every template is what `Authority.answer` itself returned for a
// representative query while the plan was built (a query of that name and type; for a steered
// decision one client per answer index); every body is what the wire encoder wrote for it. The fast
// path adds only what the general path derives from the query itself: header flags, the question as
// written, OPT/ECS echo with the scope of the same table lookup, the size limit. What the plan
// cannot prove the same for every query of its class goes to the general engine: CNAME chains that
// continue inside our zones for types without their own plan, chains consulting a second steered
// decision, ANY, AXFR/IXFR, other classes, zones whose empty non-terminals are not all present, ECS
// disabled with an ECS query, replies that need truncation (templated tier), FORMERR/NOTIMP/BADVERS.
// Tests/AuthorityTests/FastPathTests.swift compares the tiers with `Authority.respond` byte for byte.

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

        /// Per-type plans: `planTypes[start..<start+count]` with `plans` and `planBodies`
        /// alongside; `other` (and its body) for every type not listed.
        struct PlanSet {
            var start: Int32
            var count: Int32
            var other: Int32
            var otherBody: Int32

            static let general = PlanSet(start: 0, count: 0, other: FastPath.general, otherBody: -1)
        }

        /// A plan value: >= 0 is a template index; `general` asks `Authority.respond`; <= -2 is a
        /// steered plan index `-(value + 2)`.
        static let general: Int32 = -1

        /// A steered decision: the table, and a template (and body) per answer index at `replyStart`.
        struct Steered: Sendable {
            var table: DecisionTable
            var replyStart: Int32
            var replyCount: Int32
            /// Offset of this table's IPv4 first-level index in `v4Indexes` (-1: none).
            var v4Index: Int32 = -1
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

        /// A template's three sections as the encoder writes them after a question of
        /// `questionWire` bytes (name with root byte); `bodyBytes[start..<start+length]`.
        struct Body {
            var start: Int32
            var length: Int32
            /// Offsets (in the body) of compression pointers that move with the question's length.
            var fixStart: Int32
            var fixCount: Int32
            /// For names below an encloser: `[len][label]...` in `bodyLabels`; a query whose label
            /// right above the encloser is one of these would compress differently (templated tier).
            var labelsStart: Int32
            var labelsLength: Int32
            /// Header flags of the reply besides QR/RD/CD: AA and RCODE.
            var flags: UInt16
            var answers: UInt16
            var authorities: UInt16
            var additionals: UInt16
            /// Labels the body writes uncompressed (each takes a slot of the encoder's 64-entry table).
            var literalLabels: Int32
            var questionWire: Int32
        }

        let settings: ServerSettings
        let entries: [Entry]
        let slots: [Int32]
        let slotMask: Int
        let keys: [UInt8]
        let planTypes: [UInt16]
        let plans: [Int32]
        let planBodies: [Int32]
        let steered: [Steered]
        let steeredReplies: [Int32]
        let steeredBodies: [Int32]
        /// Per steered reply (parallel to `steeredReplies`): how many rotations it has (0 or 1:
        /// a fixed order) and where they start in `rotationReplies`/`rotationBodies`; a pool's
        /// `order: rotate` answers rotation `query ID % count` (`RRSet.ordered(forQueryID:)`).
        let rotationCounts: [Int32]
        let rotationStarts: [Int32]
        let rotationReplies: [Int32]
        let rotationBodies: [Int32]
        let templates: [Template]
        let records: [TemplateRecord]
        let bodies: [Body]
        let bodyBytes: [UInt8]
        let bodyFixups: [UInt16]
        let bodyLabels: [UInt8]
        /// Out of every zone (no suffix of the name is a name we hold).
        let refused: PlanSet
        /// First-level indexes of large IPv4 decision tables: for each /16 `t`, the run holding
        /// `t << 16` (65,536 entries + the last run), so a lookup binary-searches only the runs of
        /// one /16 instead of the whole table. Shared by every decision with the same table.
        let v4Indexes: [UInt32]
        /// Tables smaller than this are searched whole; at most `maxIndexes` indexes (256 KiB each).
        static let indexThreshold = 4096
        static let maxIndexes = 16

        /// What the plan covers, for reports and tests.
        public struct Statistics: Sendable, Equatable {
            public var names = 0
            public var templates = 0
            public var records = 0
            public var bodies = 0
            public var bodyBytes = 0
            public var steeredPlans = 0
            public var generalPlans = 0
            public var unsafeZones = 0
            public var v4Indexes = 0
            /// Names whose plans are shared with an earlier name of the same shape.
            public var sharedPlanSets = 0
        }
        public let statistics: Statistics

        // MARK: building

        /// Compiles the plan for `catalog`: runs the general engine once per (name, type class)
        /// and, for steered decisions, once per answer index; encodes every distinct reply once.
        public init(catalog: Catalog) {
            var b = Builder(catalog: catalog)
            b.build()
            settings = catalog.settings
            entries = b.entries
            keys = b.keys
            planTypes = b.planTypes
            plans = b.plans
            planBodies = b.planBodies
            steeredReplies = b.steeredReplies
            steeredBodies = b.steeredBodies
            rotationCounts = b.rotationCounts
            rotationStarts = b.rotationStarts
            rotationReplies = b.rotationReplies
            rotationBodies = b.rotationBodies
            templates = b.templates
            records = b.records
            bodies = b.bodies
            bodyBytes = b.bodyBytes
            bodyFixups = b.bodyFixups
            bodyLabels = b.bodyLabels
            refused = b.refused
            // First-level indexes for the large IPv4 tables (deduplicated by storage).
            var indexes: [UInt32] = []
            var byStorage: [UInt: Int32] = [:]
            var steered = b.steered
            for i in steered.indices {
                let starts = steered[i].table.v4.starts
                guard starts.count >= FastPath.indexThreshold else { continue }
                let key = starts.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
                if let at = byStorage[key] { steered[i].v4Index = at; continue }
                guard byStorage.count < FastPath.maxIndexes else { continue }
                let at = Int32(indexes.count)
                var j = 0
                for t in 0..<65536 {
                    let address = UInt32(t) << 16
                    while j + 1 < starts.count && starts[j + 1] <= address { j += 1 }
                    indexes.append(UInt32(j))
                }
                indexes.append(UInt32(starts.count - 1))
                byStorage[key] = at
                steered[i].v4Index = at
            }
            self.steered = steered
            v4Indexes = indexes
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
            stats.bodies = b.bodies.count
            stats.bodyBytes = b.bodyBytes.count
            stats.steeredPlans = b.steered.count
            stats.v4Indexes = byStorage.count
            statistics = stats
        }

        // MARK: lookups

        @inline(__always) static func lower(_ c: UInt8) -> UInt8 { (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c }

        /// Eight name bytes at once with ASCII A-Z lowered (RFC 4343: only those fold); bytes
        /// >= 0x80 are left alone.
        @inline(__always)
        static func lowerWord(_ x: UInt64) -> UInt64 {
            let h7 = x & 0x7F7F_7F7F_7F7F_7F7F
            let atLeastA = h7 &+ 0x3F3F_3F3F_3F3F_3F3F      // high bit: byte >= 0x41
            let aboveZ = h7 &+ 0x2525_2525_2525_2525        // high bit: byte > 0x5A
            let upper = atLeastA & ~aboveZ & ~x & 0x8080_8080_8080_8080
            return x | (upper >> 2)
        }

        /// The lowered word of `p` at `w`, zero past `to` (the caller guarantees `w < to <= p.count`).
        @inline(__always)
        static func word(_ p: UnsafeRawBufferPointer, at w: Int, to: Int) -> UInt64 {
            let remaining = to - w
            if remaining >= 8 {
                return lowerWord(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: w, as: UInt64.self)))
            }
            var x: UInt64 = 0
            if p.count - w >= 8 {
                // First byte lowest, then cut at `to`.
                x = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: w, as: UInt64.self))
                x &= (1 << (UInt64(remaining) &* 8)) &- 1
            } else {
                var k = 0
                while k < remaining { x |= UInt64(p[w + k]) << (UInt64(k) &* 8); k += 1 }
            }
            return lowerWord(x)
        }

        /// A hash of the lowercased name `p[from..<to]`, a word at a time.
        @inline(__always)
        static func hash(_ p: UnsafeRawBufferPointer, from: Int, to: Int) -> UInt32 {
            var h: UInt64 = UInt64(truncatingIfNeeded: to - from) &* 0x9E37_79B9_7F4A_7C15
            var w = from
            while w < to {
                h = (h ^ word(p, at: w, to: to)) &* 0xFF51_AFD7_ED55_8CCD
                h ^= h >> 29
                w += 8
            }
            return UInt32(truncatingIfNeeded: h ^ (h >> 32))
        }

        /// The entry holding the name `p[from..<to]` (wire labels, no root byte), case-insensitively;
        /// -1 when none. The caller guarantees `0 <= from <= to <= p.count`. Keys are stored
        /// lowercased, zero-padded to whole words, at word-aligned offsets.
        @inline(__always)
        func find(_ p: UnsafeRawBufferPointer, from: Int, to: Int) -> Int {
            let h = FastPath.hash(p, from: from, to: to)
            let length = to - from
            return slots.withUnsafeBufferPointer { slots in
                entries.withUnsafeBufferPointer { entries in
                    keys.withUnsafeBytes { keys in
                        var s = Int(h) & slotMask
                        while true {
                            let index = Int(slots[s])
                            if index < 0 { return -1 }
                            let e = entries[index]
                            if e.hash == h && Int(e.keyLength) == length {
                                let k = Int(e.keyStart)
                                var w = 0
                                while w < length,
                                      FastPath.word(p, at: from + w, to: to) == UInt64(littleEndian: keys.loadUnaligned(fromByteOffset: k + w, as: UInt64.self)) {
                                    w += 8
                                }
                                if w >= length { return index }
                            }
                            s = (s + 1) & slotMask
                        }
                    }
                }
            }
        }

        /// `s.table.lookup(client)`, through the first-level index for IPv4 when the table has one.
        @inline(__always)
        func decide(_ s: Steered, _ client: ClientAddress) -> (value: Int, scope: UInt8) {
            guard case .v4(let a) = client, s.v4Index >= 0 else { return s.table.lookup(client) }
            let base = Int(s.v4Index) + Int(a >> 16)
            let values = s.table.v4.values
            return s.table.v4.starts.withUnsafeBufferPointer { starts -> (value: Int, scope: UInt8) in
                var lo = Int(v4Indexes[base])
                var hi = Int(v4Indexes[base + 1]) + 1
                guard lo >= 0, hi <= starts.count, lo < hi, values.count == starts.count else { return s.table.lookup(client) }
                // Last run whose start <= a (starts[lo] <= a by construction of the index).
                while hi - lo > 1 {
                    let mid = (lo + hi) >> 1
                    if starts[mid] <= a { lo = mid } else { hi = mid }
                }
                // The scope exactly as `PrefixMap.lookup` computes it.
                var scope = 0
                let first = starts[lo]
                if first > 0 { scope = max(scope, (a ^ (first &- 1)).leadingZeroBitCount + 1) }
                if lo + 1 < starts.count { scope = max(scope, (a ^ starts[lo + 1]).leadingZeroBitCount + 1) }
                return (Int(values[lo]), UInt8(truncatingIfNeeded: min(scope, 32)))
            }
        }

        /// Where a query name leads.
        struct Match {
            var plan: Int32
            var body: Int32
            /// For a name below its closest encloser: where the label right above the encloser
            /// starts (its length byte); -1 for an exact match.
            var aboveEncloser: Int
        }

        /// The plan for `type` in `set` (and its body).
        @inline(__always)
        func lookup(_ set: PlanSet, type: UInt16, aboveEncloser: Int) -> Match {
            var i = Int(set.start)
            let end = i + Int(set.count)
            while i < end {
                if planTypes[i] == type { return Match(plan: plans[i], body: planBodies[i], aboveEncloser: aboveEncloser) }
                i += 1
            }
            return Match(plan: set.other, body: set.otherBody, aboveEncloser: aboveEncloser)
        }

        /// The plan for the question name `p[12..<end]` (uncompressed labels the caller checked).
        @inline(__always)
        func match(_ p: UnsafeRawBufferPointer, nameEnd end: Int, type: UInt16) -> Match {
            let e = find(p, from: 12, to: end)
            if e >= 0 { return lookup(entries[e].exact, type: type, aboveEncloser: -1) }
            // The closest encloser: the longest suffix we hold (empty non-terminals included).
            var at = 12
            while at < end {
                let label = at
                at += 1 + Int(p[at])
                let s = find(p, from: at, to: end)
                if s >= 0 { return lookup(entries[s].below, type: type, aboveEncloser: label) }
            }
            return lookup(refused, type: type, aboveEncloser: -1)
        }
    }

    /// A worker's reusable buffers: with these warmed up, a fast-path query allocates nothing.
    /// One per thread; never shared.
    public struct FastPathScratch {
        var query = Query()
        /// The datagram, for the templated tier and the general engine.
        public var input: [UInt8] = []
        var output: [UInt8] = []
        var answers: [ResourceRecord] = []
        var authorities: [ResourceRecord] = []
        var additionals: [ResourceRecord] = []
        /// Where a stage-limited run (bench-engine) leaves its result.
        public var probe = 0
        /// Which tier answered the last datagram (for tests and bench-engine).
        public var lastTier = Tier.general
        /// The last datagram carried a valid server cookie of ours (express tier; the general
        /// engine reports its own). The Server exempts such clients from its reply limits.
        public var validCookie = false

        public enum Tier: Sendable, Equatable { case express, templated, general, drop }

        public init() {
            input.reserveCapacity(4096)
            output.reserveCapacity(65536)
            answers.reserveCapacity(16)
            authorities.reserveCapacity(16)
            additionals.reserveCapacity(16)
        }
    }
}

// MARK: - answering

extension Authority.FastPath {
    /// Result of `respond`: the reply length written to `out` (> 0), or one of these.
    public static let drop = 0
    public static let askGeneral = -1

    /// Answers one UDP datagram from `source` into `out`. Returns the reply's length, `drop` (0:
    /// no reply at all), or `askGeneral` (-1: `Authority.respond` must answer; the datagram is in
    /// `scratch.input`). Allocates nothing once `scratch` is warm.
    /// With `cookies`, a query's client cookie is answered with a server cookie (Authority+Cookies.swift).
    public func respond(to datagram: UnsafeRawBufferPointer, source: ClientAddress, into out: UnsafeMutableRawBufferPointer,
                        scratch: inout Authority.FastPathScratch, cookies: Authority.Cookies? = nil) -> Int {
        respond(to: datagram, source: source, into: out, scratch: &scratch, through: .encode, express: true, cookies: cookies)
    }

    /// The steps of `respond`, for cost measurements (bench-engine): each includes those before.
    public enum Stage: Int, Sendable, CaseIterable {
        /// Reading the packet (express: in place; templated: `Query.parse(_:into:)`).
        case parse
        /// The client: ECS (cut to the honoured prefix) or the packet source.
        case client
        /// The name's plan (hash table, closest encloser) and the steered decision's table lookup.
        case lookup
        /// The reply: the body and its fit (express), the template's records (templated).
        case select
        /// Writing the reply.
        case encode
    }

    /// `respond` stopped after `stage` (a stopped run returns `drop`), optionally without the
    /// express tier. For bench-engine and tests.
    @inline(never)
    public func respond(to datagram: UnsafeRawBufferPointer, source: ClientAddress, into out: UnsafeMutableRawBufferPointer,
                        scratch: inout Authority.FastPathScratch, through stage: Stage, express: Bool,
                        cookies: Authority.Cookies? = nil) -> Int {
        scratch.validCookie = false
        if express {
            let n = self.express(datagram, source: source, into: out, probe: &scratch.probe, through: stage,
                                 cookies: cookies, validCookie: &scratch.validCookie)
            if n >= 0 {
                scratch.lastTier = .express
                return n
            }
        }
        scratch.input.removeAll(keepingCapacity: true)
        scratch.input.append(contentsOf: datagram)
        switch templated(source: source, scratch: &scratch, through: stage) {
        case .reply:
            scratch.lastTier = .templated
            if stage != .encode { return Authority.FastPath.drop }
            return scratch.output.withUnsafeBytes { reply in
                guard reply.count <= out.count, let base = reply.baseAddress else { return Authority.FastPath.drop }
                out.copyMemory(from: UnsafeRawBufferPointer(start: base, count: reply.count))
                return reply.count
            }
        case .drop:
            scratch.lastTier = .drop
            return Authority.FastPath.drop
        case .general:
            scratch.lastTier = .general
            return Authority.FastPath.askGeneral
        }
    }

    // MARK: express tier

    /// The express tier: -1 when it declines (the other tiers decide), else the reply length
    /// (0 when stopped before `encode`).
    @inline(__always)
    func express(_ p: UnsafeRawBufferPointer, source: ClientAddress, into out: UnsafeMutableRawBufferPointer,
                 probe: inout Int, through stage: Stage, cookies: Authority.Cookies?, validCookie: inout Bool) -> Int {
        let decline = -1
        let n = p.count
        // Header: a QUERY (QR=0, opcode 0), QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 0 or 1.
        guard n >= 17, p[2] & 0xF8 == 0, p[4] == 0, p[5] == 1, p[6] == 0, p[7] == 0, p[8] == 0, p[9] == 0,
              p[10] == 0, p[11] <= 1 else { return decline }
        // The question name: uncompressed labels of 1...63 bytes, at most 255 bytes in all.
        var at = 12
        var wire = 1
        var labels = 0
        while true {
            guard at < n else { return decline }
            let len = Int(p[at])
            if len == 0 { break }
            guard len < 64 else { return decline }
            wire += 1 + len
            guard wire <= 255 else { return decline }
            labels += 1
            at += 1 + len
        }
        let nameEnd = at
        guard n - nameEnd >= 5 else { return decline }
        let type = UInt16(p[nameEnd + 1]) << 8 | UInt16(p[nameEnd + 2])
        // Class IN only; ANY, AXFR and IXFR have their own rules (general engine).
        guard p[nameEnd + 3] == 0, p[nameEnd + 4] == 1, type != 255, type != 252, type != 251 else { return decline }
        let questionEnd = nameEnd + 5
        // The OPT record, if any: at the root, version 0, options well formed, at most one ECS
        // option and that one valid (RFC 7871 §6, §7.1.1) — as `Query.parse` requires.
        var hasEDNS = false
        var payload = 0
        var dnssecOK = false
        var ecsAt = -1          // the ECS option's FAMILY field
        var ecsLength = 0       // FAMILY..ADDRESS
        var cookieAt = -1       // the first COOKIE option's data (RFC 7873 §5.2: later ones ignored)
        var cookieLength = 0
        if p[11] == 0 {
            // Nothing may follow the question (FORMERR: trailing bytes).
            guard questionEnd == n else { return decline }
        } else {
            let o = questionEnd
            guard n - o >= 11, p[o] == 0, p[o + 1] == 0, p[o + 2] == 41, p[o + 6] == 0 else { return decline }
            payload = Int(p[o + 3]) << 8 | Int(p[o + 4])
            dnssecOK = p[o + 7] & 0x80 != 0
            let rdlength = Int(p[o + 9]) << 8 | Int(p[o + 10])
            guard n - (o + 11) == rdlength else { return decline }
            var x = o + 11
            while x < n {
                guard n - x >= 4 else { return decline }
                let code = Int(p[x]) << 8 | Int(p[x + 1])
                let length = Int(p[x + 2]) << 8 | Int(p[x + 3])
                guard n - x - 4 >= length else { return decline }
                if code == 8 {
                    guard ecsAt < 0, length >= 4 else { return decline }
                    let family = Int(p[x + 4]) << 8 | Int(p[x + 5])
                    let sourcePrefix = Int(p[x + 6])
                    let maxBits = family == 1 ? 32 : (family == 2 ? 128 : 0)
                    guard maxBits > 0, sourcePrefix <= maxBits, p[x + 7] == 0,
                          length - 4 == (sourcePrefix + 7) / 8 else { return decline }
                    let spare = (length - 4) * 8 - sourcePrefix
                    if spare > 0 {
                        guard p[x + length + 3] & UInt8((1 << spare) - 1) == 0 else { return decline }
                    }
                    ecsAt = x + 4
                    ecsLength = length
                } else if code == 10, cookieAt < 0 {
                    // Malformed (FORMERR), or no secrets to answer with: the general engine.
                    guard cookies != nil, length == 8 || (length >= 16 && length <= 40) else { return decline }
                    cookieAt = x + 4
                    cookieLength = length
                } else if code == 3 || (code == 11 && length != 0) {
                    // NSID asked (the reply carries it), a malformed keepalive (FORMERR): general engine.
                    return decline
                }
                x += 4 + length
            }
            hasEDNS = true
            // ECS off: the general path does not echo the option.
            guard ecsAt < 0 || settings.ecs.enabled else { return decline }
        }
        if stage == .parse { probe = Int(type) &+ ecsAt; return 0 }

        // The client (`Authority.usedSubnet`, `clientAddress`): the ECS address cut to the honoured
        // prefix when the option asks for tailoring, else the packet source.
        var client = source
        var maxScope = 0
        var usedECS = false
        if ecsAt >= 0, settings.ecs.enabled, p[ecsAt + 2] > 0 {
            let family = p[ecsAt + 1]
            let sourcePrefix = Int(p[ecsAt + 2])
            let addressLength = ecsLength - 4
            if family == 1, settings.ecs.maxSourceV4 > 0 {
                var a: UInt32 = 0
                for k in 0..<4 { a = a << 8 | UInt32(k < addressLength ? p[ecsAt + 4 + k] : 0) }
                let honoured = min(Int(settings.ecs.maxSourceV4), 32)
                let prefix = min(sourcePrefix, honoured)
                let mask: UInt32 = prefix >= 32 ? .max : ~(UInt32.max >> UInt32(prefix))
                client = .v4(a & mask)
                maxScope = honoured
                usedECS = true
            } else if family == 2, settings.ecs.maxSourceV6 > 0 {
                var a: UInt128 = 0
                for k in 0..<16 { a = a << 8 | UInt128(k < addressLength ? p[ecsAt + 4 + k] : 0) }
                let honoured = min(Int(settings.ecs.maxSourceV6), 128)
                let prefix = min(sourcePrefix, honoured)
                let mask: UInt128 = prefix >= 128 ? .max : ~(UInt128.max >> UInt128(prefix))
                client = .v6(a & mask)
                maxScope = honoured
                usedECS = true
            }
        }
        if !usedECS, case .v6(let a) = source, a >> 32 == 0xFFFF {
            client = .v4(UInt32(truncatingIfNeeded: a))
        }
        if stage == .client {
            switch client {
            case .v4(let a): probe = Int(a)
            case .v6(let a): probe = Int(truncatingIfNeeded: a)
            }
            return 0
        }

        // The plan, and for a steered name the table lookup (value -> reply, ECS scope).
        let m = match(p, nameEnd: nameEnd, type: type)
        var body = m.body
        var scope = 0
        if m.plan < -1 {
            let s = steered[Int(-(m.plan + 2))]
            let hit = decide(s, client)
            guard hit.value >= 0, hit.value < Int(s.replyCount) else { return decline }
            let j = Int(s.replyStart) + hit.value
            body = steeredBodies[j]
            let rotations = Int(rotationCounts[j])
            if rotations > 1 {
                let id = Int(p[0]) << 8 | Int(p[1])
                body = rotationBodies[Int(rotationStarts[j]) + id % rotations]
            }
            if hit.scope > 0, usedECS { scope = min(Int(hit.scope), maxScope) }
        }
        guard body >= 0 else { return decline }
        if stage == .lookup { probe = Int(body) &+ scope; return 0 }

        // The body fits this question? Table slots, labels that would compress differently, size.
        let b = bodies[Int(body)]
        guard labels + Int(b.literalLabels) <= 64 else { return decline }
        if m.aboveEncloser >= 0, b.labelsLength > 0 {
            let labelAt = m.aboveEncloser
            let labelLength = Int(p[labelAt])
            let clash = bodyLabels.withUnsafeBufferPointer { list -> Bool in
                var i = Int(b.labelsStart)
                let end = i + Int(b.labelsLength)
                while i < end {
                    let l = Int(list[i])
                    if l == labelLength {
                        var j = 0
                        while j < l, Authority.FastPath.lower(p[labelAt + 1 + j]) == list[i + 1 + j] { j += 1 }
                        if j == l { return true }
                    }
                    i += 1 + l
                }
                return false
            }
            guard !clash else { return decline }
        }
        let limit = hasEDNS ? min(max(payload, 512), max(Int(settings.udpPayloadSize), 512)) : 512
        let optLength = hasEDNS ? 11 + (ecsAt >= 0 ? 4 + ecsLength : 0) + (cookieAt >= 0 ? 4 + DNSCookie.replyLength : 0) : 0
        let total = questionEnd + Int(b.length) + optLength
        // Larger replies (truncation) and pointers past 14 bits: the templated tier.
        guard total <= limit, total <= out.count, total < 0x3FFF, let o = out.baseAddress else { return decline }
        if stage == .select { probe = total; return 0 }

        // Header: id; QR, the query's RD and CD, the body's AA and RCODE; counts.
        o.storeBytes(of: p[0], toByteOffset: 0, as: UInt8.self)
        o.storeBytes(of: p[1], toByteOffset: 1, as: UInt8.self)
        let flags = 0x8000 | b.flags | UInt16(p[2] & 0x01) << 8 | UInt16(p[3] & 0x10)
        o.storeBytes(of: UInt8(truncatingIfNeeded: flags >> 8), toByteOffset: 2, as: UInt8.self)
        o.storeBytes(of: UInt8(truncatingIfNeeded: flags), toByteOffset: 3, as: UInt8.self)
        let additionals = b.additionals &+ (hasEDNS ? 1 : 0)
        store16(o, 4, 1)
        store16(o, 6, b.answers)
        store16(o, 8, b.authorities)
        store16(o, 10, additionals)
        // The question as the client wrote it.
        if let src = p.baseAddress {
            (o + 12).copyMemory(from: src + 12, byteCount: questionEnd - 12)
        }
        // The sections, with the pointers that follow the question's length moved.
        let bodyAt = questionEnd
        bodyBytes.withUnsafeBytes { all in
            if let src = all.baseAddress, b.length > 0 {
                (o + bodyAt).copyMemory(from: src + Int(b.start), byteCount: Int(b.length))
            }
        }
        let delta = (nameEnd - 12 + 1) - Int(b.questionWire)
        if delta != 0 {
            var f = Int(b.fixStart)
            let fEnd = f + Int(b.fixCount)
            while f < fEnd {
                let at = bodyAt + Int(bodyFixups[f])
                let target = (Int(o.load(fromByteOffset: at, as: UInt8.self) & 0x3F) << 8
                    | Int(o.load(fromByteOffset: at + 1, as: UInt8.self))) + delta
                store16(o, at, 0xC000 | UInt16(truncatingIfNeeded: target))
                f += 1
            }
        }
        // OPT (RFC 6891 §6.1.2): our payload size, version 0, DO echoed, ECS echoed with the scope.
        if hasEDNS {
            var x = bodyAt + Int(b.length)
            o.storeBytes(of: 0, toByteOffset: x, as: UInt8.self)
            store16(o, x + 1, 41)
            store16(o, x + 3, settings.udpPayloadSize)
            store16(o, x + 5, 0)
            store16(o, x + 7, dnssecOK ? 0x8000 : 0)
            let rdlength = optLength - 11
            store16(o, x + 9, UInt16(truncatingIfNeeded: rdlength))
            x += 11
            if ecsAt >= 0 {
                store16(o, x, 8)
                store16(o, x + 2, UInt16(truncatingIfNeeded: ecsLength))
                if let src = p.baseAddress {
                    (o + x + 4).copyMemory(from: src + ecsAt, byteCount: ecsLength)
                }
                o.storeBytes(of: UInt8(truncatingIfNeeded: scope), toByteOffset: x + 7, as: UInt8.self)
                x += 4 + ecsLength
            }
            // COOKIE after ECS, as the general engine's encoder orders them.
            if cookieAt >= 0, let cookies {
                store16(o, x, DNSCookie.optionCode)
                store16(o, x + 2, UInt16(DNSCookie.replyLength))
                let status = DNSCookie.respond(to: UnsafeRawBufferPointer(rebasing: p[cookieAt..<(cookieAt + cookieLength)]),
                                               address: Authority.cookieAddress(source), secrets: cookies.secrets,
                                               now: cookies.now, into: o + x + 4)
                validCookie = status == .valid
            }
        }
        return total
    }

    @inline(__always)
    func store16(_ o: UnsafeMutableRawPointer, _ at: Int, _ v: UInt16) {
        o.storeBytes(of: UInt8(truncatingIfNeeded: v >> 8), toByteOffset: at, as: UInt8.self)
        o.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: at + 1, as: UInt8.self)
    }

    // MARK: templated tier

    enum TemplatedOutcome { case reply, drop, general }

    /// The templated tier: the datagram in `scratch.input`, the reply into `scratch.output`.
    func templated(source: ClientAddress, scratch: inout Authority.FastPathScratch, through stage: Stage) -> TemplatedOutcome {
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
        // ECS off: the general path strips the option from the echo; encodeReply would echo it.
        guard settings.ecs.enabled || scratch.query.edns?.clientSubnet == nil else { return .general }
        // Cookies (and the cookie-only query): the general engine adds the server cookie.
        guard !scratch.query.isCookieOnly, scratch.query.edns?.cookie == nil else { return .general }
        // NSID: the general path adds our identity to the OPT.
        guard settings.identity == nil || scratch.query.edns?.asksForNSID != true else { return .general }
        if stage == .parse { scratch.probe = Int(type.rawValue); return .reply }
        let used = Authority.usedSubnet(scratch.query, settings: settings.ecs)
        let client = used?.client ?? Authority.clientAddress(for: scratch.query, source: source, settings: settings.ecs)
        if stage == .client { scratch.probe = client.hashValue; return .reply }

        // The question name straight from the packet (a compressed question name is legal but
        // odd: general path).
        let m: Match? = scratch.input.withUnsafeBytes { p -> Match? in
            var at = 12
            while at < p.count {
                let n = Int(p[at])
                if n == 0 { return self.match(p, nameEnd: at, type: type.rawValue) }
                guard n <= 63 else { return nil }
                at += 1 + n
            }
            return nil
        }
        guard let m, m.plan != Authority.FastPath.general else { return .general }
        var template = m.plan
        var scope: UInt8 = 0
        if m.plan < -1 {
            let s = steered[Int(-(m.plan + 2))]
            let hit = decide(s, client)
            guard hit.value >= 0, hit.value < Int(s.replyCount) else { return .general }
            let j = Int(s.replyStart) + hit.value
            template = steeredReplies[j]
            let rotations = Int(rotationCounts[j])
            if rotations > 1 {
                template = rotationReplies[Int(rotationStarts[j]) + Int(scratch.query.header.id) % rotations]
            }
            guard template >= 0 else { return .general }
            if hit.scope > 0, let used { scope = min(hit.scope, used.maxScope) }
        }
        if stage == .lookup { scratch.probe = Int(template) &+ Int(scope); return .reply }
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
        if stage == .select { scratch.probe = scratch.answers.count &+ scratch.authorities.count; return .reply }
        scratch.query.encodeReply(rcode: t.rcode, answers: scratch.answers, authorities: scratch.authorities,
                                  additionals: scratch.additionals, scopePrefix: scope,
                                  payloadSize: settings.udpPayloadSize, authoritative: t.authoritative,
                                  maxSize: Authority.sizeLimit(for: scratch.query, transport: .udp, settings: settings),
                                  into: &scratch.output)
        return .reply
    }
}

// MARK: - building the plan

extension Authority.FastPath {
    struct Builder {
        let catalog: Catalog
        var entries: [Entry] = []
        var keys: [UInt8] = []
        var planTypes: [UInt16] = []
        var plans: [Int32] = []
        var planBodies: [Int32] = []
        var steered: [Steered] = []
        var steeredReplies: [Int32] = []
        var steeredBodies: [Int32] = []
        var rotationCounts: [Int32] = []
        var rotationStarts: [Int32] = []
        var rotationReplies: [Int32] = []
        var rotationBodies: [Int32] = []
        var templates: [Template] = []
        var records: [TemplateRecord] = []
        var templateIndex: [TemplateKey: Int32] = [:]
        var bodies: [Body] = []
        var bodyBytes: [UInt8] = []
        var bodyFixups: [UInt16] = []
        var bodyLabels: [UInt8] = []
        var bodyIndex: [BodyKey: Int32] = [:]
        var refused = PlanSet.general
        var stats = Statistics()
        var shapes: [ShapeKey: (PlanSet, PlanSet)] = [:]
        /// Set by `body` when a body writes a name at or below its query name (or encloser).
        var bodyNamesUnderQName = false

        struct TemplateKey: Hashable {
            var rcode: RCode
            var authoritative: Bool
            var sections: [[TemplateRecord]]
        }

        struct BodyKey: Hashable {
            var bytes: [UInt8]
            var fixups: [UInt16]
            var labels: [UInt8]
            var flags: UInt16
            var counts: [UInt16]
            var literalLabels: Int32
            var questionWire: Int32
        }

        /// The context a plan's replies are encoded in: the representative query name, and for
        /// names below a closest encloser, that encloser.
        struct Context {
            var qname: DomainName
            var encloser: DomainName?
        }

        /// Types no node holds and that no code path singles out: they stand for "every other type".
        static let otherType = RRType(rawValue: 65280)

        init(catalog: Catalog) { self.catalog = catalog }

        mutating func build() {
            // Out of every zone: REFUSED without AA (see `Authority.answer`).
            let refusedTemplate = intern(rcode: .refused, authoritative: false, sections: [[], [], []])
            let outside = (try? DomainName("\\000.invalid.")) ?? .root
            refused = PlanSet(start: 0, count: 0, other: refusedTemplate,
                              otherBody: body(template: refusedTemplate, Context(qname: outside, encloser: nil)))
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
            keys.append(contentsOf: bytes.map { Authority.FastPath.lower($0) })
            keys.append(contentsOf: repeatElement(0, count: (8 - bytes.count % 8) % 8))   // whole words
            let h = bytes.withUnsafeBytes { Authority.FastPath.hash($0, from: 0, to: $0.count) }
            var exact = PlanSet.general, below = PlanSet.general
            if safe {
                let node = catalog.zones[zi].nodes[name] ?? Node()
                let shape = shapeKey(name, node: node, zone: zi)
                if let shape, let cached = shapes[shape] {
                    (exact, below) = cached
                    stats.sharedPlanSets += 1
                } else {
                    bodyNamesUnderQName = false
                    exact = planSet(for: name, node: node, zone: zi)
                    below = belowPlanSet(under: name, zone: zi)
                    if let shape, !bodyNamesUnderQName { shapes[shape] = (exact, below) }
                }
            }
            entries.append(Entry(hash: h, keyStart: keyStart, keyLength: Int32(bytes.count), exact: exact, below: below))
        }

        // MARK: sharing plans between names of the same shape

        /// Steered names whose steering is the same (same tables, answers, TTL, fallback), with no
        /// static data and no wildcard child, under the same parent with a first label of the same
        /// length, get the same plans: templates leave the owner open, and their bodies are the same
        /// bytes (the question's suffixes sit at the same offsets) unless a body names the query
        /// name or something below it, which `bodyNamesUnderQName` catches. 100,000 steered names
        /// then cost a handful of engine runs instead of millions (reload time).
        struct ShapeKey: Hashable {
            struct Decision: Hashable {
                var type: UInt16
                var storage: [UInt]
                var answers: [SteeredAnswer]
            }
            var zone: Int
            var parent: DomainName
            var firstLabelLength: Int
            var ttl: UInt32
            var fallback: String
            var decisions: [Decision]
        }

        func shapeKey(_ name: DomainName, node: Node, zone zi: Int) -> ShapeKey? {
            guard let steering = node.steering, node.rrsets.isEmpty, name != catalog.zones[zi].apex,
                  let parent = name.parent(), let first = name.labels.first else { return nil }
            if let wild = try? name.prepending("*"), catalog.zones[zi].nodes[wild] != nil { return nil }
            var decisions: [ShapeKey.Decision] = []
            for (type, d) in steering.decisions.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let storage = [d.table.v4.starts.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) },
                               d.table.v4.values.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) },
                               d.table.v6.starts.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) },
                               d.table.v6.values.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }]
                decisions.append(.init(type: type.rawValue, storage: storage, answers: d.answers))
            }
            return ShapeKey(zone: zi, parent: parent.lowercased(), firstLabelLength: first.count, ttl: steering.ttl,
                            fallback: steering.fallback.rawValue, decisions: decisions)
        }

        /// Plans for queries of `name` itself.
        mutating func planSet(for name: DomainName, node: Node, zone zi: Int) -> PlanSet {
            var types: [RRType] = [.a, .aaaa, .cname]
            for t in node.rrsets.keys.sorted(by: { $0.rawValue < $1.rawValue }) where !types.contains(t) { types.append(t) }
            if name == catalog.zones[zi].apex, !types.contains(.soa) { types.append(.soa) }
            if node.rrsets[.ns] != nil, !types.contains(.ds) { types.append(.ds) }
            types.removeAll { $0 == .any || $0 == .axfr || $0 == .ixfr }
            return planSet(Context(qname: name, encloser: nil), types: types)
        }

        /// Plans for names below `name` that do not exist, `name` being their closest encloser:
        /// computed on a synthetic child (a label holding byte 0). Without a wildcard child the
        /// answer (NXDOMAIN, or a referral from a cut at or above `name`) is the same for every type.
        mutating func belowPlanSet(under name: DomainName, zone zi: Int) -> PlanSet {
            guard let child = try? name.prepending("\\000"), catalog.zones[zi].nodes[child] == nil,
                  Authority.zoneIndex(for: child, in: catalog) == zi else { return .general }
            let context = Context(qname: child, encloser: name)
            if let wild = (try? name.prepending("*")).flatMap({ catalog.zones[zi].nodes[$0] }) {
                var types: [RRType] = [.a, .aaaa, .cname]
                for t in wild.rrsets.keys.sorted(by: { $0.rawValue < $1.rawValue }) where !types.contains(t) { types.append(t) }
                types.append(contentsOf: [.soa, .ds])
                types.removeAll { $0 == .any || $0 == .axfr || $0 == .ixfr }
                return planSet(context, types: types)
            }
            let a = plan(context, type: .a)
            let other = plan(context, type: Builder.otherType)
            guard a.plan == other.plan, a.plan >= 0 else { return .general }
            return PlanSet(start: 0, count: 0, other: a.plan, otherBody: a.body)
        }

        mutating func planSet(_ context: Context, types: [RRType]) -> PlanSet {
            var computed: [(UInt16, (plan: Int32, body: Int32))] = []
            for t in types { computed.append((t.rawValue, plan(context, type: t))) }
            // "Every other type": one representative (no code path singles such types out), valid
            // unless a reply leads on inside our zones, where the next name's data depends on the type.
            let other = plan(context, type: Builder.otherType, forOther: true)
            let start = Int32(planTypes.count)
            for (t, p) in computed {
                planTypes.append(t)
                plans.append(p.plan)
                planBodies.append(p.body)
                if p.plan == Authority.FastPath.general { stats.generalPlans += 1 }
            }
            return PlanSet(start: start, count: Int32(planTypes.count) - start, other: other.plan, otherBody: other.body)
        }

        /// The plan for a query of (`context.qname`, `type`): a template (with its body), a steered
        /// plan (bodies per answer), or general. With `forOther`, a reply that leads on inside our
        /// zones is refused (the type it stands for would matter after the CNAME).
        mutating func plan(_ context: Context, type: RRType, forOther: Bool = false) -> (plan: Int32, body: Int32) {
            let general = (plan: Authority.FastPath.general, body: Int32(-1))
            let query = Query(header: Header(id: 0), question: Question(name: context.qname, type: type))
            var trace: Authority.Trace? = Authority.Trace()
            let first = Authority.answer(query, client: .v4(0), catalog: catalog, trace: &trace)
            let steps = trace?.steered ?? []
            if steps.isEmpty {
                if forOther && leadsIntoZones(first) { return general }
                let t = template(first, qname: context.qname)
                return (t, body(template: t, context))
            }
            let step = steps[0]
            guard let decision = step.steering.decision(for: step.type) else { return general }
            var replies: [Int32] = []
            var replyBodies: [Int32] = []
            var rotations: [(count: Int32, start: Int32)] = []
            for k in decision.answers.indices {
                rotations.append((0, -1))
                guard let client = Builder.representative(of: k, in: decision.table) else {
                    replies.append(Authority.FastPath.general)   // never chosen by the table
                    replyBodies.append(-1)
                    continue
                }
                var t: Authority.Trace? = Authority.Trace()
                let m = Authority.answer(query, client: client, catalog: catalog, trace: &t)
                let s = t?.steered ?? []
                guard s.count == 1, s[0].owner == step.owner, s[0].type == step.type, s[0].answer == decision.answers[k],
                      !(forOther && leadsIntoZones(m)) else {
                    replies.append(Authority.FastPath.general)
                    replyBodies.append(-1)
                    continue
                }
                let template = template(m, qname: context.qname)
                replies.append(template)
                replyBodies.append(body(template: template, context))
                // `order: rotate`: one reply per rotation, chosen by the query's ID.
                if case .records(_, let set) = decision.answers[k], set.rotate, set.rdata.count > 1 {
                    rotations[k] = rotationPlans(query, client: client, step: step, answer: decision.answers[k],
                                                 count: set.rdata.count, context, forOther: forOther)
                    if rotations[k].count == 0 {
                        replies[replies.count - 1] = Authority.FastPath.general
                        replyBodies[replyBodies.count - 1] = -1
                    }
                }
            }
            if replies.allSatisfy({ $0 == Authority.FastPath.general }) { return general }
            let index = Int32(steered.count)
            steered.append(Steered(table: decision.table, replyStart: Int32(steeredReplies.count), replyCount: Int32(replies.count)))
            steeredReplies.append(contentsOf: replies)
            steeredBodies.append(contentsOf: replyBodies)
            for r in rotations {
                rotationCounts.append(r.count)
                rotationStarts.append(r.start)
            }
            return (-(index + 2), -1)
        }

        /// The replies of a rotating answer, rotation r planned from a query with ID r (every
        /// ID with the same residue gets the same bytes); count 0 when one cannot be planned.
        mutating func rotationPlans(_ query: Query, client: ClientAddress, step: Authority.Trace.Steered,
                                    answer: SteeredAnswer, count: Int, _ context: Context,
                                    forOther: Bool) -> (count: Int32, start: Int32) {
            guard count <= 256 else { return (0, -1) }
            var replies: [Int32] = []
            var replyBodies: [Int32] = []
            for r in 0..<count {
                var q = query
                q.header.id = UInt16(r)
                var t: Authority.Trace? = Authority.Trace()
                let m = Authority.answer(q, client: client, catalog: catalog, trace: &t)
                let s = t?.steered ?? []
                guard s.count == 1, s[0].owner == step.owner, s[0].type == step.type, s[0].answer == answer,
                      !(forOther && leadsIntoZones(m)) else { return (0, -1) }
                let template = template(m, qname: context.qname)
                replies.append(template)
                replyBodies.append(body(template: template, context))
            }
            let start = Int32(rotationReplies.count)
            rotationReplies.append(contentsOf: replies)
            rotationBodies.append(contentsOf: replyBodies)
            return (Int32(count), start)
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

        // MARK: bodies

        /// The pre-encoded sections of `template` after the question `context.qname`; -1 when the
        /// express tier cannot use them (the templated tier answers).
        mutating func body(template index: Int32, _ context: Context) -> Int32 {
            guard index >= 0 else { return -1 }
            let t = templates[Int(index)]
            guard t.rcode.rawValue < 16 else { return -1 }       // extended RCODEs need OPT bits
            guard t.rcode != .notImp else { return -1 }          // NOTIMP does not copy CD (templated tier)
            var sections: [[ResourceRecord]] = [[], [], []]
            var names: [DomainName] = []     // every name written with compression, owner = qname aside
            var r = Int(t.start)
            for (k, n) in [t.answers, t.authorities, t.additionals].enumerated() {
                for _ in 0..<Int(n) {
                    let tr = records[r]
                    var rr = tr.record
                    if tr.ownerIsQName { rr.name = context.qname } else { names.append(rr.name) }
                    switch rr.rdata {
                    case .cname(let x), .ns(let x), .ptr(let x), .mx(_, let x): names.append(x)
                    case .soa(let soa): names.append(soa.mname); names.append(soa.rname)
                    default: break
                    }
                    sections[k].append(rr)
                    r += 1
                }
            }
            let anchor = context.encloser ?? context.qname
            if names.contains(where: { $0.isSubdomain(of: anchor) }) { bodyNamesUnderQName = true }
            // Names below the encloser that would compress into a query's own labels.
            var labels: [UInt8] = []
            if let e = context.encloser {
                var seen = Set<[UInt8]>()
                for n in names where n.labelCount > e.labelCount && n.isSubdomain(of: e) {
                    let label = n.labels[n.labelCount - e.labelCount - 1].map { Authority.FastPath.lower($0) }
                    guard label != [0] else { return -1 }   // the representative's own label
                    if seen.insert(label).inserted {
                        labels.append(UInt8(label.count))
                        labels.append(contentsOf: label)
                    }
                }
            }
            let query = Query(header: Header(id: 0), question: Question(name: context.qname, type: .a))
            var out: [UInt8] = []
            query.encodeReply(rcode: t.rcode, answers: sections[0], authorities: sections[1], additionals: sections[2],
                              scopePrefix: 0, payloadSize: catalog.settings.udpPayloadSize, authoritative: t.authoritative,
                              maxSize: 65535, into: &out)
            let questionWire = context.qname.wireLength
            let bodyStart = 12 + questionWire + 4
            guard out.count >= bodyStart, out[2] & 0x02 == 0,
                  Int(out[6]) << 8 | Int(out[7]) == sections[0].count,
                  Int(out[8]) << 8 | Int(out[9]) == sections[1].count,
                  Int(out[10]) << 8 | Int(out[11]) == sections[2].count,
                  out.count < 0x3FFF else { return -1 }
            // Find the compression pointers (and count the literal labels) record by record.
            var fixups: [UInt16] = []
            var literal = 0
            var pos = bodyStart
            func walkName(_ at: Int) -> Int? {
                var i = at
                while i < out.count {
                    let len = Int(out[i])
                    if len == 0 { return i + 1 }
                    if len & 0xC0 == 0xC0 {
                        guard i + 1 < out.count else { return nil }
                        let target = (len & 0x3F) << 8 | Int(out[i + 1])
                        if target != 12 { fixups.append(UInt16(i - bodyStart)) }
                        return i + 2
                    }
                    guard len < 64 else { return nil }
                    literal += 1
                    i += 1 + len
                }
                return nil
            }
            for rr in sections.joined() {
                guard let afterOwner = walkName(pos), afterOwner + 10 <= out.count else { return -1 }
                let rdStart = afterOwner + 10
                let rdLength = Int(out[afterOwner + 8]) << 8 | Int(out[afterOwner + 9])
                switch rr.rdata {
                case .cname, .ns, .ptr:
                    guard walkName(rdStart) != nil else { return -1 }
                case .mx:
                    guard walkName(rdStart + 2) != nil else { return -1 }
                case .soa:
                    guard let next = walkName(rdStart), walkName(next) != nil else { return -1 }
                default:
                    break
                }
                pos = rdStart + rdLength
            }
            guard pos == out.count, context.qname.labelCount + literal <= 64 else { return -1 }
            let key = BodyKey(bytes: Array(out[bodyStart...]), fixups: fixups, labels: labels,
                              flags: (t.authoritative ? 0x0400 : 0) | (t.rcode.rawValue & 0x0F),
                              counts: [UInt16(sections[0].count), UInt16(sections[1].count), UInt16(sections[2].count)],
                              literalLabels: Int32(literal), questionWire: Int32(questionWire))
            if let i = bodyIndex[key] { return i }
            let i = Int32(bodies.count)
            bodies.append(Body(start: Int32(bodyBytes.count), length: Int32(key.bytes.count),
                               fixStart: Int32(bodyFixups.count), fixCount: Int32(fixups.count),
                               labelsStart: Int32(bodyLabels.count), labelsLength: Int32(labels.count),
                               flags: key.flags, answers: key.counts[0], authorities: key.counts[1],
                               additionals: key.counts[2], literalLabels: key.literalLabels,
                               questionWire: key.questionWire))
            bodyBytes.append(contentsOf: key.bytes)
            bodyFixups.append(contentsOf: fixups)
            bodyLabels.append(contentsOf: labels)
            bodyIndex[key] = i
            return i
        }
    }
}
