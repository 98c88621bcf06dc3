import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// contrib/geodns.service, started the way systemd starts it (issue 16). There is no systemd as
/// PID 1 where the tests run, so the test reads the unit and applies what decides whether the
/// daemon can serve — `User=`/`Group=` (an unused uid, as `DynamicUser=` would pick, when no
/// `geodns` user exists), `AmbientCapabilities=`, `CapabilityBoundingSet=`, `NoNewPrivileges=`,
/// `UMask=`, `LimitNOFILE=` (capped at this machine's hard limit), `ExecStartPre=` then
/// `ExecStart=`, `ExecReload=`'s SIGHUP and `KillSignal=` — with `prlimit` and `setpriv`, then
/// asks over UDP and TCP on port 53 of a 127.x address: binding 53 proves the one capability the
/// unit grants is the one the daemon needs. The namespace and seccomp settings (`ProtectSystem=`,
/// `SystemCallFilter=`, ...) need systemd itself; `systemd-analyze verify` and its offline
/// security score check those lines.
@Suite("The systemd unit, started as systemd would", .serialized)
struct SystemdUnitTests {
    static let unitPath = Paths.packageRoot.appendingPathComponent("contrib/geodns.service").path

    /// A unit file's `[Service]` settings: key -> values in order (a key may repeat).
    struct Unit {
        var service: [String: [String]] = [:]
        init(_ text: String) {
            var section = ""
            for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
                if line.hasPrefix("[") { section = line; continue }
                guard section == "[Service]", let eq = line.firstIndex(of: "=") else { continue }
                let key = String(line[..<eq]), value = String(line[line.index(after: eq)...])
                service[key, default: []].append(value)
            }
        }
        func one(_ key: String) -> String? { service[key]?.last }
        /// `CAP_NET_BIND_SERVICE CAP_X` -> `+net_bind_service,+cap_x` for setpriv.
        func capabilities(_ key: String) -> [String] {
            (service[key] ?? []).flatMap { $0.split(separator: " ") }.map {
                $0.lowercased().replacingOccurrences(of: "cap_", with: "")
            }
        }
    }

    /// The uid/gid the unit's `User=`/`Group=` name, or an unused one from systemd's dynamic range.
    static func account(_ user: String) -> (uid: UInt32, gid: UInt32) {
        if let pw = getpwnam(user) { return (pw.pointee.pw_uid, pw.pointee.pw_gid) }
        var uid: UInt32 = 61_184 + UInt32(getpid() % 4_000)
        while getpwuid(uid) != nil || getgrgid(uid) != nil { uid += 1 }
        return (uid, uid)
    }

    /// 127.53.X.Y with port 53 free for UDP and TCP.
    static func loopbackAddress() -> String {
        for _ in 0..<50 {
            let address = "127.53.\(Int.random(in: 1...254)).\(Int.random(in: 1...254))"
            let udp = run("/usr/bin/dig", ["@\(address)", "-p", "53", "example.com", "SOA", "+time=1", "+tries=1"], timeout: 5)
            if udp.stdout.contains("connection refused") || udp.stderr.contains("connection refused") { return address }
        }
        return "127.53.0.53"
    }

    @Test("contrib/geodns.service grants only CAP_NET_BIND_SERVICE to the geodns user and no new privileges; systemd-analyze verifies it and scores its exposure at most 2.0")
    func unitFileShape() throws {
        let unit = Unit(try String(contentsOfFile: Self.unitPath, encoding: .utf8))
        #expect(unit.one("User") == "geodns" && unit.one("Group") == "geodns")
        #expect(unit.capabilities("AmbientCapabilities") == ["net_bind_service"])
        #expect(unit.capabilities("CapabilityBoundingSet") == ["net_bind_service"])
        #expect(unit.one("NoNewPrivileges") == "yes")
        #expect(unit.one("ExecStartPre")?.contains("geodns check") == true)
        #expect(unit.one("ExecStart")?.contains("geodns serve --config") == true)
        #expect(unit.service["ExecReload"]?.last == "/bin/kill -HUP $MAINPID")

        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else { return }   // systemd not installed
        // verify checks that the commands exist: point them at this build and a policy of ours.
        let dir = try PolicyDir(yaml: try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8))
        defer { dir.remove() }
        let text = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/geodns", with: Paths.geodns)
            .replacingOccurrences(of: "/etc/geodns/config.yaml", with: dir.configPath)
        let copy = dir.url.appendingPathComponent("geodns.service")
        try text.write(to: copy, atomically: true, encoding: .utf8)
        let verify = run(analyze, ["verify", copy.path])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let security = run(analyze, ["security", "--offline=yes", copy.path])
        let score = security.stdout.components(separatedBy: "Overall exposure level for geodns.service: ").last?
            .split(separator: " ").first.flatMap { Double($0) }
        #expect(score != nil && score! <= 2.0, "\(security.stdout.suffix(300))")
    }

    @Test("started as the unit says (User=, ambient CAP_NET_BIND_SERVICE only, NoNewPrivileges, UMask, LimitNOFILE, ExecStartPre): binds port 53, answers over UDP and TCP; ExecReload's SIGHUP reloads; KillSignal stops it with status 0")
    func startedAsSystemdWould() throws {
        guard getuid() == 0 else { return }   // changing user needs root, as systemd is
        let unit = Unit(try String(contentsOfFile: Self.unitPath, encoding: .utf8))
        let address = Self.loopbackAddress()
        let yaml = try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "127.0.0.1:5353", with: "\(address):53")
            .replacingOccurrences(of: "127.0.0.1:8053", with: "\(address):8053")
        #expect(yaml.contains("\(address):53") && yaml.contains("\(address):8053"), "config.yaml's listen lines changed: update this test")
        let dir = try PolicyDir(yaml: yaml)
        defer { dir.remove() }
        chmod(dir.url.path, 0o755)
        chmod(dir.configPath, 0o644)

        let (uid, gid) = Self.account(try #require(unit.one("User")))
        let ambient = unit.capabilities("AmbientCapabilities").map { "+\($0)" }.joined(separator: ",")
        let bounding = unit.capabilities("CapabilityBoundingSet").map { "+\($0)" }.joined(separator: ",")
        var hard = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &hard)
        let nofile = min(UInt64(unit.one("LimitNOFILE") ?? "1024") ?? 1024, UInt64(hard.rlim_max))
        let umask = try #require(unit.one("UMask"))
        var setpriv = ["/usr/bin/prlimit", "--nofile=\(nofile):\(nofile)", "--",
                       "/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups",
                       "--inh-caps=-all,\(ambient)", "--ambient-caps=-all,\(ambient)", "--bounding-set=-all,\(bounding)"]
        if unit.one("NoNewPrivileges") == "yes" { setpriv.append("--no-new-privs") }
        setpriv += ["--", "/bin/sh", "-c", "umask \(umask) && exec \"$0\" \"$@\""]
        /// The unit's command line with this build and this policy.
        func command(_ line: String) -> [String] {
            line.split(separator: " ").map {
                $0 == "/usr/local/bin/geodns" ? Paths.geodns : $0 == "/etc/geodns/config.yaml" ? dir.configPath : String($0)
            }
        }
        let probe = run(setpriv[0], Array(setpriv.dropFirst()) + ["/usr/bin/test", "-x", Paths.geodns])
        guard probe.status == 0 else {
            Issue.record("uid \(uid) cannot run \(Paths.geodns) (a checkout below a root-only folder?): \(probe.stderr)")
            return
        }

        let pre = run(setpriv[0], Array(setpriv.dropFirst()) + command(try #require(unit.one("ExecStartPre"))))
        #expect(pre.status == 0, "ExecStartPre: \(pre.stdout)\(pre.stderr)")

        let logURL = dir.url.appendingPathComponent("journal.log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        // Type=notify: the service manager's socket, writable by the unit's user.
        #expect(unit.one("Type") == "notify")
        let notify = try NotifySocket(path: dir.url.appendingPathComponent("notify.sock").path)
        defer { notify.close() }
        let process = Process()
        process.environment = ["NOTIFY_SOCKET": notify.path, "PATH": "/usr/bin:/bin"]
        process.executableURL = URL(fileURLWithPath: setpriv[0])
        process.arguments = Array(setpriv.dropFirst()) + command(try #require(unit.one("ExecStart")))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        let journal = { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

        var answer = ""
        for _ in 0..<100 where answer.isEmpty && process.isRunning {
            answer = run("/usr/bin/dig", ["@\(address)", "www.example.com", "A", "+short", "+time=1", "+tries=1",
                                           "+subnet=81.2.69.0/24"], timeout: 5).stdout
            if answer.isEmpty || answer.contains(";;") { answer = ""; usleep(100_000) }
        }
        #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == "198.51.100.10", "UDP: \(answer)\n\(journal())")
        #expect(notify.receive(within: 5).contains("READY=1"))
        #expect(httpGet(host: address, port: 8053, "/health").status == 200)
        let tcp = run("/usr/bin/dig", ["@\(address)", "www.example.com", "A", "+short", "+tcp", "+time=2", "+tries=1",
                                        "+subnet=8.8.8.0/24"], timeout: 10)
        #expect(tcp.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "198.51.100.20", "TCP: \(tcp.stdout)\n\(journal())")
        let kdig = run("/usr/bin/kdig", ["@\(address)", "www.example.com", "AAAA", "+short", "+tcp", "+time=2", "+retry=0",
                                          "+subnet=81.2.69.0/24"], timeout: 10)
        #expect(kdig.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2001:db8:e::10", "kdig TCP: \(kdig.stdout)")

        // The daemon's credentials: the unit's user, CAP_NET_BIND_SERVICE (bit 10) and nothing else.
        let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        let field = { (name: String) -> String? in
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map {
                $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
            }
        }
        #expect(field("Uid")?.split(separator: "\t").first.map(String.init) == "\(uid)")
        #expect(field("CapEff").flatMap { UInt64($0, radix: 16) } == 1 << 10)
        #expect(field("CapBnd").flatMap { UInt64($0, radix: 16) } == 1 << 10)
        #expect(field("NoNewPrivs") == "1")
        #expect(field("Umask") == umask)

        // ExecReload: `geodns check` as the unit's user, then SIGHUP.
        for line in unit.service["ExecReload"] ?? [] where line.contains("geodns check") {
            let check = run(setpriv[0], Array(setpriv.dropFirst()) + command(line))
            #expect(check.status == 0, "ExecReload check: \(check.stdout)\(check.stderr)")
        }
        kill(process.processIdentifier, SIGHUP)
        for _ in 0..<100 where !journal().contains("policy reloaded") { usleep(50_000) }
        let reloadMessages = notify.receive(within: 5) + notify.receive(within: 1)
        #expect(reloadMessages.contains("RELOADING=1\nMONOTONIC_USEC="), "\(reloadMessages)")
        #expect(reloadMessages.hasSuffix("READY=1\nSTATUS=serving"), "\(reloadMessages)")
        #expect(journal().contains("generation=1"), "\(journal())")
        #expect(run("/usr/bin/dig", ["@\(address)", "www.example.com", "A", "+short", "+tcp", "+time=2", "+tries=1",
                                      "+subnet=81.2.69.0/24"], timeout: 10).stdout.contains("198.51.100.10"))

        #expect(unit.one("KillSignal") == "SIGTERM")
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<200 where process.isRunning { usleep(50_000) }
        #expect(!process.isRunning)
        #expect(notify.receive(within: 1).contains("STOPPING=1"))
        if !process.isRunning { #expect(process.terminationStatus == 0, "\(journal())") }
    }
}

/// The service manager's end of sd_notify: an AF_UNIX datagram socket anyone may write to.
final class NotifySocket {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, rc == 0 else { throw POSIXError(.EADDRINUSE) }
        chmod(path, 0o777)
    }

    /// Every message that arrives within `seconds` of the first wait (joined by "|"), or "".
    func receive(within seconds: Double) -> String {
        var messages: [String] = []
        var timeout = Int32(seconds * 1000)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, timeout) > 0 else { break }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n <= 0 { break }
            messages.append(String(decoding: buffer[0..<n], as: UTF8.self))
            timeout = 200
        }
        return messages.joined(separator: "|")
    }

    func close() {
        _ = Glibc.close(fd)
        unlink(path)
    }
}
