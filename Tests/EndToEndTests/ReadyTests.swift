import Foundation
import Testing

/// The ready check (issue 10): `geodns serve` binds its sockets only once the policy is compiled
/// and then logs that it answers. A client that asks during the slow start (GeoLite2-City) is
/// refused cleanly — nothing is bound, so UDP gets ICMP port unreachable and TCP a reset, which
/// dig reports as "connection refused" at once — and never gets a default or half-loaded answer.
@Suite("ready check", .serialized)
struct ReadyTests {
    enum Outcome: Equatable, CustomStringConvertible {
        case refused
        case answer(String)
        case other(String)
        var description: String {
            switch self {
            case .refused: "refused"
            case .answer(let a): "answer \(a)"
            case .other(let o): "other: \(o)"
            }
        }
    }

    static func probe(port: Int, tcp: Bool) -> Outcome {
        var args = ["@127.0.0.1", "-p", "\(port)", "www.example.com", "A", "+subnet=81.2.69.0/24", "+time=2", "+tries=1", "+norecurse"]
        if tcp { args.append("+tcp") }
        let out = run("/usr/bin/dig", args, timeout: 10)
        let text = out.stdout + out.stderr
        if text.contains("connection refused") { return .refused }
        let dig = DigResult(out)
        if let status = dig.status { return .answer("\(status) \(dig.data("A").joined(separator: ","))") }
        return .other(text)
    }

    @Test("GeoLite2-City start: refused (UDP and TCP) until the ready line, then the right answer; never a default one")
    func earlyClientsAreRefusedThenAnswered() throws {
        let database = try #require(Paths.geoLite2City, "GeoLite2-City (pip maxminddb-geolite2) is installed by make deps")
        let dir = try configUsing(database: database)
        defer { dir.remove() }
        let port = freePort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("geodns-e2e-ready-\(port).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let text = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        let process = try ServiceTests.startOnGeoLite2(dir, port: port, log: log)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }

        // Ask over and over (UDP, TCP alternately) until the daemon says it serves: bounded in
        // count and time.
        var outcomes: [Outcome] = []
        let deadline = Date().addingTimeInterval(120)
        var i = 0
        while !text().contains("serving:") && process.isRunning && Date() < deadline && i < 5000 {
            outcomes.append(Self.probe(port: port, tcp: i % 2 == 1))
            i += 1
        }
        #expect(text().contains("serving:"), "\(text())")
        let right = Outcome.answer("NOERROR 198.51.100.10")
        let refusedUDP = outcomes.enumerated().filter { $0.offset % 2 == 0 && $0.element == .refused }.count
        let refusedTCP = outcomes.enumerated().filter { $0.offset % 2 == 1 && $0.element == .refused }.count
        // The start is slow enough to be seen: both transports were refused while it loaded.
        #expect(refusedUDP > 0 && refusedTCP > 0, "\(outcomes)")
        // Every probe was refused or got the policy's answer (the sockets bind a moment before
        // the ready line is written) — no timeout, no SERVFAIL/REFUSED, no default pool.
        let wrong = outcomes.filter { $0 != .refused && $0 != right }
        #expect(wrong.isEmpty, "\(wrong)\n\(text())")
        // Once refused answers stop, they never come back (no window where sockets close again).
        if let firstAnswer = outcomes.firstIndex(of: right) {
            #expect(!outcomes[firstAnswer...].contains(.refused), "\(outcomes)")
        }
        // After the ready line: the right answer on both transports.
        #expect(Self.probe(port: port, tcp: false) == right)
        #expect(Self.probe(port: port, tcp: true) == right)

        // The log tells the order: policy compiled, sockets bound, then ready with the start time.
        let logText = text()
        let loaded = try #require(logText.range(of: "policy loaded")), listening = try #require(logText.range(of: "listening"))
        let ready = try #require(logText.range(of: "serving: sockets bound, policy compiled, answering"))
        #expect(loaded.lowerBound < listening.lowerBound && listening.lowerBound < ready.lowerBound, "\(logText)")
        let startupMs = try #require(logText.firstMatch(of: /startup_ms=(\d+)/).flatMap { Int($0.1) }, "\(logText)")
        #expect(startupMs > 0)
        #expect(logText.contains("listen=127.0.0.1:\(port)"), "\(logText)")
        print("GeoLite2-City start: \(startupMs) ms to the ready line; \(refusedUDP) UDP and \(refusedTCP) TCP probes refused before")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
