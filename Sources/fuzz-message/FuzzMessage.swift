// fuzz-message: libFuzzer target for the whole per-query path the daemon runs on every packet:
// bytes -> Query.parse -> client choice (ECS or source) -> Authority.answer -> encode within the
// size limit, against the project's config.yaml compiled with the demo database. fuzz-wire
// covers the wire library alone (parser, Message round trip, framing); this target reaches the
// answer engine with hostile names, types, classes, ECS options and payload sizes. Invariants:
//  1. nothing traps;
//  2. a reply, when there is one, decodes; it is a response (QR=1) with the query's ID;
//  3. the reply to a parsed query echoes its question and fits the transport's size limit
//     (UDP: the client's EDNS size clamped to ours, 512 without EDNS; TCP: 65535);
//  4. the buffer-reusing entry (the UDP workers') gives the same bytes as the plain one;
//  5. a packet the parser drops gets no reply on either entry (never answer a response);
//  6. the UDP fast path (Authority.FastPath, what the daemon's UDP workers run first) gives
//     the same bytes as the general engine, or no reply where it gives none, or hands over;
//  7. DNS Cookies (a fixed secret and time): the reply to a parsed query with a client cookie
//     carries our 24-byte COOKIE option starting with that client cookie, and a QDCOUNT=0
//     cookie query gets NOERROR with no question.
// A broken invariant calls `abort()` (harness only).
//
// Built with -DFUZZING (mk/hardening.mk) it exports LLVMFuzzerTestOneInput; otherwise it is a
// replayer: `fuzz-message FILE|DIR...` (raw bytes, or .hex fixtures with '#' comment lines).
import Authority
import DNSWire
import FuzzSupport
import GeoIP
import Policy
#if canImport(Glibc)
import Glibc
#endif

enum FuzzMessage {
    static let root: String = {
        var path = #filePath
        for _ in 0..<3 {
            if let slash = path.lastIndex(of: "/") { path = String(path[..<slash]) }
        }
        return path
    }()

    /// config.yaml of this checkout, compiled once against data/geodns-demo.mmdb.
    static let catalog: Catalog? = {
        guard let f = fopen(root + "/config.yaml", "rb") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        let db = try? GeoIPDatabase(path: root + "/data/geodns-demo.mmdb")
        return try? PolicyLoader.load(yaml: String(decoding: bytes, as: UTF8.self), path: root + "/config.yaml", database: db)
    }()

    nonisolated(unsafe) static var scratch = Query()
    static let fastPath: Authority.FastPath? = catalog.map { Authority.FastPath(catalog: $0) }
    nonisolated(unsafe) static var fastScratch = Authority.FastPathScratch()
    nonisolated(unsafe) static let fastOut = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
    nonisolated(unsafe) static var output: [UInt8] = []

    /// Cookies as the daemon hands them to the engine (RFC 9018 Appendix A's secret and time).
    static let cookies = Authority.Cookies(secrets: CookieSecrets(current: CookieSecret(k0: 0x3fa4_b2a6_e573_e9e5, k1: 0xcfbf_379e_84dc_e748),
                                                                  previous: CookieSecret(k0: 1, k1: 2)),
                                           now: 1_559_731_985)

    /// The replayed file, named when an invariant breaks.
    nonisolated(unsafe) static var current = ""

    static func fail(_ what: String) -> Never {
        // stderr, unbuffered: abort() would lose a buffered stdout line.
        let line = "fuzz-message invariant broken: \(what)\(current.isEmpty ? "" : " (input: \(current))")\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        abort()
    }

    static func check(_ bytes: [UInt8]) {
        guard let catalog else { fail("config.yaml or the demo database did not load") }
        // The source varies with the input so both families and several regions are reached.
        let pick = bytes.count > 2 ? bytes[bytes.count - 1] : 0
        let sources: [ClientAddress] = [.v4(0x5102_4501), .v4(0x0808_0808), .v4(0x0100_1001),
                                        .v6(0x2a02_26f0 << 96 | 1), .v4(0x7f00_0001)]
        let source = sources[Int(pick) % sources.count]
        let parsed = Query.parse(bytes, payloadSize: catalog.settings.udpPayloadSize)
        if let fastPath {
            let n = bytes.withUnsafeBytes { fastPath.respond(to: $0, source: source, into: fastOut, scratch: &fastScratch, cookies: cookies) }
            let general = Authority.respond(to: bytes, source: source, transport: .udp, catalog: catalog, cookies: cookies)?.reply
            if n == Authority.FastPath.drop, general != nil { fail("the fast path dropped what the general engine answers") }
            if n > 0 {
                if n > fastOut.count { fail("the fast path claims \(n) bytes") }
                let fast = Array(fastOut[0..<n])
                if fast != general {
                    func hex(_ b: [UInt8]?) -> String { b.map { $0.map { String($0, radix: 16) }.joined(separator: " ") } ?? "none" }
                    fail("the fast path's reply differs from the general engine's (tier \(fastScratch.lastTier)):\n" +
                         "  query   \(hex(bytes))\n  fast    \(hex(fast))\n  general \(hex(general))")
                }
            }
        }
        for transport in [Transport.udp, .tcp] {
            let reply = Authority.respond(to: bytes, source: source, transport: transport, catalog: catalog, cookies: cookies)?.reply
            let answered = Authority.respond(to: bytes, source: source, transport: transport, catalog: catalog,
                                             scratch: &scratch, output: &output, cookies: cookies)
            if answered != (reply != nil) { fail("the two entries disagree on answering (\(transport))") }
            guard let reply else {
                if case .query = parsed { fail("a parsed query got no reply (\(transport))") }
                continue
            }
            if answered, output != reply { fail("the buffer-reusing entry encoded different bytes (\(transport))") }
            if case .drop = parsed { fail("a dropped packet got a reply (\(transport))") }
            guard let message = try? Message(decoding: reply) else { fail("the reply does not decode (\(transport))") }
            if !message.header.isResponse { fail("the reply is not a response") }
            if bytes.count >= 2, message.header.id != UInt16(bytes[0]) << 8 | UInt16(bytes[1]) { fail("the reply has another ID") }
            if case .query(let q) = parsed {
                if q.isCookieOnly {
                    if !message.questions.isEmpty || message.rcode != .noError { fail("a cookie-only query got \(message.rcode) with a question") }
                } else if message.questions != [q.question] { fail("the reply does not echo the question") }
                if let sent = q.edns?.cookie {
                    guard let got = message.edns?.cookie, got.count == DNSCookie.replyLength,
                          got.prefix(8).elementsEqual(sent.prefix(8)) else { fail("the reply lacks our cookie for the client's (\(transport))") }
                }
                let limit = Authority.sizeLimit(for: q, transport: transport, settings: catalog.settings)
                if reply.count > limit { fail("reply of \(reply.count) bytes over the \(limit)-byte limit (\(transport))") }
            }
        }
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTest(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes: [UInt8] = (start != nil && count > 0) ? Array(UnsafeRawBufferPointer(start: start, count: count)) : []
    FuzzMessage.check(bytes)
    return 0
}
#else
@main struct FuzzMessageReplay {
    static func main() {
        FuzzReplay.main("fuzz-message", hexFixtures: true) { path, bytes in
            FuzzMessage.current = path
            FuzzMessage.check(bytes)
        }
    }
}
#endif
