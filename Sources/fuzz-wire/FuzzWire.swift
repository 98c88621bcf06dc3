// fuzz-wire: libFuzzer target for DNSWire. Invariants checked on every input:
//  1. nothing traps (the sanitizers watch reads);
//  2. Message: decode -> encode -> decode gives the same value, and encoding that value again
//     gives the same bytes (a fixed point after one round);
//  3. Query.parse into a reused Query gives the same result as a fresh parse (no state leaks);
//  4. a parsed query's reply encodes and decodes with the question intact; error replies decode.
// A broken invariant calls `abort()` so libFuzzer records the input (harness only: the library
// itself never traps on input).
//
// Built with -DFUZZING (see mk/wire.mk) it exports LLVMFuzzerTestOneInput; otherwise it is a
// replayer: `fuzz-wire FILE|DIR...` runs every file (raw bytes, or .hex fixtures) through the
// same checks, so the normal `swift build` links and crashes found by the fuzzer can be replayed.
import DNSWire
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

enum FuzzWire {
    nonisolated(unsafe) static var reused = Query()
    nonisolated(unsafe) static var buffer: [UInt8] = []

    static func fail(_ what: String) -> Never {
        print("fuzz-wire invariant broken: \(what)")
        abort()
    }

    static func check(_ bytes: [UInt8]) {
        // 2. Message round trip and byte fixed point.
        if let m1 = try? Message(decoding: bytes) {
            let e1 = m1.encode()
            guard let m2 = try? Message(decoding: e1) else { fail("our encoding of a decoded message does not decode") }
            // Our compression can be worse than the input's; if that pushes past 65535 we truncate (TC).
            if !(m2.header.truncated && !m1.header.truncated) {
                if m2 != m1 { fail("decode(encode(m)) != m") }
                if m2.encode() != e1 { fail("encode is not a fixed point") }
            }
        }
        // 3. Reused vs fresh Query.parse.
        let fresh = Query.parse(bytes)
        var reusedResult: Query? = nil
        var reusedError: WireError? = nil
        switch Query.parse(bytes, into: &reused) {
        case .success: reusedResult = reused
        case .failure(let e): reusedError = e
        }
        switch fresh {
        case .query(let q):
            if reusedResult != q { fail("reused Query.parse differs from a fresh parse") }
            if reusedResult?.question.name.description != q.question.name.description { fail("reused parse lost the name's case") }
            // 4. The reply to it encodes and decodes with the question intact.
            q.encodeReply(answers: [], maxSize: q.udpResponseLimit(), into: &buffer)
            guard let r = try? Message(decoding: buffer) else { fail("reply to a parsed query does not decode") }
            if r.questions != [q.question] || (r.edns == nil) != (q.edns == nil) { fail("reply lost the question or OPT") }
            if r.edns?.clientSubnet?.address != q.edns?.clientSubnet?.address { fail("reply lost ECS") }
        case .reply(let reply):
            guard let e = reusedError, e.disposition != .drop else { fail("reused parse succeeded where fresh gave an error reply") }
            guard let r = try? Message(decoding: reply) else { fail("error reply does not decode") }
            if !r.header.isResponse || r.rcode != e.disposition.rcode { fail("error reply has the wrong shape") }
        case .drop:
            guard let e = reusedError, e.disposition == .drop else { fail("drop disagrees with the typed error") }
        }
        // TCP framing of the input, split in two at every 7th byte, reassembles to the input.
        if bytes.count <= 65535, let framed = TCPFraming.frame(bytes) {
            var d = TCPFrameDecoder()
            var i = 0
            var got: [UInt8]? = nil
            while i < framed.count {
                d.append(framed[i..<min(i + 7, framed.count)])
                if let m = d.next() { got = m }
                i += 7
            }
            if got != bytes { fail("TCP framing round trip") }
        }
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTest(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes: [UInt8] = (start != nil && count > 0) ? Array(UnsafeRawBufferPointer(start: start, count: count)) : []
    FuzzWire.check(bytes)
    return 0
}
#else
@main struct FuzzWireReplay {
    static func main() {
        FuzzReplay.main("fuzz-wire", hexFixtures: true) { _, bytes in FuzzWire.check(bytes) }
    }
}
#endif
