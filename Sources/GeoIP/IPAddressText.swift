#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Address text <-> numbers, without depending on DNSWire (GeoIP sits beside it).
enum IPAddressText {
    enum Parsed: Hashable, Sendable {
        case v4(UInt32)
        case v6(UInt128)
    }

    /// "192.0.2.1" or any RFC 4291 IPv6 text form (via inet_pton); nil when unparsable.
    static func parse(_ text: String) -> Parsed? {
        guard !text.isEmpty, text.utf8.count <= 64 else { return nil }
        if !text.contains(":") {
            var v4 = in_addr()
            guard inet_pton(AF_INET, text, &v4) == 1 else { return nil }
            return .v4(UInt32(bigEndian: v4.s_addr))
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let value = withUnsafeBytes(of: &v6) { raw in
            raw.reduce(UInt128(0)) { ($0 << 8) | UInt128($1) }
        }
        return .v6(value)
    }

    static func format(ipv4: UInt32) -> String {
        "\(ipv4 >> 24).\((ipv4 >> 16) & 0xff).\((ipv4 >> 8) & 0xff).\(ipv4 & 0xff)"
    }

    /// RFC 5952 canonical text: lowercase, longest run (>= 2) of zero groups as "::".
    static func format(ipv6: UInt128) -> String {
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: ipv6 >> (112 - 16 * $0)) }
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8 && groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var text = ""
        var i = 0
        while i < 8 {
            if i == bestStart {
                text += "::"
                i += bestLength
                continue
            }
            if !text.isEmpty && !text.hasSuffix(":") { text += ":" }
            text += String(groups[i], radix: 16)
            i += 1
        }
        return text
    }

    /// The 16 bytes of an IPv6 address in network order.
    static func bytes(ipv6: UInt128) -> [UInt8] {
        (0..<16).map { UInt8(truncatingIfNeeded: ipv6 >> (120 - 8 * $0)) }
    }
}
