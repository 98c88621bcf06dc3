#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Policy

extension ClientAddress {
    /// The packet's source as the answer engine's client address (IPv4-mapped IPv6 sources,
    /// as dual-stack sockets report them, count as IPv4).
    init?(_ address: SocketAddress) {
        switch address {
        case .v4(let a):
            self = .v4(UInt32(bigEndian: a.address.sin_addr.s_addr))
        case .v6(let a):
            var sin6 = a.address.sin6_addr
            let value = withUnsafeBytes(of: &sin6) { raw -> UInt128 in
                var v: UInt128 = 0
                for b in raw { v = v << 8 | UInt128(b) }
                return v
            }
            if value >> 32 == 0xffff {
                self = .v4(UInt32(truncatingIfNeeded: value))
            } else {
                self = .v6(value)
            }
        case .unixDomainSocket:
            return nil
        }
    }
}

extension ClientAddress {
    /// From a raw socket address as `recvmmsg` fills it in.
    init?(sockaddr storage: UnsafePointer<sockaddr_storage>) {
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            let value = storage.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
            self = .v4(UInt32(bigEndian: value))
        case AF_INET6:
            let value = storage.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p -> UInt128 in
                withUnsafeBytes(of: p.pointee.sin6_addr) { raw in
                    var v: UInt128 = 0
                    for b in raw { v = v << 8 | UInt128(b) }
                    return v
                }
            }
            self = value >> 32 == 0xffff ? .v4(UInt32(truncatingIfNeeded: value)) : .v6(value)
        default:
            return nil
        }
    }
}
