import DNSWire
import Testing

// The README's custom-server example, compiled and exercised here so it cannot rot.
// BEGIN README EXAMPLE
/// Answers one query packet: A under example.com, a CNAME for cdn, NOTIMP for AAAA, SOA otherwise.
/// Returns the reply, or nil when the packet must be dropped. `maxSize`: nil = UDP rules, 65535 for TCP.
func handle(_ packet: [UInt8], maxSize: Int? = nil) -> [UInt8]? {
    var dns = ResponseBuilder()
    guard let query = try? dns.decodeRequest(packet) else {
        return dns.encodeResponse()          // FORMERR / NOTIMP / BADVERS, or nil: drop
    }
    let q = query.question                   // q.name keeps the client's case; == ignores it
    do {
        if q.name == (try DomainName("cdn.example.com")) {
            try dns.createCNAMEAnswer(name: "cdn.example.com", ttl: 600, cname: "eu.cdn.example.net")
        } else if q.type == ResponseBuilder.TYPE_A {
            // Per-subnet answers would read query.edns?.clientSubnet and set dns.clientSubnetScope.
            try dns.createAAnswer(name: q.name.description, ttl: 300, ipv4: "192.0.2.1")
        } else if q.type == ResponseBuilder.TYPE_AAAA {
            dns.createResponseHeader(ResponseBuilder.RCODE_NOT_IMPLEMENTED)
        } else {
            try dns.createSOAAnswer(name: "example.com", ttl: 600, mname: "ns1.example.com",
                                    rname: "hostmaster.example.com", serial: 2026112601)
        }
    } catch {
        dns.createResponseHeader(ResponseBuilder.RCODE_SERVER_FAILURE)
    }
    return dns.encodeResponse(maxSize: maxSize)
}

/// TCP: feed whatever each read returned; answer every complete frame.
func serveTCP(reads: [[UInt8]], write: ([UInt8]) -> Void) {
    var frames = TCPFrameDecoder()
    for chunk in reads {
        frames.append(chunk)
        while let packet = frames.next() {
            if let reply = handle(packet, maxSize: 65535), let framed = TCPFraming.frame(reply) { write(framed) }
        }
    }
}
// END README EXAMPLE

@Suite struct ReadmeExampleTests {
    static func query(_ name: String, _ type: RRType, id: UInt16 = 9) -> [UInt8] {
        Message(header: Header(id: id, recursionDesired: true),
                questions: [Question(name: (try? DomainName(name)) ?? .root, type: type)],
                edns: EDNS(udpPayloadSize: 4096, clientSubnet: ClientSubnet(family: 1, sourcePrefix: 24, address: [203, 0, 113]))).encode()
    }

    @Test func answersA() throws {
        let m = try Message(decoding: try #require(handle(ReadmeExampleTests.query("WWW.example.com", .a))))
        #expect(m.answers.map(\.rdata) == [.a(IPv4Address(rawValue: 0xC000_0201))])
        #expect(m.answers.first?.name.description == "WWW.example.com.")
        #expect(m.edns?.clientSubnet?.sourcePrefix == 24)
        #expect(m.edns?.clientSubnet?.scopePrefix == 0)
        #expect(m.header.authoritative)
    }

    @Test func cnameAndNotImpAndSOA() throws {
        let c = try Message(decoding: try #require(handle(ReadmeExampleTests.query("cdn.example.com", .a))))
        #expect(c.answers.map(\.type) == [.cname])
        let n = try Message(decoding: try #require(handle(ReadmeExampleTests.query("www.example.com", .aaaa))))
        #expect(n.rcode == .notImp)
        let s = try Message(decoding: try #require(handle(ReadmeExampleTests.query("example.com", .mx))))
        #expect(s.authorities.map(\.type) == [.soa])
    }

    @Test func dropsResponsesAndRejectsGarbage() throws {
        var response = ReadmeExampleTests.query("www.example.com", .a)
        response[2] |= 0x80
        #expect(handle(response) == nil)
        let garbage: [UInt8] = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1]
        let m = try Message(decoding: try #require(handle(garbage)))
        #expect(m.rcode == .formErr)
    }

    @Test func tcpFramesSplitAcrossReads() throws {
        let stream = (TCPFraming.frame(ReadmeExampleTests.query("a.example.com", .a, id: 1)) ?? [])
            + (TCPFraming.frame(ReadmeExampleTests.query("b.example.com", .a, id: 2)) ?? [])
        var replies: [[UInt8]] = []
        serveTCP(reads: [Array(stream[0..<1]), Array(stream[1..<40]), Array(stream[40...])]) { replies.append($0) }
        #expect(replies.count == 2)
        let ids = try replies.map { try Message(decoding: Array($0.dropFirst(2))).header.id }
        #expect(ids == [1, 2])
    }
}
