import DNSWire
import Testing

@Suite struct DomainNameTests {
    @Test func parsesAndPrints() throws {
        #expect(try DomainName("www.Example.com").description == "www.Example.com.")
        #expect(try DomainName("www.example.com.").labelCount == 3)
        #expect(try DomainName(".") == DomainName.root)
        #expect(try DomainName("").isRoot)
        #expect(DomainName.root.description == ".")
        #expect(try DomainName("a\\.b.example").labels == [Array("a.b".utf8), Array("example".utf8)])
        #expect(try DomainName("a\\032b.example").labels.first == [0x61, 0x20, 0x62])
        #expect(try DomainName("a\\.b\\032c.example.").description == "a\\.b\\032c.example.")
        #expect(try DomainName(labels: [[0x00, 0x41]]).description == "\\000A.")
    }

    @Test func rejectsBadText() throws {
        #expect(throws: WireError.self) { try DomainName("a..b") }
        #expect(throws: WireError.self) { try DomainName(String(repeating: "a", count: 64) + ".com") }
        #expect(throws: WireError.self) { try DomainName("a\\25") }
        #expect(throws: WireError.self) { try DomainName("a\\256") }
        #expect(throws: WireError.self) { try DomainName(labels: [[]]) }
        let l63 = String(repeating: "a", count: 63)
        // 4 x 63 + root = 257 > 255.
        #expect(throws: WireError.self) { try DomainName([l63, l63, l63, l63].joined(separator: ".")) }
        #expect(try DomainName([l63, l63, l63, String(repeating: "d", count: 61)].joined(separator: ".")).wireLength == 255)
    }

    @Test func equalityAndHashIgnoreCase() throws {
        let a = try DomainName("WWW.Example.COM"), b = try DomainName("www.example.com.")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(Set([a, b]).count == 1)
        #expect(a.description == "WWW.Example.COM.")
        #expect(a.lowercased().description == "www.example.com.")
        #expect(try DomainName("a.example") != DomainName("b.example"))
    }

    @Test func hierarchy() throws {
        let www = try DomainName("www.Example.com"), zone = try DomainName("example.COM")
        #expect(www.isSubdomain(of: zone))
        #expect(zone.isSubdomain(of: zone))
        #expect(www.isSubdomain(of: .root))
        #expect(!zone.isSubdomain(of: www))
        #expect(!(try DomainName("wwwexample.com")).isSubdomain(of: zone))
        #expect(!(try DomainName("xample.com")).isSubdomain(of: zone))
        #expect(www.parent() == zone)
        #expect(DomainName.root.parent() == nil)
        #expect(www.dropFirst(2) == (try DomainName("com")))
        #expect(www.dropFirst(5) == .root)
        #expect(try zone.prepending("*").isWildcard)
        #expect(try zone.prepending("*").description == "*.example.COM.")
        #expect(!www.isWildcard)
        #expect(throws: WireError.self) { try zone.prepending("a.b") }
    }
}

@Suite struct AddressTests {
    @Test(arguments: [
        ("::", "::"), ("::1", "::1"), ("2001:db8::1", "2001:db8::1"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),          // RFC 5952 §4.2.3: first longest run
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),      // §4.2.2: a single 0 stays
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("::ffff:c000:201", "::ffff:192.0.2.1"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("fe80::", "fe80::"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1::8", "1::8"),
    ])
    func ipv6TextForms(_ input: String, _ canonical: String) throws {
        let a = try #require(IPv6Address(input))
        #expect(a.description == canonical)
        #expect(IPv6Address(canonical) == a)
    }

    @Test func ipv6Values() {
        #expect(IPv6Address("::1")?.rawValue == 1)
        #expect(IPv6Address("2001:db8::")?.rawValue == UInt128(0x2001_0db8) << 96)
        #expect(IPv6Address("2001:db8::1")?.bytes == [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1])
    }

    @Test(arguments: [":", ":::", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "g::",
                      "::1.2.3", "::1.2.3.4.5", "1.2.3.4", "", "1:", ":1", "1::2:3:4:5:6:7:8"])
    func ipv6Rejects(_ input: String) {
        #expect(IPv6Address(input) == nil)
    }

    @Test func ipv4() {
        #expect(IPv4Address("192.0.2.1")?.rawValue == 0xC000_0201)
        #expect(IPv4Address("192.0.2.1")?.bytes == [192, 0, 2, 1])
        #expect(IPv4Address(rawValue: 0xC000_0201).description == "192.0.2.1")
        for bad in ["256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1..2.3", "a.b.c.d", "", "1.2.3.4 "] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
        #expect(IPv4Address("0.0.0.0")?.rawValue == 0)
        #expect(IPv4Address(rawValue: 0x0A00_0001) < IPv4Address(rawValue: 0x0A00_0002))
    }

    @Test func clientSubnetFromAddress() throws {
        let cs = ClientSubnet(ipv4: try #require(IPv4Address("192.0.2.77")), sourcePrefix: 25)
        #expect(cs.address == [192, 0, 2, 0])
        #expect(cs.ipv4 == IPv4Address("192.0.2.0"))
        try cs.validate(isQuery: true)
        let v6 = ClientSubnet(ipv6: try #require(IPv6Address("2001:db8:1234:5678::1")), sourcePrefix: 56)
        #expect(v6.address == [0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56])
        try v6.validate(isQuery: true)
        #expect(ClientSubnet(ipv4: IPv4Address(rawValue: 0xFFFF_FFFF), sourcePrefix: 0).address == [])
    }
}
