/// SOA RDATA (RFC 1035 §3.3.13).
public struct SOAData: Hashable, Sendable {
    public var mname: DomainName
    public var rname: DomainName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(mname: DomainName, rname: DomainName, serial: UInt32, refresh: UInt32, retry: UInt32,
                expire: UInt32, minimum: UInt32) {
        self.mname = mname; self.rname = rname; self.serial = serial; self.refresh = refresh
        self.retry = retry; self.expire = expire; self.minimum = minimum
    }
}

/// The RDATA of one record. Types this library does not model are kept byte for byte (RFC 3597).
///
/// Wire layouts: A = 4 bytes; AAAA = 16 bytes; CNAME/NS/PTR = a name; MX = u16 preference + name;
/// SOA = mname, rname, 5 x u32; TXT = one or more <character-string>s (length byte + <= 255 bytes);
/// SRV = u16 priority, weight, port + target name (never compressed, RFC 2782);
/// HINFO = two <character-string>s.
public enum RData: Hashable, Sendable {
    case a(IPv4Address)
    case aaaa(IPv6Address)
    case cname(DomainName)
    case ns(DomainName)
    case ptr(DomainName)
    case soa(SOAData)
    case mx(preference: UInt16, exchange: DomainName)
    case txt([[UInt8]])
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DomainName)
    case hinfo(cpu: [UInt8], os: [UInt8])
    case unknown(type: RRType, data: [UInt8])

    public var type: RRType {
        switch self {
        case .a: .a
        case .aaaa: .aaaa
        case .cname: .cname
        case .ns: .ns
        case .ptr: .ptr
        case .soa: .soa
        case .mx: .mx
        case .txt: .txt
        case .srv: .srv
        case .hinfo: .hinfo
        case .unknown(let t, _): t
        }
    }

    /// TXT from text: split into <character-string>s of at most 255 bytes (RFC 1035 §3.3.14).
    public static func txt(text: String) -> RData {
        .txt(splitCharacterStrings(Array(text.utf8)))
    }

    /// Splits bytes into chunks of at most 255; empty input gives one empty string.
    public static func splitCharacterStrings(_ bytes: [UInt8]) -> [[UInt8]] {
        if bytes.isEmpty { return [[]] }
        var out: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            let end = min(i + 255, bytes.count)
            out.append(Array(bytes[i..<end]))
            i = end
        }
        return out
    }
}

/// One resource record (RFC 1035 §4.1.3). Its TYPE is its RDATA's.
public struct ResourceRecord: Hashable, Sendable {
    public var name: DomainName
    public var rrClass: RRClass
    public var ttl: UInt32
    public var rdata: RData
    public var type: RRType { rdata.type }

    public init(name: DomainName, ttl: UInt32, rdata: RData, rrClass: RRClass = .in) {
        self.name = name; self.ttl = ttl; self.rdata = rdata; self.rrClass = rrClass
    }
}

/// One question (RFC 1035 §4.1.2): QNAME, QTYPE, QCLASS.
public struct Question: Hashable, Sendable {
    public var name: DomainName
    public var type: RRType
    public var rrClass: RRClass
    public init(name: DomainName, type: RRType, rrClass: RRClass = .in) {
        self.name = name; self.type = type; self.rrClass = rrClass
    }
}
