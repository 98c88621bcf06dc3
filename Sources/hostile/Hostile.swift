// hostile: a bounded hostile-traffic run against the real daemon, on loopback only.
//
// Starts `geodns serve` on a free 127.0.0.1 port with a policy (default: the repository's
// config.yaml), then sends COUNT datagrams in batches: random bytes, bit-flipped valid queries,
// compression-pointer loops, lying section counts, bad ECS options, responses (QR=1), runts
// and oversized datagrams — mixed with valid queries (VALID %); then a TCP phase (framed garbage,
// zero-length frames, short frames, unframed noise, responses, pipelined valid queries). It then
// checks, and exits 1 unless all hold:
//   1. every valid query got exactly the reply the answer engine gives for it in-process
//      (same policy and database; compared byte for byte, ID included);
//   2. the daemon is alive and still answers;
//   3. its RSS grew by at most --rss-growth-mb (default 64 MiB) over the run;
//   4. the daemon's counters (SIGUSR1 log line) account for every datagram:
//      udp_queries = sent, responses + dropped = udp_queries, responses = replies we received;
//   5. every valid TCP query got its exact reply, and every connection is closed on the daemon's
//      side afterwards (geodns_tcp_connections back to 0).
// Usage: hostile [--count N] [--valid-percent P] [--seed S] [--config FILE] [--geodns BIN]
//                [--rss-growth-mb M] [--seconds LIMIT] [--keep-log]
import Authority
import DNSWire
import Foundation
import Policy
#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var count = 100_000
    var validPercent = 10
    var seed: UInt64 = 1
    var config: String
    var geodns: String
    var rssGrowthMB = 64
    var seconds = 300.0
    var keepLog = false

    static let root: String = {
        var path = #filePath
        for _ in 0..<3 {
            if let slash = path.lastIndex(of: "/") { path = String(path[..<slash]) }
        }
        return path
    }()

    init(_ args: [String]) throws {
        config = Options.root + "/config.yaml"
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        geodns = me.deletingLastPathComponent().appendingPathComponent("geodns").path
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw HostileError("\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--count": count = Int(try value()) ?? count
            case "--valid-percent": validPercent = max(1, min(90, Int(try value()) ?? validPercent))
            case "--seed": seed = UInt64(try value()) ?? seed
            case "--config": config = try value()
            case "--geodns": geodns = try value()
            case "--rss-growth-mb": rssGrowthMB = Int(try value()) ?? rssGrowthMB
            case "--seconds": seconds = Double(try value()) ?? seconds
            case "--keep-log": keepLog = true
            default: throw HostileError("unknown argument \(args[i]) (see the comment at the top of Hostile.swift)")
            }
            i += 1
        }
        count = max(0, min(count, 10_000_000))
    }
}

struct HostileError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// SplitMix64: deterministic for a seed, so a failing run can be replayed.
struct Random {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
}

// MARK: packets

/// A valid query of the mix: its bytes (ID 0, patched per send) and what it asks.
struct ValidQuery {
    var name: String
    var type: RRType
    var subnet: ClientSubnet?
}

enum Kind: String, CaseIterable {
    case valid, random, bitflip, pointerLoop = "pointer-loop", lyingCounts = "lying-counts", badECS = "bad-ecs",
         response, runt, oversized
}

struct PacketFactory {
    var rng: Random
    let valid: [ValidQuery]
    let validPercent: Int

    /// Valid query IDs live below 0x1000; every other packet's ID is forced above, so a reply
    /// to a hostile packet can never be taken for the reply to a valid one.
    static let validIDs = 0x1000

    func encode(_ q: ValidQuery, id: UInt16, randomCase: inout Random) -> [UInt8] {
        // 0x20 mixed case (the reply must echo it).
        let name = String(q.name.map { c -> Character in
            c.isLetter && randomCase.below(2) == 0 ? Character(c.uppercased()) : c
        })
        guard let domain = try? DomainName(name) else { return [] }
        let edns = EDNS(udpPayloadSize: 1232, clientSubnet: q.subnet)
        let m = Message(header: Header(id: id, recursionDesired: randomCase.below(2) == 0),
                        questions: [Question(name: domain, type: q.type)], edns: edns)
        return m.encode()
    }

    static func hostileID(_ bytes: inout [UInt8]) {
        if bytes.count >= 1, Int(bytes[0]) << 8 < validIDs { bytes[0] |= 0x10 }
    }

    mutating func make(_ kind: Kind, id: UInt16) -> [UInt8] {
        var r = rng
        defer { rng = r }
        let base = valid[r.below(valid.count)]
        switch kind {
        case .valid:
            return encode(base, id: id, randomCase: &r)
        case .random:
            var b = (0..<(12 + r.below(500))).map { _ in r.byte() }
            PacketFactory.hostileID(&b)
            return b
        case .bitflip:
            var b = encode(base, id: UInt16(truncatingIfNeeded: r.next()), randomCase: &r)
            for _ in 0..<(1 + r.below(8)) where !b.isEmpty {
                let i = r.below(b.count)
                b[i] ^= 1 << UInt8(r.below(8))
            }
            PacketFactory.hostileID(&b)
            return b
        case .pointerLoop:
            // Header, then a question name that is a compression pointer: to itself, to a pointer
            // that points back, forwards past the end, or a long chain of pointers.
            var b: [UInt8] = [r.byte() | 0x10, r.byte(), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
            switch r.below(4) {
            case 0: b += [0xc0, 12, 0, 1, 0, 1]
            case 1: b += [0x01, 0x61, 0xc0, 16, 0xc0, 12, 0, 1, 0, 1]
            case 2: b += [0xc0, 0xff, 0, 1, 0, 1]
            default:
                for k in 0..<60 { b += [0xc0, UInt8(truncatingIfNeeded: 12 + 2 * (k + 1))] }
                b += [0, 0, 1, 0, 1]
            }
            return b
        case .lyingCounts:
            var b = encode(base, id: 0, randomCase: &r)
            guard b.count >= 12 else { return b }
            let field = 4 + 2 * r.below(4)          // QD, AN, NS or AR count
            let lie = [UInt16(0), 2, 3, 255, 0xffff][r.below(5)]
            b[field] = UInt8(lie >> 8)
            b[field + 1] = UInt8(lie & 0xff)
            b[0] = 0x10 | r.byte()
            if r.below(3) == 0 { b.removeLast(r.below(min(b.count - 12, 20) + 1)) }   // and cut short
            return b
        case .badECS:
            let bad: ClientSubnet
            switch r.below(6) {
            case 0: bad = ClientSubnet(family: 3, sourcePrefix: 24, address: [81, 2, 69])
            case 1: bad = ClientSubnet(family: 1, sourcePrefix: 33, address: [81, 2, 69, 1, 1])
            case 2: bad = ClientSubnet(family: 1, sourcePrefix: 24, scopePrefix: 24, address: [81, 2, 69])
            case 3: bad = ClientSubnet(family: 1, sourcePrefix: 24, address: [81, 2])           // too short
            case 4: bad = ClientSubnet(family: 1, sourcePrefix: 20, address: [81, 2, 69])       // bits past the prefix
            default: bad = ClientSubnet(family: 2, sourcePrefix: 129, address: [UInt8](repeating: 0x2a, count: 17))
            }
            guard let domain = try? DomainName(base.name) else { return [] }
            var edns = EDNS(clientSubnet: bad)
            if r.below(4) == 0 {   // and a second ECS option
                edns.options = [EDNSOption(code: 8, data: [0, 1, 24, 0, 81, 2, 69])]
            }
            let m = Message(header: Header(id: 0x1000 | UInt16(r.below(0xf000))), questions: [Question(name: domain, type: base.type)], edns: edns)
            return m.encode()
        case .response:
            var b = encode(base, id: 0, randomCase: &r)
            if b.count >= 12 { b[2] |= 0x80; b[0] = 0x10 | r.byte() }
            return b
        case .runt:
            var b = (0..<r.below(12)).map { _ in r.byte() }
            PacketFactory.hostileID(&b)
            return b
        case .oversized:
            var b = encode(base, id: 0, randomCase: &r)
            b += [UInt8](repeating: 0, count: 4097 + r.below(2000))   // past the daemon's 4 KiB slot
            if b.count >= 1 { b[0] = 0x10 | r.byte() }
            return b
        }
    }

    mutating func kind() -> Kind {
        if rng.below(100) < validPercent { return .valid }
        let hostile: [Kind] = [.random, .random, .bitflip, .bitflip, .bitflip, .pointerLoop, .lyingCounts, .lyingCounts,
                               .badECS, .badECS, .response, .runt, .oversized]
        return hostile[rng.below(hostile.count)]
    }
}

// MARK: loopback UDP client

final class UDPClient {
    let fd: Int32
    var address = sockaddr_in()

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw HostileError("socket: \(errno)") }
        var size: Int32 = 16 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian   // loopback only
    }

    deinit { close(fd) }

    /// Sends one datagram, waiting (poll) while the socket buffer is full. False if it failed.
    func send(_ bytes: [UInt8]) -> Bool {
        for _ in 0..<1000 {
            let rc = bytes.withUnsafeBytes { raw in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            if rc >= 0 { return true }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EINTR else { return false }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, 10)
        }
        return false
    }

    /// Every datagram that arrives within `ms` (returns early once `until` says so).
    func receive(ms: Int32, until done: () -> Bool, _ each: ([UInt8]) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, ms)) * 1_000_000
        while !done() {
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline { return }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let wait = Int32(min(50, (deadline - now) / 1_000_000 + 1))
            guard poll(&p, 1, wait) > 0 else { continue }
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 { break }
                each(Array(buffer[0..<n]))
            }
        }
    }
}

// MARK: the daemon

final class DaemonProcess {
    let process = Process()
    let port: Int
    let log: URL

    init(binary: String, config: String) throws {
        port = DaemonProcess.freePort()
        log = FileManager.default.temporaryDirectory.appendingPathComponent("geodns-hostile-\(port)-\(getpid()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let serve = ["serve", "--config", config, "--listen", "127.0.0.1:\(port)", "--log-level", "notice", "--control", "off"]
        if getuid() == 0 {
            // As production runs it: without a single capability (issue 16: a call needing one
            // broke every TCP query of a non-root daemon while root runs passed).
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--no-new-privs", "--", binary] + serve
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = serve
        }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var text: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Resident set size in KiB (from /proc/PID/status), 0 if unknown.
    var rssKiB: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// SIGUSR1, then the counters from the new `counters` log line.
    func counters() -> [String: Int]? {
        let before = text.components(separatedBy: "geodns_udp_queries_total=").count
        kill(pid, SIGUSR1)
        for _ in 0..<100 {
            usleep(50_000)
            let t = text
            let parts = t.components(separatedBy: "geodns_udp_queries_total=")
            guard parts.count > before, let lastLine = t.split(separator: "\n").last(where: { $0.contains("geodns_udp_queries_total=") }) else { continue }
            var out: [String: Int] = [:]
            for token in lastLine.split(whereSeparator: { $0 == " " || $0 == "\"" || $0 == "[" || $0 == "]" }) {
                let kv = token.split(separator: "=")
                if kv.count >= 2, let v = Int(kv[kv.count - 1]), kv[kv.count - 2].hasPrefix("geodns_") {
                    out[String(kv[kv.count - 2])] = v
                }
            }
            return out
        }
        return nil
    }

    func stop() -> Int32 {
        if process.isRunning {
            kill(pid, SIGTERM)
            for _ in 0..<200 where process.isRunning { usleep(50_000) }
            if process.isRunning { kill(pid, SIGKILL) }
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func freePort() -> Int {
        for _ in 0..<100 {
            let port = 20000 + Int(UInt32.random(in: 0..<40000))
            if free(port, Int32(SOCK_DGRAM.rawValue)), free(port, Int32(SOCK_STREAM.rawValue)) { return port }
        }
        return 20000 + Int(UInt32.random(in: 0..<40000))
    }

    static func free(_ port: Int, _ type: Int32) -> Bool {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        a.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 } }
    }
}

// MARK: the run

@main struct Hostile {
    static func main() {
        do {
            exit(try run(Options(Array(CommandLine.arguments.dropFirst()))) ? 0 : 1)
        } catch {
            print("hostile: \(error)")
            exit(2)
        }
    }

    /// Connections of each kind: framed random bytes, a zero-length frame, a length prefix with
    /// too few bytes then close, unframed noise, a response, and valid queries (pipelined 3 at a
    /// time, every reply checked). Blocking sockets with 3 s timeouts; loopback only.
    static func tcpPhase(port: Int, connections: Int, rng: inout PacketFactory,
                         expected: ([UInt8]) -> [UInt8]?) -> (connections: Int, valid: Int, validOK: Int) {
        var valid = 0, validOK = 0, opened = 0
        for i in 0..<connections {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var tv = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
            a.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard rc == 0 else { continue }
            opened += 1
            func framed(_ m: [UInt8]) -> [UInt8] { [UInt8(truncatingIfNeeded: m.count >> 8), UInt8(truncatingIfNeeded: m.count)] + m }
            func put(_ b: [UInt8]) { _ = b.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
            switch i % 6 {
            case 0: put(framed(rng.make(.random, id: 0)) + framed(rng.make(.bitflip, id: 0)))
            case 1: put([0, 0])
            case 2: put([0xff, 0xff] + rng.make(.random, id: 0).prefix(40))
            case 3: put(rng.make(.random, id: 0) + rng.make(.random, id: 0))
            case 4: put(framed(rng.make(.response, id: 0)))
            default:
                var wants: [[UInt8]] = []
                var burst: [UInt8] = []
                for k in 0..<3 {
                    let q = rng.make(.valid, id: UInt16(k))
                    guard let want = expected(q) else { continue }
                    wants.append(want)
                    burst += framed(q)
                }
                put(burst)
                for want in wants {
                    valid += 1
                    var head = [UInt8](repeating: 0, count: 2)
                    guard recv(fd, &head, 2, Int32(MSG_WAITALL)) == 2 else { continue }
                    let n = Int(head[0]) << 8 | Int(head[1])
                    var body = [UInt8](repeating: 0, count: n)
                    if n == 0 || recv(fd, &body, n, Int32(MSG_WAITALL)) == n, body == want { validOK += 1 }
                }
            }
        }
        return (opened, valid, validOK)
    }

    static func elapsed(_ start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    static func run(_ options: Options) throws -> Bool {
        let started = DispatchTime.now()
        let catalog: Catalog
        do { catalog = try PolicyLoader.load(path: options.config) } catch {
            throw HostileError("cannot load \(options.config):\n\(error)")
        }
        // Names and types with data in the repository's config.yaml (other policies: still valid
        // queries; the expected reply is computed, whatever it is). No REFUSED: error replies are
        // rate-limited by design, and this checks that valid answers always get through.
        let v4 = { (a: UInt32, p: UInt8) in ClientSubnet(ipv4: IPv4Address(rawValue: a), sourcePrefix: p) }
        let valid: [ValidQuery] = [
            ValidQuery(name: "www.example.com", type: .a),
            ValidQuery(name: "www.example.com", type: .a, subnet: v4(0x5102_4500, 24)),
            ValidQuery(name: "www.example.com", type: .a, subnet: v4(0x0808_0800, 24)),
            ValidQuery(name: "www.example.com", type: .a, subnet: v4(0x0100_1000, 24)),
            ValidQuery(name: "www.example.com", type: .aaaa,
                       subnet: ClientSubnet(ipv6: IPv6Address(rawValue: 0x2a02_26f0 << 96), sourcePrefix: 48)),
            ValidQuery(name: "cdn.example.com", type: .a, subnet: v4(0x5102_4500, 24)),
            ValidQuery(name: "mail.example.com", type: .mx),
            ValidQuery(name: "txt.example.com", type: .txt),
            ValidQuery(name: "nx.example.com", type: .a),
            ValidQuery(name: "www.example.com", type: .txt),
            ValidQuery(name: "example.com", type: .ns),
            ValidQuery(name: "example.com", type: .soa),
        ]
        var factory = PacketFactory(rng: Random(state: options.seed), valid: valid, validPercent: options.validPercent)
        let expected = { (bytes: [UInt8]) -> [UInt8]? in
            Authority.respond(to: bytes, source: .v4(0x7f00_0001), transport: .udp, catalog: catalog)
        }

        let daemon = try DaemonProcess(binary: options.geodns, config: options.config)
        defer {
            _ = daemon.stop()
            if !options.keepLog { try? FileManager.default.removeItem(at: daemon.log) }
        }
        let client = try UDPClient(port: daemon.port)

        // Ready: an SOA answer (60 s at most: a debug daemon loads the policy first).
        var rcase = Random(state: 7)
        let probe = factory.encode(ValidQuery(name: "example.com", type: .soa), id: 1, randomCase: &rcase)
        var ready = false
        for _ in 0..<300 where !ready {
            guard daemon.process.isRunning else { throw HostileError("geodns exited:\n\(daemon.text)") }
            _ = client.send(probe)
            client.receive(ms: 200, until: { ready }) { _ in ready = true }
        }
        guard ready else { throw HostileError("geodns did not answer:\n\(daemon.text)") }
        client.receive(ms: 200, until: { false }) { _ in }   // late probe replies

        // Warm up (caches, allocator) before the RSS baseline, then the counters baseline.
        var warm = 0
        for (i, q) in valid.enumerated() {
            for k in 0..<20 { _ = client.send(factory.encode(q, id: UInt16(i * 20 + k), randomCase: &rcase)) }
        }
        client.receive(ms: 2000, until: { warm >= valid.count * 20 }) { _ in warm += 1 }
        guard let before = daemon.counters() else { throw HostileError("no counters line after SIGUSR1:\n\(daemon.text)") }
        let rssBefore = daemon.rssKiB

        // The storm, in batches; each batch waits for its valid replies (self-clocking, so no
        // socket buffer overflows and a lost valid reply is the daemon's fault).
        var sent = 0, sendFailures = 0, replies = 0, validSent = 0, validOK = 0
        var bytesOut = 0, bytesIn = 0
        var wrong: [String] = []
        var byKind: [Kind: Int] = [:]
        var pending: [UInt16: [UInt8]] = [:]
        var nextValidID: UInt16 = 0
        let batch = 1000
        var timedOut = false
        while sent < options.count {
            if elapsed(started) > options.seconds { timedOut = true; break }
            let n = min(batch, options.count - sent)
            for _ in 0..<n {
                let kind = factory.kind()
                var packet: [UInt8]
                if kind == .valid {
                    let id = nextValidID
                    nextValidID = (nextValidID + 1) % UInt16(PacketFactory.validIDs)
                    packet = factory.make(.valid, id: id)
                    guard let want = expected(packet) else { continue }
                    pending[id] = want
                    validSent += 1
                } else {
                    packet = factory.make(kind, id: 0)
                }
                if client.send(packet) {
                    sent += 1
                    bytesOut += packet.count
                    byKind[kind, default: 0] += 1
                } else {
                    sendFailures += 1
                }
            }
            client.receive(ms: 5000, until: { pending.isEmpty }) { reply in
                replies += 1
                bytesIn += reply.count
                guard reply.count >= 2 else { return }
                let id = UInt16(reply[0]) << 8 | UInt16(reply[1])
                guard Int(id) < PacketFactory.validIDs, let want = pending.removeValue(forKey: id) else { return }
                if reply == want { validOK += 1 } else if wrong.count < 5 {
                    wrong.append("id \(id): got \(reply.count) bytes \(reply.prefix(48).map { String(format: "%02x", $0) }.joined()) want \(want.count) bytes \(want.prefix(48).map { String(format: "%02x", $0) }.joined())")
                }
            }
            for (id, _) in pending where wrong.count < 5 { wrong.append("id \(id): no reply") }
            pending.removeAll()
        }
        client.receive(ms: 1000, until: { false }) { replies += 1; bytesIn += $0.count }   // stragglers

        // The UDP accounting, before the TCP phase adds to the shared counters.
        let mid = daemon.counters() ?? [:]

        // TCP: garbage over streams, and valid queries among them (answers checked byte for byte).
        let tcp = tcpPhase(port: daemon.port, connections: min(300, max(10, options.count / 300)), rng: &factory, expected: { bytes in
            Authority.respond(to: bytes, source: .v4(0x7f00_0001), transport: .tcp, catalog: catalog)
        })
        var openAfter = -1
        for _ in 0..<40 where openAfter != 0 {
            openAfter = daemon.counters()?["geodns_tcp_connections"] ?? -1
            if openAfter != 0 { usleep(100_000) }
        }

        // Alive, answering, counters, memory.
        var aliveAnswer = false
        let final = factory.encode(ValidQuery(name: "example.com", type: .soa), id: 2, randomCase: &rcase)
        if let want = expected(final) {
            for _ in 0..<10 where !aliveAnswer {
                _ = client.send(final)
                client.receive(ms: 500, until: { aliveAnswer }) { reply in if reply == want { aliveAnswer = true } }
            }
        }
        let rssAfter = daemon.rssKiB
        let after = mid
        func delta(_ name: String) -> Int { (after["geodns_\(name)"] ?? 0) - (before["geodns_\(name)"] ?? 0) }
        let udp = delta("udp_queries_total"), responses = delta("responses_total"), dropped = delta("dropped_total")
        let growthMB = Double(rssAfter - rssBefore) / 1024

        let checks: [(String, Bool)] = [
            ("every valid query got its exact reply (\(validOK)/\(validSent))", validOK == validSent && wrong.isEmpty),
            ("daemon alive and answering", daemon.process.isRunning && aliveAnswer),
            ("RSS growth \(String(format: "%.1f", growthMB)) MiB <= \(options.rssGrowthMB) MiB (\(rssBefore / 1024) -> \(rssAfter / 1024) MiB)",
             rssAfter > 0 && growthMB <= Double(options.rssGrowthMB)),
            ("udp_queries delta \(udp) = datagrams sent \(sent)", udp == sent),
            ("responses \(responses) + dropped \(dropped) = udp_queries \(udp)", responses + dropped == udp),
            ("replies received \(replies) = responses \(responses)", replies == responses),
            ("TCP: \(tcp.connections) connections of garbage and queries; valid answers exact (\(tcp.validOK)/\(tcp.valid))",
             tcp.valid > 0 && tcp.validOK == tcp.valid),
            ("TCP: every connection closed on the daemon's side too (open: \(openAfter))", openAfter == 0),
            ("within the time limit (\(Int(options.seconds)) s)", !timedOut),
            ("no send failures (\(sendFailures))", sendFailures == 0),
        ]
        print("hostile: \(sent) datagrams to 127.0.0.1:\(daemon.port) in \(String(format: "%.1f", elapsed(started))) s, seed \(options.seed)")
        print("  sent by kind: " + Kind.allCases.map { "\($0.rawValue)=\(byKind[$0] ?? 0)" }.joined(separator: " "))
        print("  daemon counters (delta): udp_queries=\(udp) responses=\(responses) dropped=\(dropped) " +
              "error_replies_limited=\(delta("error_replies_limited_total")) rrl_dropped=\(delta("rrl_dropped_total")) " +
              "rrl_slipped=\(delta("rrl_slipped_total")) truncated=\(delta("truncated_total"))")
        print("  bytes: \(bytesOut) sent, \(bytesIn) received back (x\(String(format: "%.2f", Double(bytesIn) / Double(max(1, bytesOut)))): " +
              "what a spoofed flood of this mix would reflect)")
        for w in wrong { print("  WRONG \(w)") }
        var ok = true
        for (what, passed) in checks {
            print("  \(passed ? "ok  " : "FAIL") \(what)")
            ok = ok && passed
        }
        if !ok { print(daemon.text.split(separator: "\n").suffix(20).joined(separator: "\n")) }
        print("hostile: \(ok ? "PASS" : "FAIL")")
        return ok
    }
}
