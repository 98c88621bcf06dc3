import Atomics
import CSocket
import DNSWire
import Dispatch
import Policy

#if canImport(Glibc)
import Glibc
#endif

/// The UDP data path without an event loop: one socket per thread (SO_REUSEPORT spreads the
/// flows over them), `recvmmsg` a batch into preallocated buffers, answer each datagram in place,
/// `sendmmsg` the batch back. Nothing on this path allocates per datagram.
final class UDPWorker: @unchecked Sendable {
    /// Answers one datagram: query bytes, client, Unix time (for DNS Cookies), space for the
    /// reply -> reply length (0 = drop), and whether the query carried a valid server cookie.
    typealias Answerer = (UnsafeRawBufferPointer, ClientAddress, UInt32, UnsafeMutableRawBufferPointer) -> (size: Int, validCookie: Bool)

    static let batch = 64
    static let slot = 4096         // receive buffer per datagram (a DNS query is far smaller)
    static let replySlot = 65535 & ~7  // reply buffer per datagram (limited further by EDNS/settings)

    let fd: Int32
    let address: ServerSettings.ListenAddress
    private let answer: Answerer
    private let metrics: ServerMetrics
    /// Error-reply limiting and RRL (ReplyLimits.swift); set by DNSServer.start before `start()`.
    var limits: ReplyLimits?
    private let stopRequested = ManagedAtomic<Bool>(false)
    private var thread: pthread_t?

    /// Binds a UDP socket with SO_REUSEPORT on `address`.
    init(address: ServerSettings.ListenAddress, metrics: ServerMetrics, answer: @escaping Answerer) throws(SocketError) {
        self.address = address
        self.answer = answer
        self.metrics = metrics
        let isV6 = address.host.contains(":")
        let fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket", errno) }
        do throws(SocketError) {
            try Self.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
            try Self.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT")
            try UDPWorker.applyDatagramOptions(fd: fd, isV6: isV6)
            // Wake up now and then to notice a stop request.
            var tv = timeval(tv_sec: 0, tv_usec: 200_000)
            guard setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                throw SocketError("setsockopt SO_RCVTIMEO", errno)
            }
            if isV6 { try Self.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "IPV6_V6ONLY") }
        } catch {
            close(fd)
            throw error
        }
        let rc: Int32
        if isV6 {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = in_port_t(UInt16(truncatingIfNeeded: address.port).bigEndian)
            guard inet_pton(AF_INET6, address.host, &sa.sin6_addr) == 1 else { close(fd); throw SocketError("bad address \(address.host)", 0) }
            rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = in_port_t(UInt16(truncatingIfNeeded: address.port).bigEndian)
            guard inet_pton(AF_INET, address.host, &sa.sin_addr) == 1 else { close(fd); throw SocketError("bad address \(address.host)", 0) }
            rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard rc == 0 else { let e = errno; close(fd); throw SocketError("bind \(address)", e) }
        self.fd = fd
    }

    /// The UDP socket options both engines use (NIO's channels get them in DNSServer.start):
    /// `dontFragment` and a 4 MiB receive buffer against bursts.
    /// Each option is set at the level the kernel defines it at (a wrong level sets another
    /// option: issue 16's SO_DEBUG), and a refusal is an error at start, never silently ignored.
    /// SO_RCVBUF above net.core.rmem_max is capped by the kernel, not refused, so it needs no privilege.
    static func applyDatagramOptions(fd: Int32, isV6: Bool) throws(SocketError) {
        let (level, name, value) = dontFragment(isV6: isV6)
        try setOption(fd, level, name, value, isV6 ? "IPV6_MTU_DISCOVER" : "IP_MTU_DISCOVER")
        try setOption(fd, SOL_SOCKET, SO_RCVBUF, receiveBuffer, "SO_RCVBUF")
    }

    /// setsockopt with an Int32 value; a failure names the option and errno.
    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ what: String) throws(SocketError) {
        var v = value
        guard setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SocketError("setsockopt \(what)", errno)
        }
    }

    static let receiveBuffer: Int32 = 4 << 20

    /// RFC 9715 §3.1 as (level, option, value) for setsockopt: DF set and path-MTU updates
    /// ignored (IP(V6)_PMTUDISC_PROBE: no forged "fragmentation needed" shrinks our replies,
    /// which are capped at the payload size anyway; with DF set the kernel also skips IP-ID
    /// generation per reply).
    static func dontFragment(isV6: Bool) -> (level: Int32, name: Int32, value: Int32) {
        isV6 ? (Int32(IPPROTO_IPV6), Int32(IPV6_MTU_DISCOVER), Int32(IPV6_PMTUDISC_PROBE))
             : (Int32(IPPROTO_IP), Int32(IP_MTU_DISCOVER), Int32(IP_PMTUDISC_PROBE))
    }

    /// Starts the worker thread.
    func start() {
        let box = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            guard let arg else { return nil }
            let worker = Unmanaged<UDPWorker>.fromOpaque(arg).takeRetainedValue()
            worker.loop()
            return nil
        }, box.toOpaque())
        if rc == 0 {
            thread = tid
        } else {
            box.release()
        }
    }

    /// Asks the thread to finish its batch and waits for it; closes the socket.
    func stop() {
        stopRequested.store(true, ordering: .relaxed)
        // Joined, not detached: the thread has finished its batch and freed its buffers when
        // stop returns (and ThreadSanitizer sees no leaked thread).
        if let tid = thread {
            pthread_join(tid, nil)
            thread = nil
        }
        close(fd)
    }

    private func loop() {
        let n = UDPWorker.batch
        let inBuffers = UnsafeMutableRawPointer.allocate(byteCount: n * UDPWorker.slot, alignment: 16)
        let outBuffers = UnsafeMutableRawPointer.allocate(byteCount: n * UDPWorker.replySlot, alignment: 16)
        let names = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: n)
        let inIov = UnsafeMutablePointer<iovec>.allocate(capacity: n)
        let outIov = UnsafeMutablePointer<iovec>.allocate(capacity: n)
        let inMsgs = UnsafeMutablePointer<geodns_mmsghdr>.allocate(capacity: n)
        let outMsgs = UnsafeMutablePointer<geodns_mmsghdr>.allocate(capacity: n)
        defer {
            inBuffers.deallocate(); outBuffers.deallocate(); names.deallocate()
            inIov.deallocate(); outIov.deallocate(); inMsgs.deallocate(); outMsgs.deallocate()
        }
        for i in 0..<n {
            inIov[i] = iovec(iov_base: inBuffers + i * UDPWorker.slot, iov_len: UDPWorker.slot)
        }
        var unixTime = CookieSecrets.now()
        var unixTimeSecond = limits == nil ? 0 : ResponseRateLimiter.now()
        while !stopRequested.load(ordering: .relaxed) {
            for i in 0..<n {
                var h = msghdr()
                h.msg_name = UnsafeMutableRawPointer(names + i)
                h.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                h.msg_iov = inIov + i
                h.msg_iovlen = 1
                inMsgs[i] = geodns_mmsghdr(msg_hdr: h, msg_len: 0)
            }
            let received = geodns_recvmmsg(fd, inMsgs, UInt32(n))
            if received <= 0 { continue }   // timeout (stop check), EINTR, or a transient error
            let second = limits == nil ? 0 : ResponseRateLimiter.now()
            // Server cookies' timestamp: the real-time clock read again only when the monotonic
            // second read for the limits moves on (at low load a batch is one datagram).
            if second != unixTimeSecond || limits == nil {
                unixTime = CookieSecrets.now()
                unixTimeSecond = second
            }
            var replies = 0
            for i in 0..<Int(received) {
                let length = Int(inMsgs[i].msg_len)
                guard inMsgs[i].msg_hdr.msg_flags & geodns_msg_trunc() == 0,
                      let client = ClientAddress(sockaddr: names + i) else {
                    metrics.dropped.wrappingIncrement(ordering: .relaxed)
                    continue
                }
                let query = UnsafeRawBufferPointer(start: inBuffers + i * UDPWorker.slot, count: length)
                let out = UnsafeMutableRawBufferPointer(start: outBuffers + replies * UDPWorker.replySlot, count: UDPWorker.replySlot)
                // The answer, then the reply limits (ReplyLimits.respond, shared with the NIO
                // engine): may drop the reply (0) or slip it (TC=1).
                let size = limits?.respond(to: query, client: client, into: out, now: second, unixTime: unixTime, answer: answer)
                    ?? answer(query, client, unixTime, out).size
                guard size > 0 else {
                    metrics.dropped.wrappingIncrement(ordering: .relaxed)
                    continue
                }
                outIov[replies] = iovec(iov_base: out.baseAddress, iov_len: size)
                var h = msghdr()
                h.msg_name = UnsafeMutableRawPointer(names + i)
                h.msg_namelen = inMsgs[i].msg_hdr.msg_namelen
                h.msg_iov = outIov + replies
                h.msg_iovlen = 1
                outMsgs[replies] = geodns_mmsghdr(msg_hdr: h, msg_len: 0)
                replies += 1
                metrics.countRcode(flags: out[3])
            }
            metrics.udpQueries.wrappingIncrement(by: Int(received), ordering: .relaxed)
            metrics.responses.wrappingIncrement(by: replies, ordering: .relaxed)
            var sent = 0
            while sent < replies {
                let rc = geodns_sendmmsg(fd, outMsgs + sent, UInt32(replies - sent))
                if rc < 0 {
                    if errno == EINTR { continue }
                    // The kernel refused this datagram (e.g. EAGAIN, an unreachable peer): skip it.
                    metrics.dropped.wrappingIncrement(ordering: .relaxed)
                    sent += 1
                    continue
                }
                sent += Int(rc)
            }
        }
    }
}

struct SocketError: Error, CustomStringConvertible {
    let what: String
    let code: Int32
    init(_ what: String, _ code: Int32) { self.what = what; self.code = code }
    var description: String { code == 0 ? what : "\(what): \(String(cString: strerror(code)))" }
}

