import DNSWire
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Raw loopback sockets for the abuse tests (dig cannot hold 500 idle connections open).
enum Loopback {
    static func query(_ name: String, _ type: RRType, id: UInt16 = 0x4242) -> [UInt8] {
        let domain = (try? DomainName(name)) ?? .root
        return Message(header: Header(id: id), questions: [Question(name: domain, type: type)],
                       edns: EDNS(udpPayloadSize: 1232)).encode()
    }

    static func address(_ host: UInt32, _ port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        a.sin_addr.s_addr = host.bigEndian
        return a
    }

    /// A connected TCP socket to host:port (an IPv4 loopback address; blocking connect), or -1.
    static func connectTCP(_ port: Int, host: String = "127.0.0.1") -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var a = address(0x7f00_0001, port)
        guard inet_pton(AF_INET, host, &a.sin_addr) == 1 else { close(fd); return -1 }
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if rc != 0 { close(fd); return -1 }
        var tv = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// One framed query over `fd`; the reply message, or nil (closed, timeout).
    static func tcpExchange(_ fd: Int32, _ query: [UInt8]) -> [UInt8]? {
        let framed = [UInt8(query.count >> 8), UInt8(query.count & 0xff)] + query
        guard framed.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == framed.count else { return nil }
        guard let head = readExactly(fd, 2) else { return nil }
        return readExactly(fd, Int(head[0]) << 8 | Int(head[1]))
    }

    static func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return recv(fd, base + got, count - got, 0)
            }
            if n <= 0 { return nil }
            got += n
        }
        return out
    }

    /// True when the peer has closed `fd` (EOF or reset), waiting up to `seconds`.
    static func isClosedByPeer(_ fd: Int32, within seconds: Double) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(seconds * 1000)) > 0 else { return false }
        var b: UInt8 = 0
        return recv(fd, &b, 1, Int32(MSG_DONTWAIT)) <= 0
    }

    /// A UDP socket bound to `source` (any 127/8 address is loopback on Linux), non-blocking.
    static func udpSocket(source: UInt32 = 0x7f00_0001) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var size: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var a = address(source, 0)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        return fd
    }

    static func sendUDP(_ fd: Int32, _ bytes: [UInt8], port: Int) {
        var a = address(0x7f00_0001, port)
        _ = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            } }
        }
    }

    /// Every datagram waiting on `fd` now.
    static func drainUDP(_ fd: Int32) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while out.count < 1_000_000 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 { break }
            out.append(Array(buffer[0..<n]))
        }
        return out
    }
}

extension Daemon {
    /// SIGUSR1, then the counters of the newest `counters` log line (name -> value).
    func counters() -> [String: Int] {
        let before = log.components(separatedBy: "geodns_udp_queries_total=").count
        signal(SIGUSR1)
        for _ in 0..<100 {
            usleep(50_000)
            let text = log
            guard text.components(separatedBy: "geodns_udp_queries_total=").count > before,
                  let line = text.split(separator: "\n").last(where: { $0.contains("geodns_udp_queries_total=") }) else { continue }
            var out: [String: Int] = [:]
            for token in line.split(whereSeparator: { $0 == " " || $0 == "\"" || $0 == "[" || $0 == "]" }) {
                let kv = token.split(separator: "=")
                if kv.count >= 2, let v = Int(kv[kv.count - 1]), kv[kv.count - 2].hasPrefix("geodns_") {
                    out[String(kv[kv.count - 2])] = v
                }
            }
            return out
        }
        return [:]
    }
}
