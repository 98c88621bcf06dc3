import DNSWire
import Testing

/// The seed's driver API (`lua-resty-dns-server`) as `ResponseBuilder`.
@Suite struct ResponseBuilderTests {
    static func queryBytes(_ name: String, _ type: RRType, ecs: ClientSubnet? = nil, id: UInt16 = 0xBEEF) -> [UInt8] {
        let q = Message(header: Header(id: id, recursionDesired: true),
                        questions: [Question(name: (try? DomainName(name)) ?? .root, type: type)],
                        edns: ecs.map { EDNS(udpPayloadSize: 4096, clientSubnet: $0) })
        return q.encode()
    }

    @Test func seedConstants() {
        #expect(ResponseBuilder.TYPE_A.rawValue == 1)
        #expect(ResponseBuilder.TYPE_NS.rawValue == 2)
        #expect(ResponseBuilder.TYPE_CNAME.rawValue == 5)
        #expect(ResponseBuilder.TYPE_SOA.rawValue == 6)
        #expect(ResponseBuilder.TYPE_PTR.rawValue == 12)
        #expect(ResponseBuilder.TYPE_MX.rawValue == 15)
        #expect(ResponseBuilder.TYPE_TXT.rawValue == 16)
        #expect(ResponseBuilder.TYPE_AAAA.rawValue == 28)
        #expect(ResponseBuilder.TYPE_SRV.rawValue == 33)
        #expect(ResponseBuilder.TYPE_SPF.rawValue == 99)
        #expect(ResponseBuilder.TYPE_ANY.rawValue == 255)
        #expect(ResponseBuilder.RCODE_FORMAT_ERROR.rawValue == 1)
        #expect(ResponseBuilder.RCODE_SERVER_FAILURE.rawValue == 2)
        #expect(ResponseBuilder.RCODE_NAME_ERROR.rawValue == 3)
        #expect(ResponseBuilder.RCODE_NOT_IMPLEMENTED.rawValue == 4)
        #expect(ResponseBuilder.RCODE_REFUSED.rawValue == 5)
        #expect(ResponseBuilder.RCODE_NOTZONE.rawValue == 10)
        #expect(ResponseBuilder.RCODE_BADVERS.rawValue == 16)
    }

    @Test func aAnswerWithECSEcho() throws {
        var dns = ResponseBuilder()
        let ecs = ClientSubnet(family: 1, sourcePrefix: 24, address: [198, 51, 100])
        let q = try dns.decodeRequest(ResponseBuilderTests.queryBytes("www.Example.com", .a, ecs: ecs))
        #expect(q.question.name.description == "www.Example.com.")
        #expect(q.edns?.clientSubnet == ecs)
        try dns.createAAnswer(name: "www.example.com", ttl: 60, ipv4: "192.0.2.1")
        try dns.createAAnswer(name: "www.example.com", ttl: 60, ipv4: "192.0.2.2")
        dns.clientSubnetScope = 24
        let reply = try #require(dns.encodeResponse())
        let m = try Message(decoding: reply)
        #expect(m.header.id == 0xBEEF)
        #expect(m.header.isResponse && m.header.authoritative && m.header.recursionDesired)
        #expect(m.answers.map(\.rdata) == [.a(IPv4Address(rawValue: 0xC000_0201)), .a(IPv4Address(rawValue: 0xC000_0202))])
        #expect(m.edns?.clientSubnet?.scopePrefix == 24)
        #expect(m.edns?.clientSubnet?.address == [198, 51, 100])
        #expect(m.questions.first?.name.description == "www.Example.com.")
        // Owner names are compressed onto the question: 12 + 21 + 2 * (2 + 10 + 4) + OPT 11 + ECS 11.
        #expect(reply.count == 12 + 21 + 32 + 22)
    }

    @Test func sectionsFollowTheSeed() throws {
        var dns = ResponseBuilder()
        try dns.decodeRequest(ResponseBuilderTests.queryBytes("example.com", .ns))
        try dns.createNSAnswer(name: "example.com", ttl: 3600, nsdname: "ns1.example.com")
        try dns.createAAnswer(name: "ns1.example.com", ttl: 3600, ipv4: "192.0.2.53")      // glue -> additional
        try dns.createAAAAAnswer(name: "ns1.example.com", ttl: 3600, ipv6: "2001:db8::53")
        try dns.createSOAAnswer(name: "example.com", ttl: 300, mname: "ns1.example.com", rname: "h.example.com", serial: 7)
        #expect(dns.answers.map(\.type) == [.ns])
        #expect(dns.additionals.map(\.type) == [.a, .aaaa])
        #expect(dns.authorities.map(\.type) == [.soa])
        let m = try Message(decoding: try #require(dns.encodeResponse()))
        #expect(m.additionals.count == 2 && m.authorities.count == 1 && m.answers.count == 1)
    }

    @Test func cnameTakesNoOtherData() throws {
        var dns = ResponseBuilder()
        try dns.decodeRequest(ResponseBuilderTests.queryBytes("cdn.example.com", .a))
        try dns.createCNAMEAnswer(name: "cdn.example.com", ttl: 300, cname: "eu.cdn.example.net")
        #expect(throws: WireError.cnameConflict(try DomainName("cdn.example.com"))) {
            try dns.createAAnswer(name: "cdn.example.com", ttl: 60, ipv4: "192.0.2.1")
        }
        #expect(throws: WireError.self) { try dns.createTXTAnswer(name: "cdn.example.com", ttl: 60, txt: "x") }
        #expect(throws: WireError.self) { try dns.createCNAMEAnswer(name: "cdn.example.com", ttl: 60, cname: "x.example") }
        // A chain continues only from the previous target ("cname linked error").
        #expect(throws: WireError.self) { try dns.createCNAMEAnswer(name: "other.example.com", ttl: 60, cname: "x.example") }
        // The target's address goes to the answer section.
        try dns.createAAnswer(name: "eu.cdn.example.net", ttl: 60, ipv4: "192.0.2.80")
        #expect(dns.answers.map(\.type) == [.cname, .a])
        // And a name that already has data cannot take a CNAME.
        var other = ResponseBuilder()
        try other.decodeRequest(ResponseBuilderTests.queryBytes("www.example.com", .a))
        try other.createAAnswer(name: "www.example.com", ttl: 60, ipv4: "192.0.2.1")
        #expect(throws: WireError.self) { try other.createCNAMEAnswer(name: "www.example.com", ttl: 60, cname: "a.example") }
    }

    @Test func otherAnswerTypes() throws {
        var dns = ResponseBuilder()
        try dns.decodeRequest(ResponseBuilderTests.queryBytes("example.com", .any))
        try dns.createTXTAnswer(name: "example.com", ttl: 60, txt: String(repeating: "t", count: 300))
        try dns.createMXAnswer(name: "example.com", ttl: 60, preference: 1000, exchange: "mx.example.com")
        try dns.createSRVAnswer(name: "_sip._udp.example.com", ttl: 60, priority: 1, weight: 2, port: 5060, target: "sip.example.com")
        try dns.createAAAAAnswer(name: "example.com", ttl: 60, ipv6: "::")
        #expect(throws: WireError.self) { try dns.createAAAAAnswer(name: "example.com", ttl: 60, ipv6: "1::2::3") }
        #expect(throws: WireError.self) { try dns.createAAnswer(name: "example.com", ttl: 60, ipv4: "300.1.1.1") }
        let m = try Message(decoding: try #require(dns.encodeResponse()))
        #expect(m.answers.map(\.type) == [.txt, .mx, .srv, .aaaa])
        #expect(m.answers[0].rdata == .txt([Array(repeating: 0x74, count: 255), Array(repeating: 0x74, count: 45)]))
        #expect(m.answers[1].rdata == .mx(preference: 1000, exchange: try DomainName("mx.example.com")))
        #expect(m.edns == nil)
    }

    @Test func responseHeaderRCode() throws {
        var dns = ResponseBuilder()
        try dns.decodeRequest(ResponseBuilderTests.queryBytes("www.example.com", .aaaa))
        var header = dns.createResponseHeader(ResponseBuilder.RCODE_NOT_IMPLEMENTED)
        header.recursionAvailable = false
        dns.header = header
        let m = try Message(decoding: try #require(dns.encodeResponse()))
        #expect(m.rcode == .notImp)
        #expect(m.questions.count == 1)
    }

    @Test func failedDecodeGivesTheErrorReply() throws {
        var dns = ResponseBuilder()
        var bad = ResponseBuilderTests.queryBytes("www.example.com", .a)
        bad[5] = 2     // QDCOUNT 2
        #expect(throws: WireError.questionCount(2)) { try dns.decodeRequest(bad) }
        let m = try Message(decoding: try #require(dns.encodeResponse()))
        #expect(m.rcode == .formErr)
        var response = ResponseBuilderTests.queryBytes("www.example.com", .a)
        response[2] |= 0x80
        var drop = ResponseBuilder()
        #expect(throws: WireError.notAQuery) { try drop.decodeRequest(response) }
        #expect(drop.encodeResponse() == nil)
    }
}
