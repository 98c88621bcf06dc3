import DNSWire
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Serving as a service (issue 16): the daemon as production runs it — without privileges — over
/// UDP and TCP, pipelined TCP, and signals that arrive while it is still starting.
@Suite("Serving as a service", .serialized)
struct ServiceTests {
    /// Uid and effective capabilities of a process, from /proc/PID/status.
    static func credentials(_ pid: Int32) -> (uid: Int, capEff: UInt64)? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        var uid: Int?, cap: UInt64?
        for line in status.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if line.hasPrefix("Uid:"), fields.count > 1 { uid = Int(fields[1]) }
            if line.hasPrefix("CapEff:"), fields.count > 1 { cap = UInt64(fields[1], radix: 16) }
        }
        guard let uid, let cap else { return nil }
        return (uid, cap)
    }

    @Test("the daemon runs without privileges and answers over UDP (dig) and TCP (dig +tcp, kdig +tcp)")
    func unprivilegedUDPAndTCP() throws {
        let dir = try PolicyDir(yaml: try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8))
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        let creds = try #require(Self.credentials(daemon.process.processIdentifier))
        #expect(creds.uid != 0 || creds.capEff == 0, "the e2e daemon must run unprivileged: uid \(creds.uid), CapEff \(String(creds.capEff, radix: 16))")
        #expect(creds.capEff == 0)
        #expect(daemon.dig("www.example.com", "A", subnet: "81.2.69.0/24").data("A") == ["198.51.100.10"])
        let tcp = daemon.dig("www.example.com", "A", subnet: "8.8.8.0/24", ["+tcp"])
        #expect(tcp.status == "NOERROR" && tcp.data("A") == ["198.51.100.20"], "\(tcp)\n\(daemon.log)")
        #expect(daemon.kdig("www.example.com", "AAAA", subnet: "81.2.69.0/24", tcp: true).data("AAAA") == ["2001:db8:e::10"])
        #expect(daemon.counters()["geodns_tcp_queries_total"] == 2)
    }

    /// `count` framed queries for www.example.com A with ids 0..<count, as one buffer.
    static func pipelined(_ count: Int) -> [UInt8] {
        var burst: [UInt8] = []
        for id in 0..<count {
            let q = Loopback.query("www.example.com", .a, id: UInt16(id))
            burst += [UInt8(q.count >> 8), UInt8(q.count & 0xff)] + q
        }
        return burst
    }

    /// Reads framed replies until `expected` arrived or the peer stops; their ids.
    static func readReplies(_ fd: Int32, expected: Int) -> [UInt16] {
        var ids: [UInt16] = []
        while ids.count < expected, let head = Loopback.readExactly(fd, 2),
              let body = Loopback.readExactly(fd, Int(head[0]) << 8 | Int(head[1])), body.count >= 2 {
            ids.append(UInt16(body[0]) << 8 | UInt16(body[1]))
        }
        return ids
    }

    @Test("1,010 queries in one TCP write: all 1,010 answered in order, and the connection stays open (no cap by default)")
    func pipelinedBurstAllAnswered() throws {
        let dir = try PolicyDir(yaml: try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8)
            .replacing(#/(?m)^  tcp:.*$/#) { _ in "  tcp: { idle_timeout: 10s, max_connections: 1024 }" })
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        let fd = Loopback.connectTCP(daemon.port)
        defer { close(fd) }
        let burst = Self.pipelined(1010)
        #expect(burst.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == burst.count)
        let ids = Self.readReplies(fd, expected: 1010)
        #expect(ids.count == 1010, "\(ids.count)/1010 answered")
        #expect(ids == (0..<1010).map { UInt16($0) }, "replies in query order")
        #expect(!Loopback.isClosedByPeer(fd, within: 0.2), "no cap by default: the connection stays open")
        #expect(Loopback.tcpExchange(fd, Loopback.query("www.example.com", .a)) != nil)
    }

    @Test("max_queries_per_connection: 5 and 10 queries in one write: the server stops reading, answers all 10 it read, then closes")
    func capAnswersEverythingRead() throws {
        let dir = try TCPLimitsEndToEndTests.policy("{ idle_timeout: 10s, read_timeout: 2s, max_connections: 1024, max_queries_per_connection: 5 }")
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        let fd = Loopback.connectTCP(daemon.port)
        defer { close(fd) }
        let burst = Self.pipelined(10)
        #expect(burst.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == burst.count)
        let ids = Self.readReplies(fd, expected: 11)
        #expect(ids == (0..<10).map { UInt16($0) }, "every query already received is answered before the close")
        #expect(Loopback.isClosedByPeer(fd, within: 2), "closed after the cap")
    }

    @Test("dnsperf -m tcp -c 1 -q 50 for 3 s: 0 queries lost")
    func dnsperfTCPLosesNothing() throws {
        let dnsperf = "/usr/bin/dnsperf"
        try #require(FileManager.default.isExecutableFile(atPath: dnsperf), "dnsperf is installed by make deps")
        let dir = try PolicyDir(yaml: try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8))
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        let queries = dir.url.appendingPathComponent("queries.txt")
        try "www.example.com A\nwww.example.com AAAA\ncdn.example.com A\nmail.example.com MX\nnx.example.com A\nexample.com SOA\n"
            .write(to: queries, atomically: true, encoding: .utf8)
        // Bounded: 3 s of load on one loopback connection (-l), 50 outstanding.
        let out = run(dnsperf, ["-m", "tcp", "-s", "127.0.0.1", "-p", "\(daemon.port)", "-d", queries.path,
                                "-c", "1", "-q", "50", "-l", "3", "-t", "2"], timeout: 30)
        let text = out.stdout + out.stderr
        let sent = text.firstMatch(of: /Queries sent:\s+(\d+)/).flatMap { Int($0.1) } ?? 0
        let lost = text.firstMatch(of: /Queries lost:\s+(\d+)/).flatMap { Int($0.1) }
        #expect(sent > 1000, "dnsperf ran: \(text)")
        #expect(lost == 0, "\(text)")
    }

    /// `geodns serve` on GeoLite2-City (about a second of loading and compiling), unprivileged,
    /// not waited for: the test sends signals while it starts.
    static func startOnGeoLite2(_ dir: PolicyDir, port: Int, log: URL, control: String = "off") throws -> Process {
        let process = Process()
        let (executable, argv) = Unprivileged.command(
            Paths.geodns, ["serve", "--config", dir.configPath, "--listen", "127.0.0.1:\(port)", "--log-level", "info", "--control", control])
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = argv
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Waits (up to 30 s) until `pid` blocks `sig` for its sigwait thread, or catches it
    /// (/proc/PID/status SigBlk, SigCgt): the daemon has taken the signal over, so a signal now
    /// lands in the startup phase, not in exec or the dynamic loader (which a loaded 2-core
    /// machine can stretch past 50 ms).
    static func waitUntilTakenOver(_ pid: Int32, _ sig: Int32) -> Bool {
        waitFor(seconds: 30) {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
            let masks = status.split(separator: "\n").filter { $0.hasPrefix("SigBlk:") || $0.hasPrefix("SigCgt:") }
                .compactMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) }
            return masks.contains { $0 & (1 << UInt64(sig - 1)) != 0 }
        }
    }

    @Test("SIGHUP 50 ms into a GeoLite2-City start: the daemon lives, serves, and reloads once")
    func sighupDuringStartup() throws {
        let database = try #require(Paths.geoLite2City, "GeoLite2-City (pip maxminddb-geolite2) is installed by make deps")
        let dir = try configUsing(database: database)
        defer { dir.remove() }
        let port = freePort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("geodns-e2e-hup-\(port).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let process = try Self.startOnGeoLite2(dir, port: port, log: log)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        #expect(Self.waitUntilTakenOver(process.processIdentifier, SIGHUP))
        usleep(50_000)
        kill(process.processIdentifier, SIGHUP)
        let text = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        #expect(waitFor(seconds: 120) { text().contains("policy reloaded") || !process.isRunning }, "\(text())")
        #expect(process.isRunning, "status \(process.isRunning ? 0 : process.terminationStatus):\n\(text())")
        #expect(text().contains("serving"))
        #expect(text().components(separatedBy: "policy reloaded").count - 1 == 1, "one reload:\n\(text())")
        let answer = run("/usr/bin/dig", ["@127.0.0.1", "-p", "\(port)", "www.example.com", "A", "+subnet=81.2.69.0/24",
                                          "+short", "+time=2", "+tries=1"], timeout: 10)
        #expect(answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "198.51.100.10", "\(answer)")
        kill(process.processIdentifier, SIGTERM)
        // Never wait unbounded: a daemon that ignored the signal is killed after 30 s.
        if !waitFor(seconds: 30, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    @Test("SIGTERM 50 ms into a GeoLite2-City start: exit status 0, nothing served")
    func sigtermDuringStartup() throws {
        let database = try #require(Paths.geoLite2City, "GeoLite2-City (pip maxminddb-geolite2) is installed by make deps")
        let dir = try configUsing(database: database)
        defer { dir.remove() }
        let port = freePort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("geodns-e2e-term-\(port).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let process = try Self.startOnGeoLite2(dir, port: port, log: log)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        #expect(Self.waitUntilTakenOver(process.processIdentifier, SIGTERM))
        usleep(50_000)
        kill(process.processIdentifier, SIGTERM)
        #expect(waitFor(seconds: 30) { !process.isRunning })
        // Never wait unbounded: a daemon that ignored the signal is killed after 30 s.
        if !waitFor(seconds: 30, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(text)")
        #expect(text.contains("SIGTERM during startup"), "\(text)")
        #expect(!text.contains("\"serving\"") && !text.contains(" serving"), "\(text)")
    }
}
