import DNSWire
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// RFC 9715 §3.1: UDP replies leave with DF set and without path-MTU discovery
/// (IP_PMTUDISC_PROBE, UDPWorker.applyDatagramOptions), on both UDP engines. Seen from a raw
/// socket (needs CAP_NET_RAW; skipped without it): the reply's IPv4 header has DF and, DF set
/// with PMTU ignored, IP ID 0 (the kernel generates no ID) — the default socket sends IDs.
@Suite("UDP replies: DF set, PMTU ignored", .serialized, .enabled(if: RawUDP.available))
struct DontFragmentEndToEndTests {
    @Test("reply IPv4 header: DF = 1, ID = 0", arguments: ["recvmmsg", "nio"])
    func dontFragment(engine: String) throws {
        let dir = try PolicyDir(yaml: wirePolicy)
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath, arguments: ["--udp-engine", engine])
        defer { _ = daemon.stop() }
        let raw = socket(AF_INET, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_UDP))
        try #require(raw >= 0)
        defer { close(raw) }
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(raw, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let udp = Loopback.udpSocket()
        defer { close(udp) }
        var headers: [(df: Bool, id: UInt16)] = []
        for i in 0..<3 {
            Loopback.sendUDP(udp, Loopback.query("www.example.com", .a, id: UInt16(0x5150 + i)), port: daemon.port)
            let deadline = Date().addingTimeInterval(3)
            while Date() < deadline {
                var packet = [UInt8](repeating: 0, count: 2048)
                let n = packet.withUnsafeMutableBytes { recv(raw, $0.baseAddress, $0.count, 0) }
                guard n >= 28 else { continue }
                let ihl = Int(packet[0] & 0x0f) * 4
                guard n >= ihl + 8, Int(packet[ihl]) << 8 | Int(packet[ihl + 1]) == daemon.port else { continue }
                headers.append((df: packet[6] & 0x40 != 0, id: UInt16(packet[4]) << 8 | UInt16(packet[5])))
                break
            }
        }
        #expect(headers.count == 3, "replies seen on the raw socket (\(engine))")
        for h in headers {
            #expect(h.df, "DF set (\(engine))")
            #expect(h.id == 0, "IP ID 0: DF with path-MTU discovery off (\(engine))")
        }
    }
}

/// Whether this process may open a raw socket (root or CAP_NET_RAW).
enum RawUDP {
    static let available: Bool = {
        let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_UDP))
        if fd >= 0 { close(fd) }
        return fd >= 0
    }()
}
