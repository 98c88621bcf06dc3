import DNSWire
import Foundation
import Testing

/// CAA (RFC 8659) and SVCB/HTTPS (RFC 9460) from presentation form to RDATA bytes and back,
/// checked against the RFCs' own vectors and against dnspython (its parser of the same text must
/// give our bytes, and its reader of our bytes must give the same presentation).
@Suite struct CAASVCBTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var type: String          // "CAA", "HTTPS" or "SVCB"
        var text: String
        var hex: String?          // a vector from the RFC, when there is one
        var testDescription: String { "\(type) \(text)" }
    }

    static let rows: [Row] = [
        .init(type: "CAA", text: "0 issue \"letsencrypt.org\"", hex: "00 05 697373756 5 6c657473656e63727970742e6f7267"),
        .init(type: "CAA", text: "128 issuewild \";\"", hex: "80 09 69737375657769 6c64 3b"),
        .init(type: "CAA", text: "0 iodef \"mailto:security@example.com\"", hex: nil),
        .init(type: "CAA", text: "0 issue \"ca.example.net; account=230123\"", hex: nil),
        .init(type: "CAA", text: "0 tbs \"Unknown\\\"quote\\255\"", hex: nil),
        // RFC 9460 Appendix D.1 and D.2.
        .init(type: "HTTPS", text: "0 foo.example.com.", hex: "0000 03666f6f076578616d706c6503636f6d00"),
        .init(type: "SVCB", text: "1 .", hex: "0001 00"),
        .init(type: "SVCB", text: "16 foo.example.com. port=53", hex: "0010 03666f6f076578616d706c6503636f6d00 0003 0002 0035"),
        .init(type: "SVCB", text: "1 foo.example.com. key667=hello", hex: "0001 03666f6f076578616d706c6503636f6d00 029b 0005 68656c6c6f"),
        .init(type: "SVCB", text: "1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1",
              hex: "0001 03666f6f076578616d706c6503636f6d00 0006 0020 20010db8000000000000000000000001 20010db8000000000000000000530001"),
        .init(type: "SVCB", text: "16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1",
              hex: "0010 03666f6f076578616d706c65036f726700 0000 0004 00010004 0001 0009 026832 05 6833 2d3139 0004 0004 c0000201"),
        .init(type: "HTTPS", text: "1 . alpn=h2,h3 ipv4hint=192.0.2.1", hex: nil),
        .init(type: "HTTPS", text: "1 svc.example.net. alpn=h2 no-default-alpn port=8443 ipv6hint=2001:db8::1", hex: nil),
        .init(type: "HTTPS", text: "1 . ech=AEX+DQBBpQAgACCW2/dfOBZAtQU55/py/BlhdRdaauPAkrERAUwppoeSEgAEAAEAAQASY2xvdWRmbGFyZS1lY2guY29tAAA=", hex: nil),
    ]

    static func encode(_ row: Row) throws -> [UInt8] {
        row.type == "CAA" ? try CAARecord(presentation: row.text).wire : try SVCBRecord(presentation: row.text).wire
    }

    static func present(_ row: Row, _ wire: [UInt8]) throws -> String {
        row.type == "CAA" ? try CAARecord(wire: wire).presentation : try SVCBRecord(wire: wire).presentation
    }

    @Test(arguments: rows)
    func matchesTheRFCVectorAndRoundTrips(_ row: Row) throws {
        let wire = try Self.encode(row)
        if let hex = row.hex { #expect(Hex.string(wire) == Hex.string(Hex.bytes(hex))) }
        // decode(encode(x)) == x, through the presentation we print.
        let text = try Self.present(row, wire)
        let again = row.type == "CAA" ? try CAARecord(presentation: text).wire : try SVCBRecord(presentation: text).wire
        #expect(again == wire, "\(text)")
        // And inside a whole message, as the server sends it.
        var m = Message(replyingTo: Query(header: Header(id: 7, questionCount: 1), question: Question(name: try DomainName("example.com"), type: .caa)))
        let type: RRType = row.type == "CAA" ? .caa : row.type == "HTTPS" ? .https : .svcb
        m.answers = [ResourceRecord(name: try DomainName("example.com"), ttl: 60, rdata: .unknown(type: type, data: wire))]
        #expect(try Message(decoding: m.encode()).answers == m.answers)
    }

    @Test func dnspythonAgrees() throws {
        var lines: [String] = []
        for row in Self.rows {
            let wire = try Self.encode(row)
            lines.append([row.type, Hex.string(wire), try Self.present(row, wire), row.text].joined(separator: "\t"))
        }
        // For each row: dnspython's parse of the YAML text gives our bytes; its text of our
        // bytes, parsed again, gives our bytes; and our presentation parses to our bytes too.
        let script = """
            import sys, dns.rdata, dns.rdataclass, dns.rdatatype
            bad = 0
            for line in sys.stdin.read().splitlines():
                t, hexwire, ours, given = line.split("\\t")
                rt = dns.rdatatype.from_text(t)
                wire = bytes.fromhex(hexwire)
                theirs = dns.rdata.from_text(dns.rdataclass.IN, rt, given).to_wire().hex()
                read = dns.rdata.from_wire(dns.rdataclass.IN, rt, wire, 0, len(wire))
                back = dns.rdata.from_text(dns.rdataclass.IN, rt, read.to_text()).to_wire().hex()
                ours_parsed = dns.rdata.from_text(dns.rdataclass.IN, rt, ours).to_wire().hex()
                if not (theirs == hexwire == back == ours_parsed):
                    bad += 1
                    print("MISMATCH", t, given, "| ours", hexwire, "| dnspython", theirs, "| read", read.to_text())
            print("checked, bad", bad)
            sys.exit(1 if bad else 0)
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = output
        try p.run()
        input.fileHandleForWriting.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "dnspython (make deps):\n\(text)")
        #expect(text.contains("checked, bad 0"), "\(text)")
    }

    @Test(arguments: [
        ("0 issue", "CAA must be 'FLAGS TAG VALUE'"),
        ("256 issue \"x\"", "CAA flags '256' must be 0...255"),
        ("0 is-sue \"x\"", "CAA tag 'is-sue' must be 1-15 ASCII letters or digits"),
    ])
    func caaRejects(_ text: String, _ message: String) {
        #expect { _ = try CAARecord(presentation: text) } throws: { ($0 as? PresentationError)?.message.hasPrefix(message) == true }
    }

    @Test(arguments: [
        ("0 . alpn=h2", "priority 0 is AliasMode, which takes no SvcParams"),
        ("1 . alpn=h2 alpn=h3", "SvcParam alpn is given twice"),
        ("1 . no-default-alpn", "no-default-alpn needs alpn too"),
        ("1 . mandatory=port alpn=h2", "mandatory lists port, which is not given"),
        ("1 . mandatory=mandatory", "mandatory cannot list mandatory itself"),
        ("1 . alpn", "SvcParam alpn needs a value"),
        ("1 . port=http", "port 'http' must be 0...65535"),
        ("1 . ipv4hint=2001:db8::1", "ipv4hint '2001:db8::1' is not an IPv4 address"),
        ("1 . ech=@@", "ech must be base64"),
        ("1 . alpn=\"h2", "unterminated quote"),
        ("1 . colour=blue", "unknown SvcParam 'colour'"),
        ("1 . key65535=x", "key65535 is reserved"),
    ])
    func svcbRejects(_ text: String, _ message: String) {
        #expect { _ = try SVCBRecord(presentation: text) } throws: { ($0 as? PresentationError)?.message.hasPrefix(message) == true }
    }
}
