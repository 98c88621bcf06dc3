import Foundation
#if canImport(Glibc)
import Glibc
import TestSupport
#endif

/// Where things are: the package root (from this file's path) and the built `geodns` binary
/// (beside the test bundle, whatever the scratch path).
enum Paths {
    static let packageRoot: URL = Repository.root

    static var geodns: String {
        if let explicit = ProcessInfo.processInfo.environment["GEODNS_BIN"] { return explicit }
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundleDir.appendingPathComponent("geodns"),
                          bundleDir.deletingLastPathComponent().appendingPathComponent("geodns"),
                          packageRoot.appendingPathComponent(".build/debug/geodns")] {
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        }
        return packageRoot.appendingPathComponent(".build/debug/geodns").path
    }

    /// GeoLite2-City from the PyPI package maxminddb-geolite2 (installed by `make deps`).
    static let geoLite2City: String? = {
        let out = run("/usr/bin/env", ["python3", "-c",
            "import _maxminddb_geolite2,os;print(os.path.join(os.path.dirname(_maxminddb_geolite2.__file__),'GeoLite2-City.mmdb'))"])
        let path = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard out.status == 0 && FileManager.default.fileExists(atPath: path) else { return nil }
        return Unprivileged.readable(path)
    }()
}

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to completion (bounded by `timeout` seconds) and returns its output.
@discardableResult
func run(_ executable: String, _ arguments: [String], timeout: Double = 30) -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch {
        return CommandResult(status: -1, stdout: "", stderr: "cannot run \(executable): \(error)")
    }
    // Read both pipes concurrently so a full pipe never blocks the child.
    // The stderr reader hands its data over through a semaphore (a happens-before edge, so
    // ThreadSanitizer sees no race on `errData`).
    nonisolated(unsafe) var errData = Data()
    let errDone = DispatchSemaphore(value: 0)
    let errThread = Thread {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        errDone.signal()
    }
    errThread.start()
    let timer = DispatchSource.makeTimerSource()
    timer.schedule(deadline: .now() + timeout)
    timer.setEventHandler { if process.isRunning { process.terminate() } }
    timer.resume()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    timer.cancel()
    // stderr closes when the child exits (or was terminated above); bound the wait all the same.
    _ = errDone.wait(timeout: .now() + 5)
    return CommandResult(status: process.terminationStatus,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// A loopback port free for both UDP and TCP right now.
func freePort() -> Int {
    for _ in 0..<50 {
        let candidate = Int.random(in: 20000...60000)
        if portIsFree(candidate, type: Int32(SOCK_DGRAM.rawValue)) && portIsFree(candidate, type: Int32(SOCK_STREAM.rawValue)) {
            return candidate
        }
    }
    return Int.random(in: 20000...60000)
}

private func portIsFree(_ port: Int, type: Int32) -> Bool {
    let fd = socket(AF_INET, type, 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = UInt32(0x7f000001).bigEndian
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

/// How the end-to-end tests run the daemon: never with privileges, as production does (the
/// systemd unit's `User=geodns`), so a call that needs a capability fails here too (issue 16:
/// TCP_NODELAY set at the wrong level was SO_DEBUG, CAP_NET_ADMIN only, and every TCP query of a
/// non-root daemon was reset while tests run as root passed).
enum Unprivileged {
    /// `setpriv` arguments that run a command without any capability: as `nobody` when that user
    /// can read what the daemon needs (the binary, the package's data/), else — a checkout below a
    /// root-only folder — as uid 0 with every capability dropped (permitted, effective, inheritable,
    /// ambient and bounding sets empty, no new privileges). Empty when the tests are not root.
    static let prefix: [String] = {
        guard getuid() == 0 else { return [] }
        let drop = ["--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        let asNobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + drop
        let data = Paths.packageRoot.appendingPathComponent("data/geodns-demo.mmdb").path
        let probe = run(asNobody[0], Array(asNobody.dropFirst()) + ["--", "/usr/bin/test", "-x", Paths.geodns, "-a", "-r", data])
        if probe.status == 0 { return asNobody + ["--"] }
        return ["/usr/bin/setpriv"] + drop + ["--"]
    }()

    /// `path` if the unprivileged daemon can read it, else a copy it can read (a pip package under
    /// root's 0700 home, say), made once per machine in a world-readable temporary folder.
    static func readable(_ path: String) -> String {
        guard prefix.contains("--reuid=65534") else { return path }
        if run(prefix[0], Array(prefix.dropFirst()) + ["/usr/bin/test", "-r", path]).status == 0 { return path }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("geodns-e2e-readable")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let copy = folder.appendingPathComponent(URL(fileURLWithPath: path).lastPathComponent)
        let size = { (p: String) in (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? -1 }
        if size(copy.path) == size(path) { return copy.path }
        // Copy, then rename: concurrent test runs never see half a database.
        let partial = folder.appendingPathComponent("\(copy.lastPathComponent).\(getpid()).tmp")
        try? FileManager.default.removeItem(at: partial)
        guard (try? FileManager.default.copyItem(atPath: path, toPath: partial.path)) != nil else { return path }
        chmod(partial.path, 0o644)
        return rename(partial.path, copy.path) == 0 ? copy.path : path
    }

    /// `executable arguments` under `prefix`, as (executable, arguments) for Process.
    static func command(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        guard let first = prefix.first else { return (executable, arguments) }
        return (first, Array(prefix.dropFirst()) + [executable] + arguments)
    }
}

/// The real daemon, `geodns serve`, on a free loopback port with a policy file of the test's,
/// run unprivileged (`Unprivileged`).
final class Daemon {
    let port: Int
    /// The control endpoint's port (`--control 127.0.0.1:PORT`): every test daemon has its own.
    let controlPort: Int
    let process = Process()
    let logURL: URL
    let configPath: String

    /// Starts `geodns serve --config configPath --listen 127.0.0.1:PORT` and waits until it
    /// answers an SOA query (up to `readyTimeout` seconds). `arguments` go after those (e.g.
    /// `["--udp-engine", "nio"]`).
    init(config configPath: String, zone: String = "example.com", readyTimeout: Double = 60, arguments: [String] = []) throws {
        self.configPath = configPath
        port = freePort()
        var control = freePort()
        while control == port { control = freePort() }
        controlPort = control
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("geodns-e2e-\(port)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let (executable, argv) = Unprivileged.command(
            Paths.geodns, ["serve", "--config", configPath, "--listen", "127.0.0.1:\(port)", "--log-level", "info",
                           "--control", "127.0.0.1:\(controlPort)"] + arguments)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = argv
        let log = try FileHandle(forWritingTo: logURL)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(readyTimeout)
        while Date() < deadline {
            if !process.isRunning { throw DaemonError.exited(log: self.log) }
            let probe = run("/usr/bin/dig", ["@127.0.0.1", "-p", "\(port)", zone, "SOA", "+time=1", "+tries=1", "+short"], timeout: 5)
            if probe.status == 0, !probe.stdout.isEmpty { return }
            usleep(100_000)
        }
        stop()
        throw DaemonError.notReady(log: self.log)
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// SIGTERM, then wait (SIGKILL after 10 s). Returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: logURL)
    }

    /// `dig` against this daemon over UDP (or TCP with `+tcp` in `extra`).
    func dig(_ name: String, _ type: String, subnet: String? = nil, _ extra: [String] = []) -> DigResult {
        var args = ["@127.0.0.1", "-p", "\(port)", name, type, "+time=2", "+tries=1", "+norecurse"]
        if let subnet { args.append("+subnet=\(subnet)") }
        args += extra
        return DigResult(run("/usr/bin/dig", args, timeout: 15))
    }

    /// GET `path` of the control endpoint: (HTTP status, body); status 0 when nothing answers.
    func http(_ path: String) -> (status: Int, body: String) { httpGet(port: controlPort, path) }

    /// `kdig` (Knot's client) against this daemon; TCP when `tcp`.
    func kdig(_ name: String, _ type: String, subnet: String? = nil, tcp: Bool = false, _ extra: [String] = []) -> DigResult {
        var args = ["@127.0.0.1", "-p", "\(port)", name, type, "+time=2", "+retry=0", "+norecurse"]
        if let subnet { args.append("+subnet=\(subnet)") }
        if tcp { args.append("+tcp") }
        args += extra
        return DigResult(run("/usr/bin/kdig", args, timeout: 15))
    }
}

/// GET `path` from 127.0.0.1:port over HTTP/1.0 (the server closes after the reply):
/// (status, body), or (0, "") when the connection is refused or nothing arrives in 5 s.
func httpGet(host: String = "127.0.0.1", port: Int, _ path: String, method: String = "GET") -> (status: Int, body: String) {
    let fd = Loopback.connectTCP(port, host: host)
    guard fd >= 0 else { return (0, "") }
    defer { close(fd) }
    var tv = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    let request = Array("\(method) \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return (0, "") }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while bytes.count < 16 << 20 {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    let text = String(decoding: bytes, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { return (0, "") }
    let statusLine = text[..<split.lowerBound].split(separator: "\r\n").first ?? ""
    let code = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    return (code, String(text[split.upperBound...]))
}

enum DaemonError: Error, CustomStringConvertible {
    case exited(log: String)
    case notReady(log: String)
    var description: String {
        switch self {
        case .exited(let log): return "geodns exited early:\n\(log)"
        case .notReady(let log): return "geodns did not answer in time:\n\(log)"
        }
    }
}

/// A temporary folder holding a policy file (and a link to the project's data/).
struct PolicyDir {
    let url: URL
    init(yaml: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("geodns-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: url.appendingPathComponent("data"),
                                                   withDestinationURL: Paths.packageRoot.appendingPathComponent("data"))
        try write(yaml)
    }
    var configPath: String { url.appendingPathComponent("config.yaml").path }
    func write(_ yaml: String) throws {
        // Write then rename, as an operator's deploy tool would: a reload never sees half a file.
        let tmp = url.appendingPathComponent("config.yaml.tmp")
        try yaml.write(to: tmp, atomically: false, encoding: .utf8)
        _ = rename(tmp.path, configPath)
    }
    func remove() { try? FileManager.default.removeItem(at: url) }
}
