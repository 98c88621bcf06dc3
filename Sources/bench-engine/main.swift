// bench-engine: the answer engine in-process on a fixed query set, without sockets (issue 5).
//
//   bench-engine [--config FILE] [--queries FILE] [--count N] [--path fast|general|both]
//                [--rounds R] [--callgrind]
//
// The queries are a dnsperf `-B` file (2-byte length + message each, as the lab's
// /tmp/geolab-bench/queries-ecs.bin), answered as if from 127.0.0.1 over UDP. For each path
// it runs one loop per stage, each stage including those before it, and reports per query:
// nanoseconds (best of R rounds) and heap allocations; under callgrind (`--callgrind`, run by
// bench/cost/callgrind.sh with --instr-atstart=no) each stage's loop is instrumented alone and
// dumped as its own profile, so instructions per stage = difference of neighbouring dumps / N.
//
// Allocation counting: BenchSupport's counting malloc & co., linked in as the process's malloc by
// `make bench-cost` (Sources/BenchSupport/AllocationCounter.swift); built without those flags
// the count stays 0 and it says so.
//
// Stages, fast path (Authority.FastPath): parse (Query.parse into a reused Query, + checks),
// client (ECS or source), lookup (name hash table + steered decision table), select (template
// records into the scratch sections), encode (Query.encodeReply into the reused buffer).
// General path (Authority.respond): parse (Query.parse -> Disposition), client, answer
// (Authority.answer: zone, node, decision table, a Message), encode (Message.encode).
import Authority
import CCallgrind
import DNSWire
import Policy
import BenchSupport
#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    let text = Array("bench-engine: \(message)\n".utf8)
    _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

// MARK: - arguments

nonisolated(unsafe) var configPath = "config.yaml"
nonisolated(unsafe) var queriesPath = "/tmp/geolab-bench/queries-ecs.bin"
nonisolated(unsafe) var count = 20_000
nonisolated(unsafe) var pathChoice = "both"
nonisolated(unsafe) var rounds = 5
nonisolated(unsafe) var underCallgrind = false
do {
    var args = CommandLine.arguments.dropFirst()
    while let a = args.popFirst() {
        switch a {
        case "--config": configPath = args.popFirst() ?? configPath
        case "--queries": queriesPath = args.popFirst() ?? queriesPath
        case "--count": count = args.popFirst().flatMap { Int($0) } ?? count
        case "--path": pathChoice = args.popFirst() ?? pathChoice
        case "--rounds": rounds = max(1, args.popFirst().flatMap { Int($0) } ?? rounds)
        case "--callgrind": underCallgrind = true
        default: fail("unknown argument \(a)")
        }
    }
}

// MARK: - setup

func readQueries(_ path: String, limit: Int) -> [[UInt8]] {
    guard let f = fopen(path, "rb") else { fail("cannot open \(path)") }
    defer { fclose(f) }
    var out: [[UInt8]] = []
    var lengthBytes = [UInt8](repeating: 0, count: 2)
    while out.count < limit {
        guard fread(&lengthBytes, 1, 2, f) == 2 else { break }
        let n = Int(lengthBytes[0]) << 8 | Int(lengthBytes[1])
        var message = [UInt8](repeating: 0, count: n)
        guard n == 0 || fread(&message, 1, n, f) == n else { break }
        out.append(message)
    }
    return out
}

let catalog: Catalog
do {
    var c = try PolicyLoader.load(path: configPath)
    c.dropExplainData()  // as `geodns serve` does
    catalog = c
} catch {
    fail("cannot load \(configPath):\n\(error)")
}
let planStarted = now()
let fast = Authority.FastPath(catalog: catalog)
let planMs = Double(now() - planStarted) / 1e6
let queries = readQueries(queriesPath, limit: count)
guard !queries.isEmpty else { fail("no queries in \(queriesPath)") }
let source = ClientAddress.v4(0x7F00_0001)
let n = queries.count

// Is the counter wired in? One fresh array must count at least one allocation.
let countingActive: Bool = {
    let before = allocationCount
    let probe = [UInt8](repeating: 1, count: Int(getpid() & 0xFF) + 64)
    return allocationCount != before && !probe.isEmpty
}()

// MARK: - the loops

/// The loops' state, outside any actor (no isolation checks inside the measured loops); the
/// scratch behind a pointer as the server keeps it (no runtime exclusivity checks).
final class Harness: @unchecked Sendable {
    let fast: Authority.FastPath
    let catalog: Catalog
    let queries: [[UInt8]]
    let source: ClientAddress
    let scratch = UnsafeMutablePointer<Authority.FastPathScratch>.allocate(capacity: 1)
    let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
    var sink = 0
    /// Counts per tier of the last `fastLoop(_:countTiers: true)`.
    var tiers: [Authority.FastPathScratch.Tier: Int] = [:]
    /// DNS Cookies as the daemon hands them in (a fixed secret and time): queries with a COOKIE
    /// option (`make bench-usercost`'s cookie file) get server cookies; others are unaffected.
    let cookies = Authority.Cookies(secrets: CookieSecrets(current: CookieSecret(k0: 0x0123_4567, k1: 0x89ab_cdef)),
                                    now: 1_765_000_000)

    init(fast: Authority.FastPath, catalog: Catalog, queries: [[UInt8]], source: ClientAddress) {
        self.fast = fast; self.catalog = catalog; self.queries = queries; self.source = source
        scratch.initialize(to: Authority.FastPathScratch())
    }

    @inline(never)
    func fastLoop(_ stage: Authority.FastPath.Stage, countTiers: Bool = false) {
        var sink = 0
        for q in queries {
            let r = q.withUnsafeBytes {
                fast.respond(to: $0, source: source, into: out, scratch: &scratch.pointee, through: stage, express: true,
                             cookies: cookies)
            }
            if r == Authority.FastPath.askGeneral {
                // What the server does then: the general engine on the same bytes (encode stage only).
                if stage == .encode,
                   let reply = Authority.respond(to: scratch.pointee.input, source: source, transport: .udp, catalog: catalog,
                                                 cookies: cookies) {
                    sink &+= reply.reply.count
                }
            } else {
                sink &+= r &+ scratch.pointee.probe
            }
            if countTiers { tiers[scratch.pointee.lastTier, default: 0] += 1 }
        }
        self.sink &+= sink
    }

    enum GeneralStage: Int, CaseIterable { case parse, client, answer, encode }

    @inline(never)
    func generalLoop(_ stage: GeneralStage) {
        var sink = 0
        for q in queries {
            switch stage {
            case .encode:
                if let r = Authority.respond(to: q, source: source, transport: .udp, catalog: catalog, cookies: cookies) {
                    sink &+= r.reply.count
                }
            default:
                guard case .query(let query) = Query.parse(q, payloadSize: catalog.settings.udpPayloadSize) else { continue }
                if stage == .parse { sink &+= Int(query.question.type.rawValue); continue }
                let client = Authority.clientAddress(for: query, source: source, settings: catalog.settings.ecs)
                if stage == .client { sink &+= client.hashValue & 1; continue }
                let message = Authority.answer(query, client: client, catalog: catalog)
                sink &+= message.answers.count
            }
        }
        self.sink &+= sink
    }
}

let harness = Harness(fast: fast, catalog: catalog, queries: queries, source: source)
typealias GeneralStage = Harness.GeneralStage

/// Runs `body` once per round; returns (best ns/query, allocations/query of the last round).
func measure(_ body: () -> Void) -> (ns: Double, allocs: Double) {
    var best = Double.infinity
    var allocs = 0
    for _ in 0..<rounds {
        let a0 = allocationCount
        let t0 = now()
        body()
        let t1 = now()
        allocs = allocationCount - a0
        best = min(best, Double(t1 - t0) / Double(n))
    }
    return (best, Double(allocs) / Double(n))
}

/// Under callgrind: instrument only `body`, dumped as its own profile named `label`.
func profile(_ label: String, _ body: () -> Void) {
    geodns_callgrind_start()
    geodns_callgrind_zero()
    body()
    geodns_callgrind_dump(label)
    geodns_callgrind_stop()
}

func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
func fmt(_ v: Double, _ digits: Int = 1) -> String {
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    return String((v * p).rounded() / p)
}

print("bench-engine: \(n) queries from \(queriesPath), config \(configPath)")
if let report = catalog.report { print("policy: \(report)") }
print("fast-path plan: \(fast.statistics.names) names, \(fast.statistics.templates) templates, \(fast.statistics.steeredPlans) steered plans, \(fast.statistics.bodies) bodies (\(fast.statistics.bodyBytes) bytes), \(fast.statistics.v4Indexes) IPv4 /16 indexes, built in \(fmt(planMs)) ms")
print(countingActive ? "allocation count: malloc & co. interposed (mk/perf.mk)"
                     : "allocation count INACTIVE: build with `make bench-cost` (links the counting malloc)")

// Warm-up: scratch buffers reach their capacity, lazy bindings resolve.
harness.fastLoop(.encode)
harness.generalLoop(.encode)

let doFast = pathChoice == "fast" || pathChoice == "both"
let doGeneral = pathChoice == "general" || pathChoice == "both"

if underCallgrind {
    if doFast {
        for stage in Authority.FastPath.Stage.allCases { profile("fast-\(stage)") { harness.fastLoop(stage) } }
    }
    if doGeneral {
        for stage in GeneralStage.allCases { profile("general-\(stage)") { harness.generalLoop(stage) } }
    }
    print("callgrind dumps written (sink \(harness.sink & 1))")
    exit(0)
}

if doFast {
    harness.fastLoop(.encode, countTiers: true)
    let tiers = harness.tiers
    print("\nfast path (Authority.FastPath): \(tiers[.express] ?? 0) express, \(tiers[.templated] ?? 0) templated, \(tiers[.general] ?? 0) general engine, \(tiers[.drop] ?? 0) dropped")
    print("| stage | ns/query (cumulative) | ns/query (stage) | allocations/query (cumulative) |")
    print("|---|---|---|---|")
    var previous = 0.0
    for stage in Authority.FastPath.Stage.allCases {
        let m = measure { harness.fastLoop(stage) }
        print("| \(stage) | \(fmt(m.ns)) | \(fmt(m.ns - previous)) | \(fmt(m.allocs, 3)) |")
        previous = m.ns
    }
}
if doGeneral {
    print("\ngeneral path (Authority.respond)")
    print("| stage | ns/query (cumulative) | ns/query (stage) | allocations/query (cumulative) |")
    print("|---|---|---|---|")
    var previous = 0.0
    for stage in GeneralStage.allCases {
        let m = measure { harness.generalLoop(stage) }
        print("| \(stage) | \(fmt(m.ns)) | \(fmt(m.ns - previous)) | \(fmt(m.allocs, 3)) |")
        previous = m.ns
    }
}
print(harness.sink == 42 ? " " : "")
