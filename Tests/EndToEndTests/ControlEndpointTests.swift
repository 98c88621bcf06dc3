import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The control endpoint (`server.control.listen`): `/metrics`, `/health`, `/v1/status` of the
/// real daemon, run unprivileged, read over HTTP as Prometheus and an operator would.
@Suite("Control endpoint end to end", .serialized)
struct ControlEndpointTests {
    /// Prometheus text exposition -> sample name (with labels) -> value, parsed by the
    /// `prometheus_client` package's parser (the exposition must parse, or this records an issue).
    static func parseExposition(_ text: String) -> [String: Double] {
        let script = """
        import sys
        from prometheus_client.parser import text_string_to_metric_families
        for family in text_string_to_metric_families(sys.stdin.read()):
            for s in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                print(f"{s.name}{{{labels}}}" if labels else s.name, repr(float(s.value)))
        """
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("geodns-e2e-prom-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("metrics.txt"), code = dir.appendingPathComponent("parse.py")
        try? text.write(to: input, atomically: true, encoding: .utf8)
        try? script.write(to: code, atomically: true, encoding: .utf8)
        let out = run("/bin/sh", ["-c", "python3 '\(code.path)' < '\(input.path)'"])
        if out.status != 0 { Issue.record("prometheus_client cannot parse the exposition: \(out.stderr)\n\(text.prefix(2000))") }
        var values: [String: Double] = [:]
        for line in out.stdout.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = v
        }
        return values
    }

    @Test("/metrics parses with prometheus_client, and a known set of queries (EU, NA, default, NXDOMAIN, FORMERR, truncated, TCP) moves the counters, by RCODE too, by exactly that much")
    func metricsDeltas() throws {
        // The demo policy plus a TXT set too large for 512 bytes.
        let txt = "      txt:       { ttl: 3600, TXT: [\"v=spf1 -all\"] }"
        let chunk = String(repeating: "x", count: 200)
        let yaml = try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8)
        #expect(yaml.contains(txt), "config.yaml's txt line changed: update this test")
        let dir = try PolicyDir(yaml: yaml.replacingOccurrences(
            of: txt, with: txt + "\n      big:       { ttl: 60, TXT: [\"\(chunk)\", \"\(chunk)1\", \"\(chunk)2\"] }"))
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        let before = daemon.http("/metrics")
        #expect(before.status == 200)
        let b = Self.parseExposition(before.body)
        #expect(b.keys.contains { $0.hasPrefix("geodns_build_info{version=") })
        #expect(b["geodns_serving"] == 1)

        #expect(daemon.dig("www.example.com", "A", subnet: "81.2.69.0/24").data("A") == ["198.51.100.10"])      // EU
        #expect(daemon.dig("www.example.com", "A", subnet: "8.8.8.0/24").data("A") == ["198.51.100.20"])        // NA
        #expect(daemon.dig("www.example.com", "A", subnet: "192.0.2.0/24").status == "NOERROR")                 // default
        #expect(daemon.dig("nope.example.com", "A").status == "NXDOMAIN")
        // FORMERR: QDCOUNT=2.
        var formerr = Loopback.query("www.example.com", .a)
        formerr[5] = 2
        let udp = Loopback.udpSocket()
        defer { close(udp) }
        Loopback.sendUDP(udp, formerr, port: daemon.port)
        #expect(waitFor(seconds: 5) { !Loopback.drainUDP(udp).isEmpty })
        // Truncated: a 512-byte client asking for the big TXT set, without EDNS.
        let big = daemon.dig("big.example.com", "TXT", ["+noedns", "+ignore"])
        #expect(big.flags.contains("tc"), "\(big)")
        #expect(daemon.dig("www.example.com", "A", subnet: "81.2.69.0/24", ["+tcp"]).data("A") == ["198.51.100.10"])

        let a = Self.parseExposition(daemon.http("/metrics").body)
        let delta = { (name: String) in (a[name] ?? -1) - (b[name] ?? 0) }
        #expect(delta("geodns_udp_queries_total") == 6)
        #expect(delta("geodns_tcp_queries_total") == 1)
        #expect(delta("geodns_responses_total") == 7)
        #expect(delta("geodns_truncated_total") == 1)
        #expect(delta("geodns_dropped_total") == 0)
        #expect(delta("geodns_reloads_total") == 0)
        // By RCODE: EU, NA, default, the truncated TXT and the TCP answer; the NXDOMAIN; the FORMERR.
        #expect(delta("geodns_responses_by_rcode_total{rcode=\"NOERROR\"}") == 5)
        #expect(delta("geodns_responses_by_rcode_total{rcode=\"NXDOMAIN\"}") == 1)
        #expect(delta("geodns_responses_by_rcode_total{rcode=\"FORMERR\"}") == 1)
        #expect(delta("geodns_responses_by_rcode_total{rcode=\"REFUSED\"}") == 0)
        #expect((a["geodns_process_start_time_seconds"] ?? 0) > 1.7e9)
        #expect((a["geodns_database_build_timestamp_seconds"] ?? 0) > 1.7e9, "the demo database's build epoch")
    }

    @Test("/health is 200 and /v1/status names the policy (its SHA-256, SOA serial), the database and the listeners; unknown paths 404, POST 405")
    func healthAndStatus() throws {
        let dir = try PolicyDir(yaml: try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8))
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        #expect(daemon.http("/health").status == 200)
        let status = daemon.http("/v1/status")
        #expect(status.status == 200)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [String: Any])
        #expect(json["phase"] as? String == "serving")
        #expect(json["listen"] as? [String] == ["127.0.0.1:\(daemon.port)"])
        let policy = try #require(json["policy"] as? [String: Any])
        let sha = run("/usr/bin/sha256sum", [dir.configPath]).stdout.split(separator: " ").first.map(String.init)
        #expect(policy["sha256"] as? String == sha)
        #expect((policy["serials"] as? [String: Int])?["example.com."] == 2026112601)
        #expect(policy["generation"] as? Int == 0)
        let database = try #require(json["database"] as? [String: Any])
        #expect(database["type"] as? String == "GeoDNS-City")
        #expect((database["path"] as? String)?.hasSuffix("data/geodns-demo.mmdb") == true)
        #expect(daemon.http("/nope").status == 404)
        #expect(httpGet(port: daemon.controlPort, "/health", method: "POST").status == 405)
    }

    @Test("a broken reload keeps /health at 200, puts the error (file:line:column) in /v1/status and sets the reload-failure metrics; a good one moves the generation")
    func brokenReload() throws {
        let yaml = try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8)
        let dir = try PolicyDir(yaml: yaml)
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        try dir.write(yaml + "\nbogus_key: 1\n")
        daemon.signal(SIGHUP)
        #expect(waitFor(seconds: 10) { daemon.log.contains("reload refused") })
        #expect(daemon.http("/health").status == 200)
        let m = Self.parseExposition(daemon.http("/metrics").body)
        #expect(m["geodns_reload_failures_total"] == 1)
        #expect(m["geodns_last_reload_success"] == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(daemon.http("/v1/status").body.utf8)) as? [String: Any])
        let last = try #require(json["last_reload"] as? [String: Any])
        #expect(last["ok"] as? Bool == false)
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).count
        #expect((last["error"] as? String)?.contains("config.yaml:\(lines + 1):1") == true, "\(last)")

        try dir.write(yaml)
        daemon.signal(SIGHUP)
        #expect(waitFor(seconds: 10) { daemon.log.contains("policy reloaded") })
        let after = Self.parseExposition(daemon.http("/metrics").body)
        #expect(after["geodns_policy_generation"] == 1)
        #expect(after["geodns_last_reload_success"] == 1)
        #expect(after["geodns_reloads_total"] == 1)
    }

    @Test("/health is 503 while a GeoLite2-City policy compiles and 200 once the daemon answers")
    func healthDuringStartup() throws {
        let database = try #require(Paths.geoLite2City, "GeoLite2-City (pip maxminddb-geolite2) is installed by make deps")
        let dir = try configUsing(database: database)
        defer { dir.remove() }
        let port = freePort()
        var control = freePort()
        while control == port { control = freePort() }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("geodns-e2e-health-\(port).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let process = try ServiceTests.startOnGeoLite2(dir, port: port, log: log, control: "127.0.0.1:\(control)")
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        var seen: [Int] = []   // /health statuses in order, repeats folded
        var refusedWhileStarting = 0
        var wrongAnswers: [String] = []
        for _ in 0..<1200 where process.isRunning {
            let health = httpGet(port: control, "/health").status
            if health != 0 && seen.last != health { seen.append(health) }
            if health == 503 {
                // While /health says 503 the DNS sockets are not bound yet (a refusal), or were
                // bound a moment ago with the compiled policy: never a default answer. (An answer
                // right after a 503 is the race between this probe and the ready line, and must
                // then be the right one.)
                let dig = run("/usr/bin/dig", ["@127.0.0.1", "-p", "\(port)", "www.example.com", "A", "+short",
                                               "+subnet=81.2.69.0/24", "+time=1", "+tries=1"], timeout: 5)
                let out = dig.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                if out.contains("connection refused") { refusedWhileStarting += 1 }
                else if !out.isEmpty && !out.contains(";;") && out != "198.51.100.10" { wrongAnswers.append(out) }
            }
            if health == 200 { break }
            usleep(20_000)
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(seen == [503, 200], "\(seen)\n\(text)")
        #expect(refusedWhileStarting > 0, "the compile took long enough to see refusals: \(text)")
        #expect(wrongAnswers.isEmpty, "\(wrongAnswers)")
        let answer = run("/usr/bin/dig", ["@127.0.0.1", "-p", "\(port)", "www.example.com", "A", "+subnet=81.2.69.0/24",
                                          "+short", "+time=2", "+tries=1"], timeout: 10)
        #expect(answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "198.51.100.10")
        kill(process.processIdentifier, SIGTERM)
        // Never wait unbounded: a daemon that ignored the signal is killed after 30 s.
        if !waitFor(seconds: 30, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test("out of file descriptors: accept failures are counted in geodns_tcp_connections_rejected_total and backed off (not retried in a loop), and TCP answers again once descriptors free up")
    func acceptFailuresCountedAndBackedOff() throws {
        let dir = try PolicyDir(yaml: try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8))
        defer { dir.remove() }
        let port = freePort()
        var control = freePort()
        while control == port { control = freePort() }
        let log = dir.url.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let (executable, argv) = Unprivileged.command(Paths.geodns, [
            "serve", "--config", dir.configPath, "--listen", "127.0.0.1:\(port)", "--threads", "1",
            "--control", "127.0.0.1:\(control)", "--log-level", "notice"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        process.arguments = ["--nofile=64:64", "--", executable] + argv
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        #expect(waitFor(seconds: 60) { httpGet(port: control, "/health").status == 200 })
        // More connections than descriptors: the kernel completes them all (backlog 256).
        var sockets: [Int32] = []
        for _ in 0..<90 { let fd = Loopback.connectTCP(port); if fd >= 0 { sockets.append(fd) } }
        #expect(sockets.count == 90)
        usleep(3_000_000)
        // Each open connection holds a descriptor, so the scrape may itself be refused: retry
        // after closing some.
        for fd in sockets.suffix(45) { close(fd) }
        sockets.removeLast(45)
        var metrics: [String: Double] = [:]
        #expect(waitFor(seconds: 10) {
            let reply = httpGet(port: control, "/metrics")
            if reply.status == 200 { metrics = Self.parseExposition(reply.body) }
            return reply.status == 200
        })
        let rejected = metrics["geodns_tcp_connections_rejected_total"] ?? 0
        #expect(rejected > 0, "\(metrics)")
        // Backed off from 5 ms doubling to 1 s: a handful a second, where a retry loop counts
        // tens of thousands a second (224,558 in 10 s before the backoff).
        #expect(rejected < 2_000, "\(rejected) accept failures in ~3 s")
        for fd in sockets { close(fd) }
        let tcp = run("/usr/bin/dig", ["@127.0.0.1", "-p", "\(port)", "www.example.com", "A", "+tcp", "+short",
                                        "+subnet=81.2.69.0/24", "+time=3", "+tries=2"], timeout: 20)
        #expect(tcp.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "198.51.100.10",
                "\(tcp)\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }
}
