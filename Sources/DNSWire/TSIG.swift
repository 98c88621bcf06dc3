/// TSIG (RFC 8945 §4.2) as far as a server without keys needs it: the shape check of a query's
/// TSIG record and the unsigned error reply of §5.2 / §5.3.2 (NOTAUTH, error BADKEY).
///
/// ```
/// NAME = key name | TYPE = 250 | CLASS = ANY | TTL = 0 | RDLENGTH |
/// RDATA = Algorithm Name | Time Signed (u48) | Fudge (u16) | MAC Size (u16) | MAC |
///         Original ID (u16) | Error (u16) | Other Len (u16) | Other Data
/// ```
public enum TSIG {
    /// TSIG error 17: the key is not known to the server (RFC 8945 §5.2).
    public static let badKey: UInt16 = 17
    /// Written in error replies: the RFC 8945 §10 recommendation, Knot's value.
    public static let fudge: UInt16 = 300

    /// After the owner name and TYPE: CLASS, TTL, RDLENGTH, and RDATA of the TSIG shape that
    /// uses RDLENGTH up exactly (anything else: FORMERR).
    static func skipBody(_ r: inout WireReader) throws(WireError) {
        try r.skip(6)                                   // CLASS, TTL
        let length = Int(try r.u16())
        try r.restricted(to: length) { (d: inout WireReader) throws(WireError) in
            try d.skipName()                            // Algorithm Name
            try d.skip(8)                               // Time Signed, Fudge
            try d.skip(Int(try d.u16()))                // MAC Size, MAC
            try d.skip(4)                               // Original ID, Error
            try d.skip(Int(try d.u16()))                // Other Len, Other Data
        }
    }
}

extension Query {
    /// NOTAUTH for a TSIG-signed query (RFC 8945 §5.2: we hold no keys, so the key is unknown:
    /// BADKEY), ending with the unsigned TSIG of §5.3.2 as Knot writes it: the query's key name and
    /// algorithm, its Time Signed, our fudge, MAC Size 0, Original ID = the query's ID, Error
    /// BADKEY, no other data. `tsigAt` is the TSIG owner's offset (`WireError.unverifiedTSIG`).
    /// Nil when `bytes` is shorter than a header.
    static func tsigErrorReply(to bytes: [UInt8], tsigAt: Int, payloadSize: UInt16) -> [UInt8]? {
        guard var reply = errorReply(to: bytes, rcode: .notAuth, payloadSize: payloadSize) else { return nil }
        var r = WireReader(bytes, offset: tsigAt)
        guard let key = try? r.name(), (try? r.skip(10)) != nil,     // TYPE, CLASS, TTL, RDLENGTH
              let algorithm = try? r.name(), let timeSigned = try? r.take(6) else { return reply }
        var rdata = algorithm.wireBytes + timeSigned
        rdata += [UInt8(TSIG.fudge >> 8), UInt8(TSIG.fudge & 0xFF), 0, 0, bytes[0], bytes[1],
                  UInt8(TSIG.badKey >> 8), UInt8(TSIG.badKey & 0xFF), 0, 0]
        let record = key.wireBytes + [0, 250, 0, 255, 0, 0, 0, 0, UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)] + rdata
        // The error reply stays within 512 bytes like every other: a record that does not fit sets TC.
        guard reply.count + record.count <= 512 else {
            reply[2] |= 0x02
            return reply
        }
        reply += record
        let additional = (Int(reply[10]) << 8 | Int(reply[11])) + 1
        reply[10] = UInt8(truncatingIfNeeded: additional >> 8)
        reply[11] = UInt8(truncatingIfNeeded: additional)
        return reply
    }
}
