// bench-wire: nanoseconds and heap allocations per decode of a typical ECS query and per
// encode of a two-address A answer with ECS. Run release-built: `make bench-wire`.
//
// Allocation counting: BenchSupport's counting malloc & co., linked in as the process's malloc
// by `make bench-wire` (Sources/BenchSupport/AllocationCounter.swift). Built without those
// flags the counter stays at 0 and the program says so.
import DNSWire
import BenchSupport
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` `iterations` times per round, `rounds` rounds; returns (best ns/op, median ns/op, allocations/op).
/// BENCH_WIRE_ITERATIONS overrides the iterations per round (e.g. small under valgrind).
let defaultIterations: Int = {
    if let v = getenv("BENCH_WIRE_ITERATIONS"), let n = Int(String(cString: v)), n > 0 { return n }
    return 1_000_000
}()

func measure(_ label: String, iterations: Int = defaultIterations, rounds: Int = 7, _ body: () -> Int) -> (Double, Double, Double) {
    var sink = 0
    for _ in 0..<10_000 { sink &+= body() }   // warm up
    var perOp: [Double] = []
    var allocs = 0
    for _ in 0..<rounds {
        let a0 = allocationCount
        let t0 = now()
        for _ in 0..<iterations { sink &+= body() }
        let t1 = now()
        allocs = allocationCount - a0
        perOp.append(Double(t1 - t0) / Double(iterations))
    }
    perOp.sort()
    let allocsPerOp = Double(allocs) / Double(iterations)
    let line = "\(label + String(repeating: " ", count: max(0, 58 - label.count))) best \(fmt(perOp[0])) ns  median \(fmt(perOp[perOp.count / 2])) ns  allocs/op \(fmt(allocsPerOp))"
    print(line + (sink == 42 ? " " : ""))
    return (perOp[0], perOp[perOp.count / 2], allocsPerOp)
}

func fmt(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    return String(r)
}

// A typical ECS query, as `dig +subnet=198.51.100.0/24 www.example.com A` sends it without a cookie:
// RD, EDNS 1232, one ECS option.
let ecs = ClientSubnet(family: 1, sourcePrefix: 24, address: [198, 51, 100])
let queryMessage = Message(header: Header(id: 0x3A7C, recursionDesired: true),
                           questions: [Question(name: (try? DomainName("www.example.com")) ?? .root, type: .a)],
                           edns: EDNS(udpPayloadSize: 1232, clientSubnet: ecs))
let queryBytes = queryMessage.encode()
// The same with dig's default COOKIE option (8-byte client cookie) before ECS.
var withCookie = queryMessage
withCookie.edns?.options = [EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])]
let cookieBytes = withCookie.encode()

let owner = (try? DomainName("www.example.com")) ?? .root
let answerSet = [ResourceRecord(name: owner, ttl: 60, rdata: .a(IPv4Address(rawValue: 0xC633_640A))),
                 ResourceRecord(name: owner, ttl: 60, rdata: .a(IPv4Address(rawValue: 0xC633_640B)))]

print("bench-wire: query \(queryBytes.count) bytes (ECS /24), reply with 2 A + ECS scope 24")
do {
    // Is the counter wired in? One fresh array must count at least one allocation.
    let before = allocationCount
    let probe = [UInt8](repeating: 1, count: Int(getpid() & 0xFF) + 64)
    if allocationCount == before || probe.isEmpty {
        print("allocation counting INACTIVE: build with `make bench-wire` (links the counting malloc)")
    } else {
        print("allocation count: malloc/calloc/realloc/aligned_alloc/posix_memalign interposed in this executable")
    }
}

var query = Query()
var out: [UInt8] = []
out.reserveCapacity(1232)

let d = measure("decode  Query.parse(_:into:) reused Query [fast path]") {
    if case .success = Query.parse(queryBytes, into: &query) { return Int(query.question.type.rawValue) }
    return 0
}
guard case .success = Query.parse(queryBytes, into: &query) else { print("query did not parse"); exit(1) }
let e = measure("encode  Query.encodeReply(into:) reused buffer [fast path]") {
    query.encodeReply(answers: answerSet, scopePrefix: 24, maxSize: query.udpResponseLimit(), into: &out)
    return out.count
}
let both = measure("decode + encode [fast path]") {
    guard case .success = Query.parse(queryBytes, into: &query) else { return 0 }
    query.encodeReply(answers: answerSet, scopePrefix: 24, maxSize: query.udpResponseLimit(), into: &out)
    return out.count
}
print("")
if getenv("BENCH_WIRE_FAST_ONLY") != nil { exit(0) }   // for instruction counts under valgrind
_ = measure("decode  Query.parse(_:into:) with COOKIE + ECS") {
    if case .success = Query.parse(cookieBytes, into: &query) { return Int(query.question.type.rawValue) }
    return 0
}
_ = measure("decode  Query.parse(_:) -> Disposition [convenience]") {
    if case .query(let q) = Query.parse(queryBytes) { return Int(q.question.type.rawValue) }
    return 0
}
_ = measure("decode  Message(decoding:) [general]") {
    (try? Message(decoding: queryBytes))?.questions.count ?? 0
}
guard case .query(let q0) = Query.parse(queryBytes) else { exit(1) }
_ = measure("encode  Message(replyingTo:) + encode(into:) [general]") {
    var m = Message(replyingTo: q0)
    m.answers = answerSet
    m.edns?.clientSubnet?.scopePrefix = 24
    m.encode(into: &out, maxSize: q0.udpResponseLimit())
    return out.count
}
_ = measure("encode  Message.encode() -> [UInt8] [general]") {
    var m = Message(replyingTo: q0)
    m.answers = answerSet
    m.edns?.clientSubnet?.scopePrefix = 24
    return m.encode(maxSize: 1232).count
}
// Sanity: the fast path's reply decodes to the expected values.
query.encodeReply(answers: answerSet, scopePrefix: 24, maxSize: 1232, into: &out)
if let m = try? Message(decoding: out), m.answers == answerSet, m.edns?.clientSubnet?.scopePrefix == 24 {
    print("\nreply check: \(out.count) bytes, 2 A, ECS scope 24 echoed: ok")
} else {
    print("\nreply check FAILED"); exit(1)
}
print("summary: decode \(fmt(d.1)) ns + encode \(fmt(e.1)) ns (median); together \(fmt(both.1)) ns, \(fmt(both.2)) allocations per query")
