/// The EDNS Client Subnet option (RFC 7871 §6), option code 8.
///
/// ```
/// | FAMILY (u16) | SOURCE PREFIX-LENGTH (u8) | SCOPE PREFIX-LENGTH (u8) | ADDRESS (ceil(source/8) bytes) |
/// ```
public struct ClientSubnet: Hashable, Sendable {
    public static let optionCode: UInt16 = 8
    /// 1 = IPv4, 2 = IPv6 (IANA address family numbers).
    public var family: UInt16
    public var sourcePrefix: UInt8
    public var scopePrefix: UInt8
    /// Exactly ceil(sourcePrefix/8) bytes, as on the wire.
    public var address: [UInt8]

    public init(family: UInt16, sourcePrefix: UInt8, scopePrefix: UInt8 = 0, address: [UInt8]) {
        self.family = family; self.sourcePrefix = sourcePrefix; self.scopePrefix = scopePrefix; self.address = address
    }

    /// An option for `address/sourcePrefix` with the address cut to the prefix (bits past it cleared).
    public init(ipv4: IPv4Address, sourcePrefix: UInt8, scopePrefix: UInt8 = 0) {
        let p = min(sourcePrefix, 32)
        let masked = p == 0 ? 0 : ipv4.rawValue & (UInt32.max << (32 - UInt32(p)))
        self.init(family: 1, sourcePrefix: p, scopePrefix: scopePrefix,
                  address: Array(IPv4Address(rawValue: masked).bytes.prefix((Int(p) + 7) / 8)))
    }

    public init(ipv6: IPv6Address, sourcePrefix: UInt8, scopePrefix: UInt8 = 0) {
        let p = min(sourcePrefix, 128)
        let masked = p == 0 ? 0 : ipv6.rawValue & (UInt128.max << (128 - UInt128(p)))
        self.init(family: 2, sourcePrefix: p, scopePrefix: scopePrefix,
                  address: Array(IPv6Address(rawValue: masked).bytes.prefix((Int(p) + 7) / 8)))
    }

    /// The address zero-padded to 4 bytes; nil unless family 1 (or the address is too long).
    public var ipv4: IPv4Address? {
        guard family == 1, address.count <= 4 else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 { v = v << 8 | UInt32(k < address.count ? address[k] : 0) }
        return IPv4Address(rawValue: v)
    }

    /// The address zero-padded to 16 bytes; nil unless family 2 (or the address is too long).
    public var ipv6: IPv6Address? {
        guard family == 2, address.count <= 16 else { return nil }
        var v: UInt128 = 0
        for k in 0..<16 { v = v << 8 | UInt128(k < address.count ? address[k] : 0) }
        return IPv6Address(rawValue: v)
    }

    /// The RFC 7871 §6 / §7.1.1 checks; `isQuery` adds "SCOPE PREFIX-LENGTH must be 0".
    public func validate(isQuery: Bool) throws(WireError) {
        let maxBits: UInt8
        switch family {
        case 1: maxBits = 32
        case 2: maxBits = 128
        default: throw .badClientSubnet(.unknownFamily(family))
        }
        guard sourcePrefix <= maxBits else { throw .badClientSubnet(.sourceTooLong(sourcePrefix)) }
        guard scopePrefix <= maxBits else { throw .badClientSubnet(.scopeTooLong(scopePrefix)) }
        if isQuery && scopePrefix != 0 { throw .badClientSubnet(.scopeInQuery(scopePrefix)) }
        guard address.count == (Int(sourcePrefix) + 7) / 8 else {
            throw .badClientSubnet(.addressLength(address.count))
        }
        let spare = address.count * 8 - Int(sourcePrefix)     // 0...7 bits past the prefix
        if spare > 0, let last = address.last, last & UInt8((1 << spare) - 1) != 0 {
            throw .badClientSubnet(.bitsPastPrefix)
        }
    }
}

/// One EDNS option (RFC 6891 §6.1.2): code and data.
public struct EDNSOption: Hashable, Sendable {
    public var code: UInt16
    public var data: [UInt8]
    public init(code: UInt16, data: [UInt8]) { self.code = code; self.data = data }
}

/// The OPT pseudo-record (RFC 6891 §6.1.2).
///
/// ```
/// NAME = root | TYPE = 41 | CLASS = UDP payload size | TTL = ext-rcode(8) version(8) DO(1) Z(15) | RDATA = options
/// ```
public struct EDNS: Hashable, Sendable {
    public var udpPayloadSize: UInt16
    /// The upper 8 bits of the 12-bit RCODE.
    public var extendedRCode: UInt8
    public var version: UInt8
    public var dnssecOK: Bool
    /// Every option except Client Subnet, in order.
    public var options: [EDNSOption]
    /// The parsed Client Subnet option, if present.
    public var clientSubnet: ClientSubnet?

    public init(udpPayloadSize: UInt16 = 1232, extendedRCode: UInt8 = 0, version: UInt8 = 0, dnssecOK: Bool = false,
                options: [EDNSOption] = [], clientSubnet: ClientSubnet? = nil) {
        self.udpPayloadSize = udpPayloadSize; self.extendedRCode = extendedRCode; self.version = version
        self.dnssecOK = dnssecOK; self.options = options; self.clientSubnet = clientSubnet
    }

    /// Bytes the OPT record takes on the wire.
    public var wireLength: Int {
        var n = 11
        for o in options { n += 4 + o.data.count }
        if let cs = clientSubnet { n += 8 + cs.address.count }
        return n
    }
}
