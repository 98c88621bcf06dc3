import Foundation
import Testing

@Suite("reload end to end", .serialized)
struct ReloadEndToEndTests {
    /// SIGHUP installs a changed policy; a broken one is refused whole while the old answers go on.
    @Test("reload changes an answer; a broken policy is refused and the old one keeps serving")
    func reload() throws {
        let original = try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8)
        let dir = try PolicyDir(yaml: original)
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        #expect(daemon.dig("www.example.com", "A", subnet: "81.2.69.0/24").data("A") == ["198.51.100.10"])

        // 1. A changed policy: the EU pool moves to .11.
        let changed = original.replacingOccurrences(of: "A: 198.51.100.10,", with: "A: 198.51.100.11,")
        #expect(changed != original, "config.yaml's eu-web pool line changed shape; update this test")
        try dir.write(changed)
        daemon.signal(SIGHUP)
        #expect(waitFor { daemon.dig("www.example.com", "A", subnet: "81.2.69.0/24").data("A") == ["198.51.100.11"] },
                "reload did not change the answer:\n\(daemon.log)")

        // 2. A broken policy (undefined pool): refused, logged with file:line:column, old answers stay.
        let broken = changed.replacingOccurrences(of: "default: global-web", with: "default: no-such-pool")
        try dir.write(broken)
        daemon.signal(SIGHUP)
        #expect(waitFor { daemon.log.contains("reload refused") }, "no refusal logged:\n\(daemon.log)")
        let brokenLine = broken.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("no-such-pool") }.map { $0 + 1 } ?? -1
        #expect(daemon.log.contains("config.yaml:\(brokenLine):"), "the error names file:line:\n\(daemon.log)")
        #expect(daemon.log.contains("no-such-pool"), "\(daemon.log)")
        #expect(daemon.isRunning)
        let after = daemon.dig("www.example.com", "A", subnet: "81.2.69.0/24")
        #expect(after.data("A") == ["198.51.100.11"], "the running policy must keep answering: \(after)")

        // 3. A database that is not a database: refused as a whole too.
        let badDB = dir.url.appendingPathComponent("bad.mmdb")
        try Data("not a maxmind database".utf8).write(to: badDB)
        try dir.write(changed.replacing(#/(?m)^(\s*geoip:\s*)\S+/#) { "\($0.1)\(badDB.path)" })
        daemon.signal(SIGHUP)
        #expect(waitFor { daemon.log.components(separatedBy: "reload refused").count >= 3 }, "\(daemon.log)")
        #expect(daemon.dig("www.example.com", "A", subnet: "8.8.8.0/24").data("A") == ["198.51.100.20"])

        #expect(daemon.stop() == 0, "SIGTERM stops cleanly:\n\(daemon.log)")
    }

    /// The first policy must not outlive its replacement: on GeoLite2-City one generation of
    /// tables is ~19 MiB of heap, which stayed allocated for the whole serve when `geodns serve`'s
    /// own frame still held the first catalog (fixed by ServeCommand.makeServer).
    /// Not under the sanitizers (`make sanitize` sets GEODNS_SANITIZER): their allocators keep
    /// freed memory in quarantine, so RSS cannot show a release.
    @Test("reloads on GeoLite2-City free the old tables: anonymous RSS after 2 reloads stays near the start",
          .disabled(if: ProcessInfo.processInfo.environment["GEODNS_SANITIZER"] != nil, "sanitizer allocators quarantine freed memory"))
    func reloadFreesOldTables() throws {
        let database = try #require(Paths.geoLite2City, "GeoLite2-City (pip maxminddb-geolite2) is installed by make deps")
        let dir = try configUsing(database: database)
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath, readyTimeout: 300)
        defer { daemon.stop() }
        let pid = daemon.process.processIdentifier
        let start = try #require(residentAnonKiB(pid))
        for n in 1...2 {
            daemon.signal(SIGHUP)
            #expect(waitFor(seconds: 300) { daemon.log.components(separatedBy: "policy reloaded").count > n },
                    "reload \(n) did not finish:\n\(daemon.log)")
        }
        #expect(daemon.dig("www.example.com", "A", subnet: "81.2.69.0/24").data("A") == ["198.51.100.10"])
        let after = try #require(residentAnonKiB(pid))
        print("reloadFreesOldTables: RssAnon \(start) KiB at start, \(after) KiB after 2 reloads")
        #expect(after <= start + 8 * 1024, "RssAnon grew from \(start) to \(after) KiB over 2 reloads: an old policy is still held")
    }
}

/// RssAnon of a process (KiB), from /proc/PID/status.
func residentAnonKiB(_ pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }) else { return nil }
    return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
}

/// Polls `condition` every 100 ms for up to `seconds`.
func waitFor(seconds: Double = 15, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(100_000)
    }
    return condition()
}
