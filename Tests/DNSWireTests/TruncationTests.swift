import DNSWire
import Testing

/// Encoding within a byte limit: TC set and whole RRsets dropped (RFC 2181 §9), OPT kept (RFC 6891 §7).
@Suite struct TruncationTests {
    static let www = (try? DomainName("www.example.com")) ?? .root

    static func query(edns: EDNS? = EDNS(udpPayloadSize: 4096)) -> Query {
        Query(header: Header(id: 7, recursionDesired: true, questionCount: 1),
              question: Question(name: www, type: .a), edns: edns)
    }

    static func aRecords(_ n: Int, name: DomainName = www) -> [ResourceRecord] {
        (0..<n).map { ResourceRecord(name: name, ttl: 60, rdata: .a(IPv4Address(rawValue: 0xC000_0200 + UInt32($0)))) }
    }

    @Test func fitsWithoutTC() throws {
        var m = Message(replyingTo: TruncationTests.query())
        m.answers = TruncationTests.aRecords(2)
        let wire = m.encode(maxSize: 512)
        let back = try Message(decoding: wire)
        #expect(!back.header.truncated)
        #expect(back.answers.count == 2)
        #expect(back.header.authoritative)
        #expect(back.header.recursionDesired)
        #expect(back.header.id == 7)
        #expect(back.edns?.udpPayloadSize == 1232)
    }

    @Test func oversizedAnswerRRsetIsDroppedWholeWithTC() throws {
        var m = Message(replyingTo: TruncationTests.query())
        m.answers = TruncationTests.aRecords(40)   // 12 + 21 + 40 * 16 + 11 = 684 bytes
        #expect(m.encode().count == 684)
        let wire = m.encode(maxSize: 512)
        #expect(wire.count <= 512)
        let back = try Message(decoding: wire)
        #expect(back.header.truncated)
        #expect(back.answers.isEmpty)               // never half an RRset
        #expect(back.edns != nil)                   // OPT survives truncation
        #expect(back.questions == m.questions)
    }

    @Test func keepsWholeRRsetsThatFit() throws {
        var m = Message(replyingTo: TruncationTests.query())
        let cname = try DomainName("b.example.net")
        m.answers = [ResourceRecord(name: TruncationTests.www, ttl: 60, rdata: .cname(cname))]
            + TruncationTests.aRecords(40, name: cname)
        let wire = m.encode(maxSize: 512)
        let back = try Message(decoding: wire)
        #expect(back.header.truncated)
        #expect(back.answers == [m.answers[0]])
    }

    @Test func interleavedRRsetIsNotCut() throws {
        // A(www) x2, AAAA(www), A(www) again: the A set spans index 0...3; cutting at 3 must drop index 0 and 1 too.
        var m = Message(replyingTo: TruncationTests.query(edns: nil))
        let aaaa = ResourceRecord(name: TruncationTests.www, ttl: 60, rdata: .aaaa(IPv6Address(rawValue: 1)))
        let big = ResourceRecord(name: TruncationTests.www, ttl: 60, rdata: .txt([Array(repeating: 0x41, count: 255), Array(repeating: 0x42, count: 200)]))
        let a = TruncationTests.aRecords(3)
        m.answers = [a[0], a[1], aaaa, a[2], big]
        let full = m.encode().count
        // Room for everything but the TXT: the TXT goes, and the records before it are whole sets.
        let w1 = try Message(decoding: m.encode(maxSize: full - 1))
        #expect(w1.answers == [a[0], a[1], aaaa, a[2]])
        #expect(w1.header.truncated)
        // Room only up to the AAAA: the third A cannot come, so the first two go too.
        let upToAAAA = 12 + 21 + 16 + 16 + 28
        let w2 = try Message(decoding: m.encode(maxSize: upToAAAA + 5))
        #expect(w2.answers.isEmpty)
        #expect(w2.header.truncated)
    }

    @Test func additionalDataIsDroppedWithoutTC() throws {
        var m = Message(replyingTo: TruncationTests.query(edns: nil))
        m.questions = [Question(name: try DomainName("example.com"), type: .ns)]
        let ns = (1...4).map { try? DomainName("ns\($0).example.com") }.compactMap { $0 }
        m.answers = ns.map { ResourceRecord(name: m.questions[0].name, ttl: 3600, rdata: .ns($0)) }
        m.additionals = ns.flatMap { n in
            [ResourceRecord(name: n, ttl: 3600, rdata: .a(IPv4Address(rawValue: 0xC000_0201))),
             ResourceRecord(name: n, ttl: 3600, rdata: .aaaa(IPv6Address(rawValue: 1)))]
        }
        let full = m.encode()
        let limit = full.count - 10
        let back = try Message(decoding: m.encode(maxSize: limit))
        #expect(!back.header.truncated)
        #expect(back.answers == m.answers)
        #expect(back.additionals == Array(m.additionals.prefix(7)))
    }

    @Test func authorityLossSetsTC() throws {
        var m = Message(replyingTo: TruncationTests.query(edns: nil), rcode: .nxDomain)
        let soa = SOAData(mname: try DomainName("ns1.example.com"), rname: try DomainName("h.example.com"), serial: 1,
                          refresh: 2, retry: 3, expire: 4, minimum: 5)
        m.authorities = [ResourceRecord(name: try DomainName("example.com"), ttl: 300, rdata: .soa(soa))]
        let full = m.encode()
        let back = try Message(decoding: m.encode(maxSize: full.count - 1))
        #expect(back.header.truncated)
        #expect(back.authorities.isEmpty)
        #expect(back.rcode == .nxDomain)
    }

    @Test func udpLimits() {
        #expect(TruncationTests.query(edns: nil).udpResponseLimit() == 512)
        #expect(TruncationTests.query(edns: EDNS(udpPayloadSize: 4096)).udpResponseLimit() == 1232)
        #expect(TruncationTests.query(edns: EDNS(udpPayloadSize: 100)).udpResponseLimit() == 512)
        #expect(TruncationTests.query(edns: EDNS(udpPayloadSize: 1400)).udpResponseLimit(serverMax: 4096) == 1400)
    }

    @Test func extendedRCodeGoesToOPT() throws {
        var m = Message(replyingTo: TruncationTests.query(), rcode: .badVers)
        m.header.rcode = .badVers
        let back = try Message(decoding: m.encode())
        #expect(back.header.rcode == .noError)
        #expect(back.edns?.extendedRCode == 1)
        #expect(back.rcode == .badVers)
    }

    @Test func ecsEchoedWithScope() throws {
        var q = TruncationTests.query()
        q.edns?.clientSubnet = ClientSubnet(family: 1, sourcePrefix: 24, address: [192, 0, 2])
        var m = Message(replyingTo: q)
        #expect(m.edns?.clientSubnet?.scopePrefix == 0)
        m.edns?.clientSubnet?.scopePrefix = 16
        m.answers = TruncationTests.aRecords(2)
        let back = try Message(decoding: m.encode())
        #expect(back.edns?.clientSubnet == ClientSubnet(family: 1, sourcePrefix: 24, scopePrefix: 16, address: [192, 0, 2]))
        #expect(back.edns?.udpPayloadSize == 1232)
    }

    @Test func encodeIntoReusesTheBuffer() throws {
        var m = Message(replyingTo: TruncationTests.query())
        m.answers = TruncationTests.aRecords(2)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1232)
        m.encode(into: &buffer, maxSize: 1232)
        #expect(buffer == m.encode())
        m.encode(into: &buffer, maxSize: 1232)
        #expect(buffer == m.encode())
    }
}

@Suite struct TCPFramingTests {
    static let messages: [[UInt8]] = [Array(repeating: 1, count: 30), [], Array(repeating: 2, count: 300), [9]]

    @Test func framesWithLengthPrefix() {
        #expect(TCPFraming.frame([0xAA, 0xBB]) == [0, 2, 0xAA, 0xBB])
        #expect(TCPFraming.frame(Array(repeating: 0, count: 300))?.prefix(2) == [1, 44])
        #expect(TCPFraming.frame(Array(repeating: 0, count: 65536)) == nil)
    }

    @Test(arguments: [1, 2, 3, 7, 64, 1000])
    func reassemblesAcrossAnyReadSize(_ chunk: Int) {
        var stream: [UInt8] = []
        for m in TCPFramingTests.messages { TCPFraming.frame(m, appendingTo: &stream) }
        var d = TCPFrameDecoder()
        var got: [[UInt8]] = []
        var i = 0
        while i < stream.count {
            d.append(stream[i..<min(i + chunk, stream.count)])
            got += d.drain()
            i += chunk
        }
        #expect(got == TCPFramingTests.messages)
        #expect(d.bufferedCount == 0)
    }

    @Test func waitsForTheRestOfAFrame() {
        var d = TCPFrameDecoder()
        d.append([0])
        #expect(d.next() == nil)
        d.append([3, 1, 2])
        #expect(d.next() == nil)
        #expect(d.bufferedCount == 4)
        d.append([3, 0, 1, 7])
        #expect(d.next() == [1, 2, 3])
        #expect(d.next() == [7])
        #expect(d.next() == nil)
    }
}

@Suite struct CompressionTests {
    @Test func laterNamesPointAtTheQuestionWhateverTheirCase() throws {
        let q = Query(header: Header(id: 1, questionCount: 1), question: Question(name: try DomainName("wWw.ExAmPlE.cOm"), type: .a))
        var m = Message(replyingTo: q)
        m.answers = [ResourceRecord(name: try DomainName("www.example.com"), ttl: 60, rdata: .a(IPv4Address(rawValue: 1)))]
        let wire = m.encode()
        // The answer owner is a pointer to offset 12 (the question), so the client sees its own case back.
        #expect(Array(wire[33..<35]) == [0xC0, 0x0C])
        let back = try Message(decoding: wire)
        #expect(back.answers.first?.name.description == "wWw.ExAmPlE.cOm.")
        #expect(back.answers == m.answers)   // equal: names compare ignoring case
    }

    @Test func suffixesAreShared() throws {
        let q = Query(header: Header(id: 1, questionCount: 1), question: Question(name: try DomainName("example.com"), type: .mx))
        var m = Message(replyingTo: q)
        m.answers = [ResourceRecord(name: try DomainName("example.com"), ttl: 60, rdata: .mx(preference: 10, exchange: try DomainName("mx.example.com")))]
        let wire = m.encode()
        // question 13+4 at 12; answer: owner ptr(2) type class ttl rdlen(10) pref(2) "mx"(3) ptr(2)
        #expect(wire.count == 12 + 17 + 2 + 10 + 2 + 3 + 2)
        #expect(Array(wire.suffix(2)) == [0xC0, 0x0C])
    }
}

@Suite struct LargeMessageTests {
    static let q = Query(header: Header(id: 3, questionCount: 1),
                         question: Question(name: (try? DomainName("big.example")) ?? .root, type: .txt))

    @Test func tcpLimitDropsTheRRsetThatPasses65535() throws {
        var m = Message(replyingTo: LargeMessageTests.q)
        let big = Array(repeating: UInt8(0x61), count: 40_000)
        m.answers = [ResourceRecord(name: m.questions[0].name, ttl: 1, rdata: .txt(RData.splitCharacterStrings(big))),
                     ResourceRecord(name: try DomainName("other.big.example"), ttl: 1, rdata: .txt(RData.splitCharacterStrings(big)))]
        let wire = m.encode(maxSize: 65535)
        #expect(wire.count < 65535)
        let back = try Message(decoding: wire)
        #expect(back.header.truncated)
        #expect(back.answers == [m.answers[0]])
    }

    @Test func oversizedOpaqueRDataNeverWraps() throws {
        var m = Message(replyingTo: LargeMessageTests.q)
        m.answers = [ResourceRecord(name: m.questions[0].name, ttl: 1, rdata: .unknown(type: RRType(rawValue: 65000), data: Array(repeating: 1, count: 70_000)))]
        let back = try Message(decoding: m.encode())
        #expect(back.header.truncated)
        #expect(back.answers.isEmpty)
    }

    @Test func tinyLimitStillGivesHeaderQuestionAndOPT() throws {
        var q = LargeMessageTests.q
        q.edns = EDNS()
        var m = Message(replyingTo: q)
        m.answers = [ResourceRecord(name: m.questions[0].name, ttl: 1, rdata: .txt([[1, 2, 3]]))]
        let back = try Message(decoding: m.encode(maxSize: 20))
        #expect(back.header.truncated)
        #expect(back.questions.count == 1)
        #expect(back.edns != nil)
        #expect(back.answers.isEmpty)
    }
}

@Suite struct EncodeReplyTests {
    @Test func fastPathMatchesTheGeneralPath() throws {
        let ecs = ClientSubnet(family: 2, sourcePrefix: 48, address: [0x20, 0x01, 0x0d, 0xb8, 0, 1])
        let bytes = Message(header: Header(id: 77, recursionDesired: true, checkingDisabled: true),
                            questions: [Question(name: try DomainName("WwW.example.com"), type: .a)],
                            edns: EDNS(udpPayloadSize: 4096, dnssecOK: true, clientSubnet: ecs)).encode()
        var q = Query()
        guard case .success = Query.parse(bytes, into: &q) else { Issue.record("no parse"); return }
        let answers = TruncationTests.aRecords(2)
        var fast: [UInt8] = []
        q.encodeReply(answers: answers, scopePrefix: 32, maxSize: q.udpResponseLimit(), into: &fast)
        var general = Message(replyingTo: q)
        general.answers = answers
        general.edns?.clientSubnet?.scopePrefix = 32
        #expect(fast == general.encode(maxSize: q.udpResponseLimit()))
        let m = try Message(decoding: fast)
        #expect(m.header.checkingDisabled && m.header.recursionDesired && m.header.authoritative)
        #expect(m.edns?.dnssecOK == true)
        #expect(m.edns?.clientSubnet?.scopePrefix == 32)
        // ECS switched off: no option in the reply, OPT still there.
        q.encodeReply(answers: answers, maxSize: 1232, into: &fast, echoClientSubnet: false)
        let off = try Message(decoding: fast)
        #expect(off.edns != nil && off.edns?.clientSubnet == nil)
    }

    @Test func reusedQueryDoesNotLeakOldState() throws {
        let withECS = Message(header: Header(id: 1), questions: [Question(name: try DomainName("a.example"), type: .a)],
                              edns: EDNS(clientSubnet: ClientSubnet(family: 1, sourcePrefix: 24, address: [1, 2, 3]))).encode()
        let plain = Message(header: Header(id: 2), questions: [Question(name: try DomainName("longer.name.example"), type: .aaaa)]).encode()
        var q = Query()
        _ = Query.parse(withECS, into: &q)
        let kept = q                      // a copy shares storage: the next parse must not change it
        _ = Query.parse(plain, into: &q)
        #expect(q.edns == nil)
        #expect(q.question.name.description == "longer.name.example.")
        #expect(kept.question.name.description == "a.example.")
        #expect(kept.edns?.clientSubnet?.address == [1, 2, 3])
        _ = Query.parse(withECS, into: &q)
        guard case .query(let fresh) = Query.parse(withECS) else { Issue.record("no parse"); return }
        #expect(q == fresh)
    }
}
