import DNSWire
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// TCP limits against the real daemon: idle and slow connections must not stop UDP answers or
/// new TCP answers; at the connection cap the longest-idle connection makes room.
@Suite("TCP limits end to end", .serialized)
struct TCPLimitsEndToEndTests {
    static func policy(_ tcp: String) throws -> PolicyDir {
        let original = try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8)
        let yaml = original.replacing(#/(?m)^  tcp:.*$/#) { _ in "  tcp: \(tcp)" }
        return try PolicyDir(yaml: yaml)
    }

    @Test("500 idle connections and 50 byte-a-second clients: UDP and new TCP still answered; slow clients cut at the read timeout")
    func idleAndSlowClients() throws {
        let dir = try Self.policy("{ idle_timeout: 10s, read_timeout: 2s, max_connections: 1024, max_queries_per_connection: 1000 }")
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }

        var idle: [Int32] = []
        var slow: [Int32] = []
        defer { (idle + slow).forEach { close($0) } }
        for _ in 0..<500 { idle.append(Loopback.connectTCP(daemon.port)) }
        #expect(idle.allSatisfy { $0 >= 0 }, "could not open 500 connections")
        for _ in 0..<50 { slow.append(Loopback.connectTCP(daemon.port)) }
        #expect(slow.allSatisfy { $0 >= 0 })
        // Each slow client announces a 40-byte message, then sends one byte a second.
        let query = Loopback.query("www.example.com", .a)
        for fd in slow { _ = [UInt8(0), UInt8(query.count)].withUnsafeBytes { send(fd, $0.baseAddress, 2, Int32(MSG_NOSIGNAL)) } }

        let started = Date()
        var udpAnswers = 0, tcpAnswers = 0
        for second in 0..<3 {
            for fd in slow { _ = [query[second]].withUnsafeBytes { send(fd, $0.baseAddress, 1, Int32(MSG_NOSIGNAL)) } }
            // UDP (dig) and a fresh TCP connection (kdig +tcp) are answered meanwhile.
            if daemon.dig("www.example.com", "A", subnet: "81.2.69.0/24").data("A") == ["198.51.100.10"] { udpAnswers += 1 }
            if daemon.kdig("www.example.com", "A", subnet: "8.8.8.0/24", tcp: true).data("A") == ["198.51.100.20"] { tcpAnswers += 1 }
            let next = started.addingTimeInterval(Double(second + 1))
            if next > Date() { usleep(UInt32(next.timeIntervalSinceNow * 1_000_000)) }
        }
        #expect(udpAnswers == 3 && tcpAnswers == 3, "udp \(udpAnswers)/3, tcp \(tcpAnswers)/3")

        // Every slow client has been cut (2 s after its first byte); idle ones are still open.
        let cut = slow.filter { Loopback.isClosedByPeer($0, within: 2) }.count
        #expect(cut == 50, "\(cut)/50 slow clients closed by the read timeout")
        let stillOpen = idle.prefix(20).filter { !Loopback.isClosedByPeer($0, within: 0.01) }.count
        #expect(stillOpen == 20, "idle connections inside the idle timeout stay open")
        // An idle connection can still be used.
        #expect(Loopback.tcpExchange(idle[0], query).map { (try? Message(decoding: $0))?.answers.count ?? 0 } == 1)
        let counters = daemon.counters()
        #expect(counters["geodns_tcp_read_timeouts_total"] == 50, "\(counters)")
        #expect(daemon.isRunning)
    }

    @Test("a client pipelining 999 queries that reads its replies only after 3 s gets every reply; others are answered meanwhile")
    func lateReader() throws {
        let dir = try PolicyDir(yaml: wirePolicy)     // big.example.com TXT: ~1.9 KB a reply
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        let fd = Loopback.connectTCP(daemon.port)
        defer { close(fd) }
        let query = Loopback.query("big.example.com", .txt)
        let frame = [UInt8(query.count >> 8), UInt8(query.count & 0xff)] + query
        let burst = Array([[UInt8]](repeating: frame, count: 999).joined())
        #expect(burst.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == burst.count)
        sleep(3)    // longer than the 2 s read timeout: the stall is ours (we stop reading), not the client's
        let other = Loopback.connectTCP(daemon.port)
        defer { close(other) }
        #expect(Loopback.tcpExchange(other, Loopback.query("www.example.com", .a)) != nil)
        var replies = 0
        while replies < 999, let head = Loopback.readExactly(fd, 2), Loopback.readExactly(fd, Int(head[0]) << 8 | Int(head[1])) != nil {
            replies += 1
        }
        #expect(replies == 999)
        #expect(daemon.counters()["geodns_tcp_read_timeouts_total"] == 0)
    }

    @Test("at the connection cap the longest-idle connection is closed and the newcomer answered")
    func capEvictsLongestIdle() throws {
        let dir = try Self.policy("{ idle_timeout: 10s, read_timeout: 2s, max_connections: 20, max_queries_per_connection: 1000 }")
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        let query = Loopback.query("www.example.com", .a)
        var fds: [Int32] = []
        defer { fds.forEach { close($0) } }
        for _ in 0..<20 {
            fds.append(Loopback.connectTCP(daemon.port))
            usleep(2000)
        }
        usleep(100_000)
        // Connections 1...19 make a query (active); connection 0 stays the longest idle.
        for fd in fds.dropFirst() { #expect(Loopback.tcpExchange(fd, query) != nil) }
        let newcomer = Loopback.connectTCP(daemon.port)
        fds.append(newcomer)
        #expect(Loopback.tcpExchange(newcomer, query) != nil, "the newcomer is answered")
        #expect(Loopback.isClosedByPeer(fds[0], within: 2), "the longest-idle connection was closed")
        #expect(Loopback.tcpExchange(fds[1], query) != nil, "active connections stay")
        #expect(daemon.counters()["geodns_tcp_connections_evicted_total"] == 1)
    }

    @Test("a reload lowering max_connections to 5 and max_queries_per_connection to 3: the longest-idle connections closed at once, a new connection cut after 3 answers, the old one keeps its limit; the unappliable listen change logged")
    func reloadAppliesLimits() throws {
        let before = "{ idle_timeout: 10s, read_timeout: 2s, max_connections: 100, max_queries_per_connection: 1000 }"
        let after = "{ idle_timeout: 10s, read_timeout: 2s, max_connections: 5, max_queries_per_connection: 3 }"
        let dir = try Self.policy(before)
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        let query = Loopback.query("www.example.com", .a)
        // Nine idle connections, oldest first, then one that makes 5 queries (the most recently active).
        var idle: [Int32] = []
        defer { idle.forEach { close($0) } }
        for _ in 0..<9 {
            idle.append(Loopback.connectTCP(daemon.port))
            usleep(2000)
        }
        let old = Loopback.connectTCP(daemon.port)
        defer { close(old) }
        usleep(100_000)
        #expect((0..<5).allSatisfy { _ in Loopback.tcpExchange(old, query) != nil })

        // The new limits, and a listen address (which the command line's --listen overrides).
        let yaml = try String(contentsOfFile: dir.configPath, encoding: .utf8)
        let reloaded = yaml.replacingOccurrences(of: "  tcp: \(before)", with: "  tcp: \(after)")
            .replacingOccurrences(of: #"listen: ["127.0.0.1:5353"]"#, with: #"listen: ["127.0.0.1:5354"]"#)
        #expect(reloaded.contains(after) && reloaded.contains("5354"), "config.yaml changed shape; update this test")
        try dir.write(reloaded)
        daemon.signal(SIGHUP)
        #expect(waitFor { daemon.log.contains("policy reloaded") }, "\(daemon.log)")

        // The cap applies at once: 10 open, 5 allowed, the 5 longest idle closed.
        let closed = idle.prefix(5).filter { Loopback.isClosedByPeer($0, within: 2) }.count
        #expect(closed == 5, "\(closed)/5 longest-idle connections closed by the lower cap")
        let kept = idle[5...].filter { !Loopback.isClosedByPeer($0, within: 0.05) }.count
        #expect(kept == 4, "\(kept)/4 more recent connections kept")
        #expect(daemon.counters()["geodns_tcp_connections_evicted_total"] == 5)

        // A new connection: the cap makes room (the longest idle left goes), 3 answers, then closed.
        let fresh = Loopback.connectTCP(daemon.port)
        defer { close(fresh) }
        let answered = (0..<3).filter { _ in Loopback.tcpExchange(fresh, query) != nil }.count
        #expect(answered == 3)
        #expect(Loopback.isClosedByPeer(fresh, within: 2), "closed after max_queries_per_connection (3)")
        #expect(Loopback.tcpExchange(fresh, query) == nil)
        #expect(Loopback.isClosedByPeer(idle[5], within: 2), "the newcomer evicted the longest-idle connection")
        // A connection accepted before the reload keeps the limit it was accepted with (1000).
        #expect((0..<3).allSatisfy { _ in Loopback.tcpExchange(old, query) != nil }, "8 queries on the old connection")
        #expect(daemon.counters()["geodns_tcp_connections_evicted_total"] == 6)

        // What the reload could not apply is named in the log.
        #expect(daemon.log.contains("reload could not apply server.listen"), "\(daemon.log)")
        #expect(daemon.dig("www.example.com", "A").data("A") == ["198.51.100.1"])
    }
}
