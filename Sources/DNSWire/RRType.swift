/// A resource record TYPE (RFC 1035 §3.2.2). Open: unknown values round-trip (RFC 3597).
public struct RRType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RRType(rawValue: 1)
    public static let ns = RRType(rawValue: 2)
    public static let cname = RRType(rawValue: 5)
    public static let soa = RRType(rawValue: 6)
    public static let ptr = RRType(rawValue: 12)
    public static let hinfo = RRType(rawValue: 13)
    public static let mx = RRType(rawValue: 15)
    public static let txt = RRType(rawValue: 16)
    public static let aaaa = RRType(rawValue: 28)
    public static let srv = RRType(rawValue: 33)
    public static let opt = RRType(rawValue: 41)
    public static let ds = RRType(rawValue: 43)
    public static let rrsig = RRType(rawValue: 46)
    public static let nsec = RRType(rawValue: 47)
    public static let dnskey = RRType(rawValue: 48)
    public static let svcb = RRType(rawValue: 64)
    public static let https = RRType(rawValue: 65)
    public static let spf = RRType(rawValue: 99)
    public static let tsig = RRType(rawValue: 250)
    public static let ixfr = RRType(rawValue: 251)
    public static let axfr = RRType(rawValue: 252)
    public static let any = RRType(rawValue: 255)
    public static let caa = RRType(rawValue: 257)

    static let mnemonics: [(String, RRType)] = [
        ("A", .a), ("NS", .ns), ("CNAME", .cname), ("SOA", .soa), ("PTR", .ptr), ("HINFO", .hinfo),
        ("MX", .mx), ("TXT", .txt), ("AAAA", .aaaa), ("SRV", .srv), ("OPT", .opt), ("DS", .ds),
        ("RRSIG", .rrsig), ("NSEC", .nsec), ("DNSKEY", .dnskey), ("SVCB", .svcb), ("HTTPS", .https),
        ("SPF", .spf), ("IXFR", .ixfr), ("AXFR", .axfr), ("ANY", .any), ("CAA", .caa),
    ]

    /// "A", "aaaa", "TYPE65" (RFC 3597 §5). Case-insensitive.
    public init?(mnemonic: String) {
        let upper = mnemonic.uppercased()
        if let hit = RRType.mnemonics.first(where: { $0.0 == upper }) {
            self = hit.1
        } else if upper.hasPrefix("TYPE"), let n = UInt16(upper.dropFirst(4)), !upper.dropFirst(4).hasPrefix("+") {
            self.init(rawValue: n)
        } else {
            return nil
        }
    }

    public var description: String {
        RRType.mnemonics.first(where: { $0.1 == self })?.0 ?? "TYPE\(rawValue)"
    }
}

/// A CLASS (RFC 1035 §3.2.4). Open: unknown values round-trip.
public struct RRClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let `in` = RRClass(rawValue: 1)
    public static let ch = RRClass(rawValue: 3)
    public static let hs = RRClass(rawValue: 4)
    public static let none = RRClass(rawValue: 254)
    public static let any = RRClass(rawValue: 255)

    public var description: String {
        switch rawValue {
        case 1: "IN"
        case 3: "CH"
        case 4: "HS"
        case 254: "NONE"
        case 255: "ANY"
        default: "CLASS\(rawValue)"
        }
    }
}

/// The 4-bit OPCODE of the header (RFC 1035 §4.1.1, RFC 1996, RFC 2136).
public struct OpCode: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }
    public static let query = OpCode(rawValue: 0)
    public static let iquery = OpCode(rawValue: 1)
    public static let status = OpCode(rawValue: 2)
    public static let notify = OpCode(rawValue: 4)
    public static let update = OpCode(rawValue: 5)
}

/// A response code, 12 bits: the header's 4 bits plus the OPT record's 8 (RFC 6891 §6.1.3).
public struct RCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }
    public static let noError = RCode(rawValue: 0)
    public static let formErr = RCode(rawValue: 1)
    public static let servFail = RCode(rawValue: 2)
    public static let nxDomain = RCode(rawValue: 3)
    public static let notImp = RCode(rawValue: 4)
    public static let refused = RCode(rawValue: 5)
    public static let notAuth = RCode(rawValue: 9)
    public static let notZone = RCode(rawValue: 10)
    public static let badVers = RCode(rawValue: 16)

    public var description: String {
        switch rawValue {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        case 9: "NOTAUTH"
        case 10: "NOTZONE"
        case 16: "BADVERS"
        default: "RCODE\(rawValue)"
        }
    }
}
