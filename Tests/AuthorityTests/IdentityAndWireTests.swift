import DNSWire
import Policy
import Testing
@testable import Authority

/// Issue 16's identity and wire items and issue 10's header pointers, through `Authority.respond`
/// (UDP and TCP) and the fast path's tiers.
@Suite struct IdentityAndWireTests {
    static func catalog(identity: String? = "edge-1", version: String? = "geodns 1.2") -> Catalog {
        var c = Fixture.catalog()
        c.settings.identity = identity
        c.settings.version = version
        c.settings.tcpIdleTimeoutSeconds = 12.5
        return c
    }

    /// A query with raw EDNS options.
    static func query(_ qname: String = "www.example.com.", _ type: RRType = .a, rrClass: RRClass = .in,
                      options: [EDNSOption]? = nil, cd: Bool = false) throws -> [UInt8] {
        var header = Header(id: 0x5151, recursionDesired: true, checkingDisabled: cd)
        header.questionCount = 1
        var m = Message(header: header, questions: [Question(name: try DomainName(qname), type: type, rrClass: rrClass)])
        if let options { m.edns = EDNS(udpPayloadSize: 1232, options: options) }
        return m.encode()
    }

    static func reply(_ bytes: [UInt8], _ catalog: Catalog, _ transport: Transport = .udp) throws -> Message {
        let wire = try #require(Authority.respond(to: bytes, source: .v4(0x7F00_0001), transport: transport, catalog: catalog))
        return try Message(decoding: wire)
    }

    // MARK: CH TXT id.server. and friends

    @Test(arguments: [("id.server.", "edge-1"), ("hostname.bind.", "edge-1"), ("ID.Server.", "edge-1"),
                      ("version.bind.", "geodns 1.2"), ("version.server.", "geodns 1.2")])
    func chaosTXTAnswersTheConfiguredValue(_ name: String, _ value: String) throws {
        let m = try Self.reply(try Self.query(name, .txt, rrClass: .ch), Self.catalog())
        #expect(m.rcode == .noError)
        #expect(!m.header.authoritative)                    // as Knot: not zone data
        #expect(m.questions.first?.rrClass == .ch)
        #expect(m.answers.count == 1)
        let rr = try #require(m.answers.first)
        #expect(rr.rrClass == .ch && rr.ttl == 0 && rr.name.description == name)
        #expect(rr.rdata == .txt([Array(value.utf8)]))
    }

    @Test(arguments: ["id.server.", "hostname.bind.", "version.bind.", "version.server."])
    func chaosWithoutValuesIsRefused(_ name: String) throws {
        let m = try Self.reply(try Self.query(name, .txt, rrClass: .ch), Self.catalog(identity: nil, version: nil))
        #expect(m.rcode == .refused)
        #expect(m.answers.isEmpty)
    }

    @Test func otherChaosQuestionsAreRefused() throws {
        for (name, type) in [("id.server.", RRType.a), ("authors.bind.", .txt), ("www.example.com.", .txt)] {
            let m = try Self.reply(try Self.query(name, type, rrClass: .ch), Self.catalog())
            #expect(m.rcode == .refused, "\(name) \(type)")
        }
    }

    // MARK: NSID (RFC 5001)

    @Test func nsidAnswersTheIdentityOverUDPAndTCP() throws {
        for transport in [Transport.udp, .tcp] {
            let m = try Self.reply(try Self.query(options: [EDNSOption(code: 3, data: [])]), Self.catalog(), transport)
            #expect(m.rcode == .noError && !m.answers.isEmpty)
            #expect(m.edns?.options == [EDNSOption(code: 3, data: Array("edge-1".utf8))], "\(transport)")
        }
    }

    @Test func nsidUnsetOrNotAskedGivesNone() throws {
        let unset = try Self.reply(try Self.query(options: [EDNSOption(code: 3, data: [])]), Self.catalog(identity: nil))
        #expect(unset.edns?.options == [])
        let notAsked = try Self.reply(try Self.query(options: []), Self.catalog())
        #expect(notAsked.edns?.options == [])
        let withData = try Self.reply(try Self.query(options: [EDNSOption(code: 3, data: [1])]), Self.catalog())
        #expect(withData.edns?.options == [])
    }

    // MARK: edns-tcp-keepalive (RFC 7828)

    @Test func keepaliveAdvertisesTheIdleTimeoutOnTCPOnly() throws {
        let q = try Self.query(options: [EDNSOption(code: 11, data: [])])
        let tcp = try Self.reply(q, Self.catalog(), .tcp)
        #expect(tcp.edns?.options == [EDNSOption(code: 11, data: [0, 125])])      // 12.5 s = 125 x 100 ms
        let udp = try Self.reply(q, Self.catalog(), .udp)
        #expect(udp.edns?.options == [])
        let notAsked = try Self.reply(try Self.query(options: []), Self.catalog(), .tcp)
        #expect(notAsked.edns?.options == [])
    }

    @Test func keepaliveWithATimeoutFromAClientIsFormErr() throws {
        for transport in [Transport.udp, .tcp] {
            let m = try Self.reply(try Self.query(options: [EDNSOption(code: 11, data: [0, 100])]), Self.catalog(), transport)
            #expect(m.rcode == .formErr, "\(transport)")
        }
    }

    @Test func keepaliveTimeoutIsClamped() {
        var s = ServerSettings()
        s.tcpIdleTimeoutSeconds = 86400
        #expect(Authority.tcpKeepaliveTimeout(s) == 65535)
        s.tcpIdleTimeoutSeconds = 0.05
        #expect(Authority.tcpKeepaliveTimeout(s) == 0)
        s.tcpIdleTimeoutSeconds = 10
        #expect(Authority.tcpKeepaliveTimeout(s) == 100)
    }

    // MARK: QCLASS ANY, NOTIMP, TSIG

    @Test func qclassAnyIsAnsweredFromIN() throws {
        let catalog = Self.catalog()
        let any = try Self.reply(try Self.query("mail.example.com.", .mx, rrClass: .any), catalog)
        let inClass = try Self.reply(try Self.query("mail.example.com.", .mx), catalog)
        #expect(any.rcode == .noError && any.header.authoritative)
        #expect(any.questions.first?.rrClass == .any)       // the question as asked
        #expect(any.answers == inClass.answers && !any.answers.isEmpty)
        #expect(any.answers.allSatisfy { $0.rrClass == .in })
        let missing = try Self.reply(try Self.query("nope.example.com.", .a, rrClass: .any), catalog)
        #expect(missing.rcode == .nxDomain && missing.authorities.first?.type == .soa)
        let hs = try Self.reply(try Self.query("www.example.com.", .a, rrClass: .hs), catalog)
        #expect(hs.rcode == .refused)
    }

    @Test func notImpCopiesRDButNotCD() throws {
        let catalog = Self.catalog()
        for (name, type) in [("example.com.", RRType.axfr), ("example.com.", .ixfr), ("tcp.example.com.", .txt)] {
            let m = try Self.reply(try Self.query(name, type, cd: true), catalog)
            #expect(m.rcode == .notImp, "\(name) \(type)")
            #expect(m.header.recursionDesired && !m.header.checkingDisabled, "\(name) \(type)")
        }
        let answer = try Self.reply(try Self.query(cd: true), catalog)
        #expect(answer.rcode == .noError && answer.header.checkingDisabled)    // other replies keep CD
    }

    @Test func tsigSignedQueryGetsNotAuthNeverAnUnsignedAnswer() throws {
        var q = try Self.query(options: [])
        q[11] = 2                                                 // ARCOUNT: OPT + TSIG
        q += [3] + Array("key".utf8) + [0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 29]
        q += [11] + Array("hmac-sha256".utf8) + [0, 0, 0, 0x5F, 0x5E, 0x10, 0, 1, 44, 0, 0, 0x51, 0x51, 0, 0, 0, 0]
        for transport in [Transport.udp, .tcp] {
            let m = try Self.reply(q, Self.catalog(), transport)
            #expect(m.rcode == .notAuth && m.answers.isEmpty, "\(transport)")
            let tsig = try #require(m.additionals.last)
            #expect(tsig.type == .tsig && tsig.name.description == "key.")
            guard case .unknown(_, let rdata) = tsig.rdata else { Issue.record("\(tsig.rdata)"); continue }
            #expect(Array(rdata.suffix(6)) == [0x51, 0x51, 0, 17, 0, 0])    // Original ID, BADKEY, no other data
        }
    }

    // MARK: issue 10: a compression pointer into the header, on every tier

    @Test(arguments: 0..<12)
    func pointerIntoTheHeaderIsFormErrOnEveryTier(_ offset: Int) throws {
        let catalog = Fixture.catalog()
        let q: [UInt8] = [0x42, 0x42, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, UInt8(offset), 0, 1, 0, 1]
        for transport in [Transport.udp, .tcp] {
            #expect(try Self.reply(q, catalog, transport).rcode == .formErr, "\(transport)")
        }
        let fast = Authority.FastPath(catalog: catalog)
        var scratch = Authority.FastPathScratch()
        var out = [UInt8](repeating: 0, count: 4096)
        for express in [true, false] {
            let n = out.withUnsafeMutableBytes { o in
                q.withUnsafeBytes { fast.respond(to: $0, source: .v4(1), into: o, scratch: &scratch, through: .encode, express: express) }
            }
            // Neither fast tier answers it: the general engine's FORMERR is what the server sends.
            #expect(n == Authority.FastPath.askGeneral, "express \(express)")
        }
    }

    // MARK: the fast path with identity, CH, ANY, NSID and keepalive queries

    @Test func fastPathMatchesTheGeneralPathWithIdentity() {
        let tally = FastPathTests.compare(Self.catalog(), names: FastPathTests.fixtureNames + ["id.server.", "version.bind."],
                                          count: 10000, seed: 21)
        #expect(tally.mismatches == 0, "\(tally)\n\(tally.firstMismatch ?? "")")
        #expect(tally.fast * 100 >= tally.total * 60, "\(tally)")
    }
}
