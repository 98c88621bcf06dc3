/// Why a packet (or a piece of text) could not be turned into DNS values.
///
/// Every case maps to exactly one ``Disposition/Kind``: what a server does with a query that
/// fails this way (DESIGN.md, "Wire behaviour"). Offsets are byte offsets into the message.
public enum WireError: Error, Hashable, Sendable, CustomStringConvertible {
    // --- drop: never answer (reflection) ---
    /// Fewer than 12 bytes: not even a header.
    case tooShort(length: Int)
    /// QR=1: a response arrived where a query was expected.
    case notAQuery

    // --- NOTIMP ---
    /// An opcode other than QUERY (RFC 1035 §4.1.1).
    case unsupportedOpcode(OpCode)

    // --- BADVERS ---
    /// EDNS version above 0 (RFC 6891 §6.1.3).
    case badEDNSVersion(UInt8)

    // --- NOTAUTH ---
    /// A well-formed query signed with TSIG: we hold no keys, so none verifies (RFC 8945 §5.2).
    /// `at` is the offset of the TSIG record's owner name.
    case unverifiedTSIG(at: Int)

    // --- FORMERR ---
    /// The input ended inside a field.
    case truncated(at: Int)
    /// QDCOUNT other than 1 in a query (0 is allowed with a COOKIE option, RFC 7873 §5.4).
    case questionCount(UInt16)
    /// A label longer than 63 bytes (RFC 1035 §2.3.4).
    case labelTooLong(at: Int)
    /// A name longer than 255 bytes in wire form (RFC 1035 §2.3.4).
    case nameTooLong(at: Int)
    /// A compression pointer that does not point strictly backwards (loops, forward jumps).
    case badPointer(at: Int)
    /// A compression pointer to offsets 0-11: the header holds no name (RFC 1035 §4.1.4).
    case pointerIntoHeader(at: Int)
    /// Label type 0b01 or 0b10 (RFC 6891 §5 retired extended labels).
    case badLabelType(at: Int)
    /// A length-delimited field (RDATA, an EDNS option) not used up exactly.
    case lengthMismatch(at: Int)
    /// RDATA that does not parse as its type says.
    case badRData(type: RRType, at: Int)
    /// Bytes left after the last counted record.
    case trailingBytes(at: Int)
    /// More than one OPT record (RFC 6891 §6.1.1).
    case multipleOPT
    /// An OPT record whose owner is not the root (RFC 6891 §6.1.2).
    case optNotRoot
    /// An OPT record outside the additional section.
    case optOutsideAdditional
    /// A TSIG record anywhere but last in the additional section (RFC 8945 §5.1).
    case misplacedTSIG
    /// An edns-tcp-keepalive option with data in a query: clients send it empty (RFC 7828 §3.2.1).
    case badTCPKeepalive(length: Int)
    /// More than one Client Subnet option.
    case multipleClientSubnet
    /// A Client Subnet option that breaks RFC 7871 §6 / §7.1.
    case badClientSubnet(ClientSubnetProblem)
    /// A COOKIE option neither 8 nor 16...40 bytes long (RFC 7873 §5.2.2).
    case badCookie(length: Int)
    /// Text that is not a valid domain name, address or mnemonic (API input, not packets).
    case invalidText(String)
    /// A record that the seed API refuses (CNAME and other data at one name, RFC 1034 §3.6.2).
    case cnameConflict(DomainName)

    /// What is wrong with an ECS option (RFC 7871 §6, §7.1.1).
    public enum ClientSubnetProblem: Hashable, Sendable, CustomStringConvertible {
        case shortOption            // fewer than 4 bytes
        case unknownFamily(UInt16)  // FAMILY not 1 or 2
        case sourceTooLong(UInt8)   // SOURCE PREFIX-LENGTH above 32 / 128
        case scopeTooLong(UInt8)    // SCOPE PREFIX-LENGTH above 32 / 128
        case scopeInQuery(UInt8)    // SCOPE PREFIX-LENGTH must be 0 in queries
        case addressLength(Int)     // ADDRESS not ceil(source/8) bytes
        case bitsPastPrefix         // ADDRESS has bits set after SOURCE PREFIX-LENGTH

        public var description: String {
            switch self {
            case .shortOption: "option shorter than 4 bytes"
            case .unknownFamily(let f): "unknown family \(f)"
            case .sourceTooLong(let s): "source prefix \(s) too long for the family"
            case .scopeTooLong(let s): "scope prefix \(s) too long for the family"
            case .scopeInQuery(let s): "scope prefix \(s) in a query (must be 0)"
            case .addressLength(let n): "address of \(n) bytes does not match the source prefix"
            case .bitsPastPrefix: "address bits set past the source prefix"
            }
        }
    }

    /// The one reply this failure gets.
    public var disposition: Disposition.Kind {
        switch self {
        case .tooShort, .notAQuery: .drop
        case .unsupportedOpcode: .notImp
        case .badEDNSVersion: .badVers
        case .unverifiedTSIG: .notAuth
        default: .formErr
        }
    }

    public var description: String {
        switch self {
        case .tooShort(let n): "message of \(n) bytes is shorter than a header"
        case .notAQuery: "QR=1: not a query"
        case .unsupportedOpcode(let o): "opcode \(o.rawValue) not implemented"
        case .badEDNSVersion(let v): "EDNS version \(v) not supported"
        case .truncated(let at): "message ends inside a field at offset \(at)"
        case .questionCount(let n): "QDCOUNT \(n), expected 1"
        case .labelTooLong(let at): "label longer than 63 bytes at offset \(at)"
        case .nameTooLong(let at): "name longer than 255 bytes at offset \(at)"
        case .badPointer(let at): "compression pointer at offset \(at) does not point backwards"
        case .pointerIntoHeader(let at): "compression pointer at offset \(at) points into the header"
        case .badLabelType(let at): "unsupported label type at offset \(at)"
        case .lengthMismatch(let at): "length-delimited field not used up exactly at offset \(at)"
        case .badRData(let t, let at): "malformed \(t) RDATA at offset \(at)"
        case .trailingBytes(let at): "trailing bytes after the last record at offset \(at)"
        case .multipleOPT: "more than one OPT record"
        case .optNotRoot: "OPT record owner is not the root"
        case .optOutsideAdditional: "OPT record outside the additional section"
        case .unverifiedTSIG(let at): "TSIG record at offset \(at): no key to verify it with"
        case .misplacedTSIG: "TSIG record not last in the additional section"
        case .badTCPKeepalive(let n): "edns-tcp-keepalive option with \(n) data bytes in a query (must be empty)"
        case .multipleClientSubnet: "more than one Client Subnet option"
        case .badClientSubnet(let p): "bad Client Subnet option: \(p)"
        case .badCookie(let n): "COOKIE option of \(n) bytes (must be 8 or 16 to 40)"
        case .invalidText(let s): "invalid text: \(s)"
        case .cnameConflict(let n): "\(n) has a CNAME and other data"
        }
    }
}
