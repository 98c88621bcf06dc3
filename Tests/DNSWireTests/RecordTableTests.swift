import DNSWire
import Testing

/// Every record type, encoded and decoded both ways against hex that dnspython wrote for the
/// same record (owner ".", class IN, TTL 3600; the bytes after a 12-byte header).
@Suite struct RecordTableTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let rdata: RData
        let hex: String
        var testDescription: String { label }
    }

    static func n(_ s: String) -> DomainName { (try? DomainName(s)) ?? .root }
    static func ip4(_ s: String) -> IPv4Address { IPv4Address(s) ?? IPv4Address(rawValue: 0xFFFF_FFFF) }
    static func ip6(_ s: String) -> IPv6Address { IPv6Address(s) ?? IPv6Address(rawValue: .max) }

    static let cases: [Case] = [
        Case(label: "A 192.0.2.1", rdata: .a(ip4("192.0.2.1")), hex: "000001000100000e100004c0000201"),
        Case(label: "AAAA 2001:db8::1", rdata: .aaaa(ip6("2001:db8::1")),
             hex: "00001c000100000e10001020010db8000000000000000000000001"),
        Case(label: "AAAA ::", rdata: .aaaa(ip6("::")), hex: "00001c000100000e10001000000000000000000000000000000000"),
        Case(label: "AAAA ::ffff:192.0.2.1", rdata: .aaaa(ip6("::ffff:192.0.2.1")),
             hex: "00001c000100000e10001000000000000000000000ffffc0000201"),
        Case(label: "CNAME", rdata: .cname(n("www.example.com.")),
             hex: "000005000100000e10001103777777076578616d706c6503636f6d00"),
        Case(label: "NS", rdata: .ns(n("ns1.example.com.")),
             hex: "000002000100000e100011036e7331076578616d706c6503636f6d00"),
        Case(label: "PTR", rdata: .ptr(n("host.example.")), hex: "00000c000100000e10000e04686f7374076578616d706c6500"),
        Case(label: "SOA (rname compressed onto mname)",
             rdata: .soa(SOAData(mname: n("ns1.example.com."), rname: n("hostmaster.example.com."), serial: 2026112601,
                                 refresh: 7200, retry: 3600, expire: 1209600, minimum: 300)),
             hex: "000006000100000e100032036e7331076578616d706c6503636f6d000a686f73746d6173746572c01b78c4065900001c2000000e10001275000000012c"),
        Case(label: "MX 10", rdata: .mx(preference: 10, exchange: n("mx.example.com.")),
             hex: "00000f000100000e100012000a026d78076578616d706c6503636f6d00"),
        Case(label: "MX 65535 (16-bit preference)", rdata: .mx(preference: 65535, exchange: .root),
             hex: "00000f000100000e100003ffff00"),
        Case(label: "TXT one string", rdata: .txt([Array("v=spf1 -all".utf8)]),
             hex: "000010000100000e10000c0b763d73706631202d616c6c"),
        Case(label: "TXT two strings", rdata: .txt([[0x61], [0x62]]), hex: "000010000100000e10000401610162"),
        Case(label: "TXT empty string", rdata: .txt([[]]), hex: "000010000100000e10000100"),
        Case(label: "SRV", rdata: .srv(priority: 10, weight: 60, port: 5060, target: n("sip.example.com.")),
             hex: "000021000100000e100017000a003c13c403736970076578616d706c6503636f6d00"),
        Case(label: "HINFO", rdata: .hinfo(cpu: Array("x86-64".utf8), os: Array("Linux".utf8)),
             hex: "00000d000100000e10000d067838362d3634054c696e7578"),
        Case(label: "TYPE65534 (RFC 3597)", rdata: .unknown(type: RRType(rawValue: 65534), data: [1, 2, 3]),
             hex: "00fffe000100000e100003010203"),
        Case(label: "SPF kept opaque", rdata: .unknown(type: .spf, data: [6] + Array("v=spf1".utf8)),
             hex: "000063000100000e10000706763d73706631"),
    ]

    static func message(_ rdata: RData) -> Message {
        Message(header: Header(answerCount: 1), answers: [ResourceRecord(name: .root, ttl: 3600, rdata: rdata)])
    }

    @Test(arguments: cases)
    func encodesToHex(_ c: Case) {
        let wire = RecordTableTests.message(c.rdata).encode()
        #expect(Hex.string(Array(wire.dropFirst(12))) == c.hex)
    }

    @Test(arguments: cases)
    func decodesFromHex(_ c: Case) throws {
        let wire = Hex.bytes("000000000000000100000000") + Hex.bytes(c.hex)
        let m = try Message(decoding: wire)
        #expect(m.answers == [ResourceRecord(name: .root, ttl: 3600, rdata: c.rdata)])
        #expect(m.answers.first?.type == c.rdata.type)
    }

    @Test func txtOver255BytesIsSplit() throws {
        let text = String(repeating: "x", count: 300)
        #expect(RData.txt(text: text) == .txt([Array(repeating: 0x78, count: 255), Array(repeating: 0x78, count: 45)]))
        // A single oversized string handed to the encoder is split on the wire too.
        let wire = RecordTableTests.message(.txt([Array(repeating: 0x78, count: 300)])).encode()
        let back = try Message(decoding: wire)
        #expect(back.answers.first?.rdata == .txt([Array(repeating: 0x78, count: 255), Array(repeating: 0x78, count: 45)]))
    }

    @Test func rdataLengthMustBeUsedExactly() {
        // A with RDLENGTH 5.
        let wire = Hex.bytes("000000000000000100000000" + "000001000100000e100005c000020101")
        #expect(throws: WireError.badRData(type: .a, at: 23)) { try Message(decoding: wire) }
        // CNAME whose name ends before RDLENGTH does.
        let cname = Hex.bytes("000000000000000100000000" + "000005000100000e1000030000ff")
        #expect(throws: WireError.lengthMismatch(at: 24)) { try Message(decoding: cname) }
        // CNAME whose name runs past RDLENGTH.
        let past = Hex.bytes("000000000000000100000000" + "000005000100000e1000020161" + "00")
        #expect(throws: WireError.truncated(at: 25)) { try Message(decoding: past) }
    }

    @Test func nonINAddressesStayOpaque() throws {
        // CHAOS-class A records have a different layout (RFC 1035 §3.4.1 is IN only).
        let wire = Hex.bytes("000000000000000100000000" + "0000010003" + "00000e10" + "0002abcd")
        let m = try Message(decoding: wire)
        #expect(m.answers.first?.rdata == .unknown(type: .a, data: [0xab, 0xcd]))
        #expect(m.answers.first?.rrClass == .ch)
        #expect(m.encode() == wire)
    }
}
