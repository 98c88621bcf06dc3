import DNSWire
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Response rate limiting and the error-reply limit against the real daemon, on both UDP engines
/// (the same figures: both answer through DNSServer's answerer and `ReplyLimits`): one /24
/// flooding at 10x the limit gets slipped (TC=1) and dropped replies in the configured ratio;
/// a client in another /24 is answered normally throughout.
@Suite("RRL end to end", .serialized)
struct RRLEndToEndTests {
    /// `geodns serve --udp-engine ENGINE` with `limits` added to the policy's `server:` section.
    static func daemon(engine: String, limits: String) throws -> (PolicyDir, Daemon) {
        let original = try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8)
        let yaml = original.replacingOccurrences(of: "  udp_payload_size: 1232\n", with: "  udp_payload_size: 1232\n\(limits)")
        #expect(yaml != original)
        let dir = try PolicyDir(yaml: yaml)
        do {
            let daemon = try Daemon(config: dir.configPath, arguments: ["--udp-engine", engine])
            #expect(daemon.log.contains("udp_engine=\(engine)"), "\(daemon.log)")
            return (dir, daemon)
        } catch {
            dir.remove()
            throw error
        }
    }

    @Test("a /24 flooding at 10x the rate: rate answered, the rest half slipped, half dropped; another /24 unaffected",
          arguments: ["recvmmsg", "nio"])
    func flood(engine: String) throws {
        let rate = 40, slip = 2, seconds = 2
        let (dir, daemon) = try Self.daemon(engine: engine,
            limits: "  rrl: { enabled: true, responses_per_second: \(rate), slip: \(slip), ipv4_prefix: 24, ipv6_prefix: 56 }\n")
        defer { dir.remove() }
        defer { daemon.stop() }
        let before = daemon.counters()

        let attacker = Loopback.udpSocket(source: 0x7f00_0001)        // 127.0.0.0/24
        let other = Loopback.udpSocket(source: 0x7f00_0101)           // 127.0.1.0/24
        defer { close(attacker); close(other) }
        #expect(attacker >= 0 && other >= 0)
        let flood = Loopback.query("www.example.com", .a, id: 1)
        // 10x the rate, paced over `seconds`; the other client asks 10 times a second.
        let total = rate * 10 * seconds
        let (otherSent, spanned) = pacedFlood(attacker: attacker, sending: flood, other: other, every: rate,
                                              otherName: "www.example.com", total: total, seconds: seconds, port: daemon.port)
        usleep(300_000)
        let replies = Loopback.drainUDP(attacker).compactMap { try? Message(decoding: $0) }
        let otherReplies = Loopback.drainUDP(other).compactMap { try? Message(decoding: $0) }
        let full = replies.filter { !$0.header.truncated && $0.answers.count == 1 }.count
        let slipped = replies.filter { $0.header.truncated && $0.answers.isEmpty }.count
        let dropped = total - replies.count
        let after = daemon.counters()
        func delta(_ n: String) -> Int { (after["geodns_\(n)"] ?? 0) - (before["geodns_\(n)"] ?? 0) }

        // The flood spans `seconds` + 1 clock seconds at most: between rate*seconds and
        // rate*(seconds+1) full answers; of the limited rest, 1 in `slip` slipped.
        #expect(full >= rate * seconds - 1 && full <= rate * spanned, "full \(full) over \(spanned) clock seconds")
        let limited = total - full
        // The slip count restarts each second: at most one off per clock second.
        #expect(abs(slipped - limited / slip) <= spanned, "slipped \(slipped) of \(limited) limited")
        #expect(abs(dropped - (limited - limited / slip)) <= spanned, "dropped \(dropped) of \(limited) limited")
        print("RRL flood (\(engine)): \(total) queries at 10x \(rate)/s: \(full) answered, \(slipped) slipped (TC=1), \(dropped) dropped; other /24: \(otherReplies.count)/\(otherSent) answered")
        #expect(delta("rrl_slipped_total") == slipped, "\(after)")
        #expect(delta("rrl_dropped_total") == dropped, "\(after)")
        // Every datagram ends as a response (slipped ones included) or a drop.
        #expect(delta("udp_queries_total") == total + otherSent, "\(after)")
        #expect(delta("responses_total") == full + slipped + otherReplies.count, "\(after)")
        #expect(delta("dropped_total") == dropped, "\(after)")
        // The other /24: every query answered in full.
        #expect(otherReplies.count == otherSent, "other client: \(otherReplies.count)/\(otherSent)")
        #expect(otherReplies.allSatisfy { !$0.header.truncated && $0.answers.count == 1 })
        // The slipped replies carry the question and nothing else, so a resolver retries over TCP.
        if let tc = replies.first(where: { $0.header.truncated }) {
            #expect(tc.questions.first?.name == (try DomainName("www.example.com")) && tc.authorities.isEmpty)
        }
        // And over TCP the flooding /24 is answered normally.
        #expect(daemon.kdig("www.example.com", "A", tcp: true).data("A") == ["198.51.100.1"])
    }
}

extension RRLEndToEndTests {
    @Test("error replies (REFUSED) from a /24 flooding at 5x error_replies_per_second: the rate answered, the rest dropped and counted; another /24 answered",
          arguments: ["recvmmsg", "nio"])
    func errorReplyLimit(engine: String) throws {
        let rate = 20, seconds = 2
        let (dir, daemon) = try Self.daemon(engine: engine, limits: "  error_replies_per_second: \(rate)\n")
        defer { dir.remove() }
        defer { daemon.stop() }
        let before = daemon.counters()

        let attacker = Loopback.udpSocket(source: 0x7f00_0001)        // 127.0.0.0/24
        let other = Loopback.udpSocket(source: 0x7f00_0101)           // 127.0.1.0/24
        defer { close(attacker); close(other) }
        #expect(attacker >= 0 && other >= 0)
        // Outside every zone: REFUSED, an error reply (a reflector's favourite: spoofable, never cached).
        let refused = Loopback.query("www.example.org", .a, id: 1)
        let total = rate * 5 * seconds
        // The other /24: 5 a second, under its limit.
        let (otherSent, spanned) = pacedFlood(attacker: attacker, sending: refused, other: other, every: 20,
                                              otherName: "www.example.org", total: total, seconds: seconds, port: daemon.port)
        usleep(300_000)
        let replies = Loopback.drainUDP(attacker).compactMap { try? Message(decoding: $0) }
        let otherReplies = Loopback.drainUDP(other).compactMap { try? Message(decoding: $0) }
        let after = daemon.counters()
        func delta(_ n: String) -> Int { (after["geodns_\(n)"] ?? 0) - (before["geodns_\(n)"] ?? 0) }
        let dropped = total - replies.count
        print("error-reply limit (\(engine)): \(total) REFUSED queries at 5x \(rate)/s: \(replies.count) answered, \(dropped) dropped; other /24: \(otherReplies.count)/\(otherSent) answered")

        // Between rate*seconds and rate*(clock seconds touched) replies; all whole REFUSED, no slip.
        #expect(replies.count >= rate * seconds - 1 && replies.count <= rate * spanned, "\(replies.count) over \(spanned) clock seconds")
        #expect(replies.allSatisfy { $0.header.rcode == .refused && !$0.header.truncated })
        #expect(delta("error_replies_limited_total") == dropped, "\(after)")
        #expect(delta("dropped_total") == dropped, "\(after)")
        #expect(delta("udp_queries_total") == total + otherSent, "\(after)")
        #expect(delta("responses_total") == replies.count + otherReplies.count, "\(after)")
        #expect(delta("rrl_dropped_total") == 0 && delta("rrl_slipped_total") == 0, "RRL is off: \(after)")
        #expect(otherReplies.count == otherSent, "other client: \(otherReplies.count)/\(otherSent)")
        #expect(otherReplies.allSatisfy { $0.header.rcode == .refused })
        // Answers are not error replies: the limited /24 still gets them.
        #expect(daemon.dig("www.example.com", "A").data("A") == ["198.51.100.1"])
    }
}

/// Sends `query` from `attacker` `total` times, paced evenly over `seconds`; every `every`-th
/// datagram the `other` client asks for `otherName` A (ids from 100). Returns how many the other
/// client sent and the clock seconds the flood touched (more than `seconds` + 1 on a slow machine).
func pacedFlood(attacker: Int32, sending query: [UInt8], other: Int32, every: Int, otherName: String,
                total: Int, seconds: Int, port: Int) -> (otherSent: Int, spanned: Int) {
    let started = Date()
    var otherSent = 0
    for i in 0..<total {
        Loopback.sendUDP(attacker, query, port: port)
        if i % every == 0 {
            Loopback.sendUDP(other, Loopback.query(otherName, .a, id: UInt16(100 + otherSent)), port: port)
            otherSent += 1
        }
        let due = started.addingTimeInterval(Double(i + 1) * Double(seconds) / Double(total))
        if due > Date() { usleep(UInt32(due.timeIntervalSinceNow * 1_000_000)) }
    }
    return (otherSent, Int(Date().timeIntervalSince(started).rounded(.up)) + 1)
}
