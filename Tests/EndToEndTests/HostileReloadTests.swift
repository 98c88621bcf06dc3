import DNSWire
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Reload under load: while a checking client asks continuously (and dnsperf adds load when it
/// is installed), 20 SIGHUPs alternate a changed policy, a broken one, the original and another
/// broken one. No query may be lost, every answer must be one the policy in force gives (the old
/// or the new one while a reload is being installed, only the new one once it is confirmed), and
/// every broken policy must be refused. `make reload-soak` runs it with a longer dnsperf load.
@Suite("reload under load end to end", .serialized)
struct HostileReloadEndToEndTests {
    /// Allowed answers, changed by the test as reloads are confirmed; read by the checker thread.
    final class State: @unchecked Sendable {
        let lock = NSLock()
        private var allowed: Set<String> = []
        private(set) var checked = 0
        private(set) var lost = 0
        private(set) var wrong: [String] = []
        var stop = false
        func set(_ values: Set<String>) { lock.withLock { allowed = values } }
        func current() -> Set<String> { lock.withLock { allowed } }
        func record(_ value: String?, allowedAtSend: Set<String>) {
            lock.withLock {
                guard let value else { lost += 1; return }
                checked += 1
                if !allowedAtSend.contains(value), !allowed.contains(value), wrong.count < 10 {
                    wrong.append("\(value) not in \(allowedAtSend.union(allowed).sorted())")
                }
            }
        }
        var shouldStop: Bool { lock.withLock { stop } }
    }

    @Test("20 reloads (changed, broken, original, broken) under load: nothing lost, nothing wrong, broken ones refused")
    func reloadUnderLoad() throws {
        let seconds = Double(ProcessInfo.processInfo.environment["RELOAD_SOAK_SECONDS"] ?? "") ?? 0
        let original = try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8)
        let changed = original.replacingOccurrences(of: "A: 198.51.100.10,", with: "A: 198.51.100.11,")
        #expect(changed != original)
        let broken = [
            original.replacingOccurrences(of: "default: global-web", with: "default: no-such-pool"),
            original.replacingOccurrences(of: "regions:", with: "regions: [unclosed"),
            original.replacing(#/(?m)^(\s*geoip:\s*)\S+/#) { "\($0.1)/nonexistent/database.mmdb" },
            "zones: {}\n",
            original.replacingOccurrences(of: "  udp_payload_size: 1232\n", with: "  udp_payload_size: 1232\n  rrl: { slip: 900 }\n"),
        ]
        let dir = try PolicyDir(yaml: original)
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }

        let state = State()
        state.set(["198.51.100.10"])
        let port = daemon.port
        let checkerDone = DispatchSemaphore(value: 0)
        let checker = Thread {
            let fd = Loopback.udpSocket()
            defer { close(fd); checkerDone.signal() }
            var id: UInt16 = 0
            var buffer = [UInt8](repeating: 0, count: 4096)
            let ecs = ClientSubnet(ipv4: IPv4Address(rawValue: 0x5102_4500), sourcePrefix: 24)
            while !state.shouldStop {
                id &+= 1
                let name = (try? DomainName("www.example.com")) ?? .root
                let query = Message(header: Header(id: id), questions: [Question(name: name, type: .a)],
                                    edns: EDNS(udpPayloadSize: 1232, clientSubnet: ecs)).encode()
                let allowed = state.current()
                Loopback.sendUDP(fd, query, port: port)
                var answer: String? = nil
                let deadline = Date().addingTimeInterval(2)
                while answer == nil, Date() < deadline {
                    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&p, 1, 100) > 0 else { continue }
                    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                    guard n > 0, let m = try? Message(decoding: Array(buffer[0..<n])), m.header.id == id else { continue }
                    if m.rcode != .noError { answer = "rcode \(m.rcode.rawValue)"; break }
                    let values = m.answers.compactMap { rr -> String? in
                        if case .a(let a) = rr.rdata { return "\(a)" }
                        return nil
                    }
                    answer = values.count == 1 ? values[0] : "answers \(values)"
                }
                state.record(answer, allowedAtSend: allowed)
            }
        }
        checker.start()

        // dnsperf: extra load from other sockets for the whole run (bounded by -l).
        var perf: Process? = nil
        let perfOut = Pipe()
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/dnsperf") {
            let queries = dir.url.appendingPathComponent("queries.txt")
            try "www.example.com A\ncdn.example.com A\nmail.example.com MX\nnx.example.com A\nexample.com SOA\n"
                .write(to: queries, atomically: true, encoding: .utf8)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/dnsperf")
            p.arguments = ["-s", "127.0.0.1", "-p", "\(port)", "-d", queries.path, "-l", "\(Int(max(seconds, 15)))",
                           "-q", "20", "-t", "3", "-c", "2"]
            p.standardOutput = perfOut
            p.standardError = perfOut
            try p.run()
            perf = p
        }

        let reloaded = { daemon.log.components(separatedBy: "policy reloaded").count - 1 }
        let refused = { daemon.log.components(separatedBy: "reload refused").count - 1 }
        var goodReloads = 0, brokenReloads = 0
        let pause = max(0.3, seconds / 20)
        for i in 0..<20 {
            let before = (reloaded(), refused())
            switch i % 4 {
            case 0, 2:
                // A changed policy (or the original back): both answers valid until confirmed.
                let next = i % 4 == 0 ? ("198.51.100.11", changed) : ("198.51.100.10", original)
                state.set(state.current().union([next.0]))
                try dir.write(next.1)
                daemon.signal(SIGHUP)
                #expect(waitFor(seconds: 20) { reloaded() > before.0 }, "good reload \(i) not confirmed:\n\(daemon.log)")
                state.set([next.0])
                goodReloads += 1
            default:
                try dir.write(broken[(i / 2) % broken.count])
                daemon.signal(SIGHUP)
                #expect(waitFor(seconds: 20) { refused() > before.1 }, "broken reload \(i) not refused:\n\(daemon.log)")
                #expect(reloaded() == before.0, "a broken policy was installed")
                brokenReloads += 1
            }
            usleep(UInt32(pause * 1_000_000))
        }
        state.lock.withLock { state.stop = true }
        checkerDone.wait()       // a happens-before edge (polling isFinished gives none)
        let (checked, lost, wrong) = state.lock.withLock { (state.checked, state.lost, state.wrong) }

        #expect(goodReloads == 10 && brokenReloads == 10)
        #expect(reloaded() == 10 && refused() == 10, "reloaded \(reloaded()), refused \(refused())")
        #expect(checked > 200, "only \(checked) checked answers")
        #expect(lost == 0, "\(lost) queries lost")
        #expect(wrong.isEmpty, "\(wrong)")
        let counters = daemon.counters()
        #expect(counters["geodns_reloads_total"] == 10 && counters["geodns_reload_failures_total"] == 10, "\(counters)")
        if let perf {
            perf.interrupt()     // dnsperf prints its statistics on SIGINT
            perf.waitUntilExit()
            let text = String(decoding: perfOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let lostLine = text.split(separator: "\n").first { $0.contains("Queries lost:") } ?? "?"
            let fields = lostLine.split(separator: " ")
            let perfLost = fields.firstIndex(of: "lost:").flatMap { $0 + 1 < fields.count ? Int(fields[$0 + 1]) : nil }
            let completed = text.split(separator: "\n").first { $0.contains("Queries completed:") } ?? "?"
            #expect(perfLost == 0, "dnsperf: \(lostLine) \(completed)\n\(text)")
            print("reload under load: \(checked) answers checked, \(lost) lost; dnsperf \(completed.drop(while: { $0 == " " })), \(perfLost ?? -1) lost")
        }
        #expect(daemon.isRunning)
    }
}
