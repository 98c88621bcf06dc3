public enum GeoFamily: Hashable, Sendable {
    case v4, v6
}

/// A network of the database. IPv4 networks carry their address in the low 32 bits.
public struct GeoNetwork: Hashable, Sendable, CustomStringConvertible {
    public var family: GeoFamily
    public var address: UInt128
    public var prefixLength: Int

    public init(family: GeoFamily, address: UInt128, prefixLength: Int) {
        self.family = family
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses "192.0.2.0/24" or "2001:db8::/32" (a bare address means a host route).
    /// Returns nil for malformed text or bits set past the prefix.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let address = IPAddressText.parse(String(parts[0]))
        else { return nil }
        let width: Int
        switch address {
        case .v4(let v4): family = .v4; self.address = UInt128(v4); width = 32
        case .v6(let v6): family = .v6; self.address = v6; width = 128
        }
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let length = Int(digits), length <= width else { return nil }
            prefixLength = length
        } else {
            prefixLength = width
        }
        guard self.address & ~GeoNetwork.mask(prefixLength, width: width) == 0 else { return nil }
    }

    /// Bit width of the family: 32 or 128.
    public var width: Int { family == .v4 ? 32 : 128 }

    /// Whether `address` (of the same family) lies in this network.
    public func contains(_ other: UInt128) -> Bool {
        other & GeoNetwork.mask(prefixLength, width: width) == address
    }

    /// The mask with the top `length` bits of a `width`-bit address set, in the low bits.
    static func mask(_ length: Int, width: Int) -> UInt128 {
        let all: UInt128 = width == 128 ? ~0 : (UInt128(1) << width) - 1
        if length <= 0 { return 0 }
        if length >= width { return all }
        return all ^ (all >> length)
    }

    public var description: String {
        switch family {
        case .v4: return IPAddressText.format(ipv4: UInt32(truncatingIfNeeded: address)) + "/\(prefixLength)"
        case .v6: return IPAddressText.format(ipv6: address) + "/\(prefixLength)"
        }
    }
}
