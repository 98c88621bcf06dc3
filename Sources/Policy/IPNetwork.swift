import DNSWire

/// An IPv4 or IPv6 network in CIDR form (`203.0.113.0/24`, `2001:db8::/32`), as written in
/// `regions: networks:` and `tests: subnet:`. Numeric values as in `ClientAddress`.
public enum IPNetwork: Hashable, Sendable, CustomStringConvertible {
    case v4(address: UInt32, prefixLength: Int)
    case v6(address: UInt128, prefixLength: Int)

    /// Why a CIDR text was refused.
    public enum ParseProblem: Error, Hashable, Sendable, CustomStringConvertible {
        case badAddress(String)
        case badPrefixLength(String, max: Int)
        /// Bits set past the prefix; carries the network the author probably meant.
        case hostBitsSet(suggestion: IPNetwork)
        public var description: String {
            switch self {
            case .badAddress(let a): return "'\(a)' is not an IPv4 or IPv6 address"
            case .badPrefixLength(let p, let max): return "prefix length '\(p)' is not in 0...\(max)"
            case .hostBitsSet(let s): return "address has bits set past the prefix length; did you mean \(s)?"
            }
        }
    }

    /// Parses `address/length`; a bare address is a host network (/32 or /128).
    public static func parse(_ text: String) -> Result<IPNetwork, ParseProblem> {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let addressText = String(parts[0]).trimmingSpaces()
        let lengthText = parts.count > 1 ? String(parts[1]).trimmingSpaces() : nil
        if let a = IPv4Address(addressText) {
            var length = 32
            if let l = lengthText {
                guard let n = Int(l), (0...32).contains(n), l.allSatisfy(\.isASCII) else { return .failure(.badPrefixLength(l, max: 32)) }
                length = n
            }
            let net = IPNetwork.v4(address: a.rawValue & IPNetwork.mask4(length), prefixLength: length)
            if case .v4(let masked, _) = net, masked != a.rawValue { return .failure(.hostBitsSet(suggestion: net)) }
            return .success(net)
        }
        if let a = IPv6Address(addressText) {
            var length = 128
            if let l = lengthText {
                guard let n = Int(l), (0...128).contains(n), l.allSatisfy(\.isASCII) else { return .failure(.badPrefixLength(l, max: 128)) }
                length = n
            }
            let net = IPNetwork.v6(address: a.rawValue & IPNetwork.mask6(length), prefixLength: length)
            if case .v6(let masked, _) = net, masked != a.rawValue { return .failure(.hostBitsSet(suggestion: net)) }
            return .success(net)
        }
        return .failure(.badAddress(addressText))
    }

    public var prefixLength: Int {
        switch self {
        case .v4(_, let p), .v6(_, let p): return p
        }
    }

    /// The first address, as a client (what a query with this ECS subnet looks like).
    public var firstAddress: ClientAddress {
        switch self {
        case .v4(let a, _): return .v4(a)
        case .v6(let a, _): return .v6(a)
        }
    }

    /// The last address of the block.
    public var lastAddress: ClientAddress {
        switch self {
        case .v4(let a, let p): return .v4(a | ~IPNetwork.mask4(p))
        case .v6(let a, let p): return .v6(a | ~IPNetwork.mask6(p))
        }
    }

    public func contains(_ client: ClientAddress) -> Bool {
        switch (self, client) {
        case (.v4(let a, let p), .v4(let c)): return c & IPNetwork.mask4(p) == a
        case (.v6(let a, let p), .v6(let c)): return c & IPNetwork.mask6(p) == a
        default: return false
        }
    }

    /// The block of `prefixLength` bits around a client address (for scopes).
    public static func block(around client: ClientAddress, prefixLength: Int) -> IPNetwork {
        switch client {
        case .v4(let a):
            let p = min(max(prefixLength, 0), 32)
            return .v4(address: a & mask4(p), prefixLength: p)
        case .v6(let a):
            let p = min(max(prefixLength, 0), 128)
            return .v6(address: a & mask6(p), prefixLength: p)
        }
    }

    public var description: String {
        switch self {
        case .v4(let a, let p): return "\(IPv4Address(rawValue: a))/\(p)"
        case .v6(let a, let p): return "\(IPv6Address(rawValue: a))/\(p)"
        }
    }

    static func mask4(_ p: Int) -> UInt32 { p <= 0 ? 0 : (p >= 32 ? UInt32.max : ~(UInt32.max >> UInt32(p))) }
    static func mask6(_ p: Int) -> UInt128 { p <= 0 ? 0 : (p >= 128 ? UInt128.max : ~(UInt128.max >> UInt128(p))) }
}

extension ClientAddress: CustomStringConvertible {
    /// Parses "192.0.2.1" or "2001:db8::1".
    public init?(_ text: String) {
        if let a = IPv4Address(text) { self = .v4(a.rawValue) }
        else if let a = IPv6Address(text) { self = .v6(a.rawValue) }
        else { return nil }
    }

    public var description: String {
        switch self {
        case .v4(let a): return IPv4Address(rawValue: a).description
        case .v6(let a): return IPv6Address(rawValue: a).description
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
