/// The 12-byte message header (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD/CD).
///
/// ```
///  0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
/// |                      ID                       |
/// |QR|  OPCODE   |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
/// |          QDCOUNT / ANCOUNT / NSCOUNT / ARCOUNT |
/// ```
public struct Header: Hashable, Sendable {
    public var id: UInt16
    public var isResponse: Bool
    public var opcode: OpCode
    public var authoritative: Bool
    public var truncated: Bool
    public var recursionDesired: Bool
    public var recursionAvailable: Bool
    public var z: Bool
    public var authenticData: Bool
    public var checkingDisabled: Bool
    /// The header's 4 bits when decoded; when encoding, values above 15 put their upper 8 bits in OPT.
    public var rcode: RCode
    public var questionCount: UInt16
    public var answerCount: UInt16
    public var authorityCount: UInt16
    public var additionalCount: UInt16

    public init(id: UInt16 = 0, isResponse: Bool = false, opcode: OpCode = .query, authoritative: Bool = false,
                truncated: Bool = false, recursionDesired: Bool = false, recursionAvailable: Bool = false,
                z: Bool = false, authenticData: Bool = false, checkingDisabled: Bool = false,
                rcode: RCode = .noError, questionCount: UInt16 = 0, answerCount: UInt16 = 0,
                authorityCount: UInt16 = 0, additionalCount: UInt16 = 0) {
        self.id = id; self.isResponse = isResponse; self.opcode = opcode; self.authoritative = authoritative
        self.truncated = truncated; self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable; self.z = z; self.authenticData = authenticData
        self.checkingDisabled = checkingDisabled; self.rcode = rcode; self.questionCount = questionCount
        self.answerCount = answerCount; self.authorityCount = authorityCount; self.additionalCount = additionalCount
    }

    /// The 16 flag bits with the low 4 bits of `rcode`.
    public var flags: UInt16 {
        var f: UInt16 = 0
        if isResponse { f |= 0x8000 }
        f |= UInt16(opcode.rawValue & 0x0F) << 11
        if authoritative { f |= 0x0400 }
        if truncated { f |= 0x0200 }
        if recursionDesired { f |= 0x0100 }
        if recursionAvailable { f |= 0x0080 }
        if z { f |= 0x0040 }
        if authenticData { f |= 0x0020 }
        if checkingDisabled { f |= 0x0010 }
        f |= rcode.rawValue & 0x000F
        return f
    }

    /// Sets every flag field from the 16 flag bits.
    public mutating func setFlags(_ f: UInt16) {
        isResponse = f & 0x8000 != 0
        opcode = OpCode(rawValue: UInt8(truncatingIfNeeded: f >> 11) & 0x0F)
        authoritative = f & 0x0400 != 0
        truncated = f & 0x0200 != 0
        recursionDesired = f & 0x0100 != 0
        recursionAvailable = f & 0x0080 != 0
        z = f & 0x0040 != 0
        authenticData = f & 0x0020 != 0
        checkingDisabled = f & 0x0010 != 0
        rcode = RCode(rawValue: f & 0x000F)
    }
}
