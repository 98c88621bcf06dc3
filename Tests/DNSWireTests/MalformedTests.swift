import DNSWire
import Testing

/// The malformed-input corpus (scripts/wire/malformed.py): each packet gets the disposition
/// its `# expect:` line names, and error replies have the shape DESIGN.md asks for.
@Suite struct MalformedTests {
    static let corpus = Fixture.load("malformed")

    static func kind(_ d: Disposition) -> String {
        switch d {
        case .query: return "query"
        case .drop: return "drop"
        case .reply(let bytes):
            guard let m = try? Message(decoding: bytes) else { return "unparseable-reply" }
            switch m.rcode {
            case .formErr: return "formerr"
            case .notImp: return "notimp"
            case .badVers: return "badvers"
            case .notAuth: return "notauth"
            default: return "rcode-\(m.rcode.rawValue)"
            }
        }
    }

    @Test func corpusHasAtLeastSixtyRejects() {
        let rejects = MalformedTests.corpus.filter { $0.expectedKind != "query" }
        #expect(rejects.count >= 60)
        #expect(MalformedTests.corpus.filter { $0.name.hasPrefix("trunc-ecs-") }.count >= 40)
    }

    @Test(arguments: MalformedTests.corpus)
    func getsItsDisposition(_ f: Fixture) {
        let expected = f.expectedKind
        #expect(expected != nil)
        #expect(MalformedTests.kind(Query.parse(f.bytes)) == expected, "\(f.name): \(f.description)")
    }

    @Test(arguments: MalformedTests.corpus)
    func typedErrorMatchesDisposition(_ f: Fixture) {
        var q = Query()
        switch Query.parse(f.bytes, into: &q) {
        case .success:
            #expect(f.expectedKind == "query")
        case .failure(let e):
            let kind: String
            switch e.disposition {
            case .drop: kind = "drop"
            case .formErr: kind = "formerr"
            case .notImp: kind = "notimp"
            case .badVers: kind = "badvers"
            case .notAuth: kind = "notauth"
            }
            #expect(kind == f.expectedKind, "\(f.name): \(e)")
        }
    }

    @Test(arguments: MalformedTests.corpus.filter { $0.expectedKind != "drop" && $0.expectedKind != "query" })
    func errorReplyCopiesIdAndRDAndIsAResponse(_ f: Fixture) throws {
        guard case .reply(let bytes) = Query.parse(f.bytes) else { Issue.record("no reply"); return }
        let m = try Message(decoding: bytes)
        #expect(m.header.id == 0x4242)
        #expect(m.header.isResponse)
        #expect(m.header.recursionDesired == (f.bytes[2] & 0x01 != 0))
        #expect(m.header.opcode.rawValue == (f.bytes[2] >> 3) & 0x0F)
        #expect(!m.header.authoritative)
        #expect(m.answers.isEmpty && m.authorities.isEmpty)
        #expect(m.edns?.clientSubnet == nil)
        #expect(bytes.count <= 512)
    }

    @Test func formErrForBadECSKeepsOPTButNoECS() throws {
        let f = try #require(MalformedTests.corpus.first { $0.name == "formerr-ecs-family-3" })
        guard case .reply(let bytes) = Query.parse(f.bytes, payloadSize: 1400) else { Issue.record("no reply"); return }
        let m = try Message(decoding: bytes)
        #expect(m.rcode == .formErr)
        #expect(m.questions == [Question(name: try DomainName("www.example.com"), type: .a)])
        #expect(m.edns == EDNS(udpPayloadSize: 1400))
    }

    @Test func badVersReplyUsesOPTVersionZeroAndExtendedRCode() throws {
        let f = try #require(MalformedTests.corpus.first { $0.name == "badvers-255-ecs" })
        guard case .reply(let bytes) = Query.parse(f.bytes) else { Issue.record("no reply"); return }
        let m = try Message(decoding: bytes)
        #expect(m.header.rcode == .noError)               // low 4 bits of 16
        #expect(m.edns?.extendedRCode == 1)               // 16 >> 4
        #expect(m.edns?.version == 0)
        #expect(m.rcode == .badVers)
        #expect(m.questions.count == 1)
    }

    @Test func noOPTInReplyWhenQueryHadNone() throws {
        let f = try #require(MalformedTests.corpus.first { $0.name == "notimp-notify" })
        guard case .reply(let bytes) = Query.parse(f.bytes) else { Issue.record("no reply"); return }
        let m = try Message(decoding: bytes)
        #expect(m.edns == nil)
        #expect(m.rcode == .notImp)
        #expect(m.header.opcode == .notify)
        #expect(m.questions.count == 1)
    }

    @Test func twoOPTsGetFormErrWithOPT() throws {
        let f = try #require(MalformedTests.corpus.first { $0.name == "formerr-two-opt" })
        guard case .reply(let bytes) = Query.parse(f.bytes) else { Issue.record("no reply"); return }
        let m = try Message(decoding: bytes)
        #expect(m.rcode == .formErr)
        #expect(m.edns != nil)
    }

    @Test func specificErrors() {
        func error(_ name: String) -> WireError? {
            guard let f = MalformedTests.corpus.first(where: { $0.name == name }) else { return nil }
            var q = Query()
            if case .failure(let e) = Query.parse(f.bytes, into: &q) { return e }
            return nil
        }
        #expect(error("formerr-pointer-self") == .badPointer(at: 12))
        #expect(error("formerr-pointer-forward") == .badPointer(at: 12))
        #expect(error("formerr-pointer-loop-two") == .badPointer(at: 0x2d))
        #expect(error("formerr-label-64") == .labelTooLong(at: 12))
        #expect(error("formerr-name-256") == .nameTooLong(at: 12 + 64 * 3))
        #expect(error("formerr-two-opt") == .multipleOPT)
        #expect(error("formerr-opt-not-root") == .optNotRoot)
        #expect(error("formerr-opt-in-answer") == .optOutsideAdditional)
        #expect(error("formerr-ecs-family-3") == .badClientSubnet(.unknownFamily(3)))
        #expect(error("formerr-ecs-v4-source-33") == .badClientSubnet(.sourceTooLong(33)))
        #expect(error("formerr-ecs-v6-source-129") == .badClientSubnet(.sourceTooLong(129)))
        #expect(error("formerr-ecs-scope-nonzero") == .badClientSubnet(.scopeInQuery(24)))
        #expect(error("formerr-ecs-v4-address-long") == .badClientSubnet(.addressLength(4)))
        #expect(error("formerr-ecs-v4-address-short") == .badClientSubnet(.addressLength(2)))
        #expect(error("formerr-ecs-v4-bits-past-prefix") == .badClientSubnet(.bitsPastPrefix))
        #expect(error("formerr-ecs-v6-bits-past-prefix") == .badClientSubnet(.bitsPastPrefix))
        #expect(error("formerr-ecs-option-short") == .badClientSubnet(.shortOption))
        #expect(error("formerr-ecs-two-ecs") == .multipleClientSubnet)
        #expect(error("formerr-ecs-two-ecs-apart") == .multipleClientSubnet)
        #expect(error("formerr-qdcount-2") == .questionCount(2))
        #expect(error("notimp-update") == .unsupportedOpcode(.update))
        #expect(error("badvers-1") == .badEDNSVersion(1))
        #expect(error("drop-qr-set") == .notAQuery)
        #expect(error("drop-empty") == .tooShort(length: 0))
        #expect(error("formerr-trailing") == .trailingBytes(at: 33))
        for k in 0..<12 {
            #expect(error("formerr-pointer-header-\(k < 10 ? "0" : "")\(k)") == .pointerIntoHeader(at: 12))
        }
        #expect(error("formerr-pointer-header-after-label") == .pointerIntoHeader(at: 16))
        #expect(error("formerr-opt-owner-pointer-header") == .pointerIntoHeader(at: 33))
        #expect(error("formerr-answer-owner-pointer-header") == .pointerIntoHeader(at: 33))
        #expect(error("notauth-tsig") == .unverifiedTSIG(at: 33))
        #expect(error("formerr-tsig-not-last") == .misplacedTSIG)
        #expect(error("formerr-tsig-two") == .misplacedTSIG)
        #expect(error("formerr-tsig-in-answer") == .misplacedTSIG)
        #expect(error("formerr-tsig-in-authority") == .misplacedTSIG)
        #expect(error("formerr-keepalive-timeout") == .badTCPKeepalive(length: 2))
        #expect(error("formerr-keepalive-one-byte") == .badTCPKeepalive(length: 1))
    }

    /// RFC 8945 §5.2 / §5.3.2, as Knot answers: NOTAUTH, the question, then an unsigned TSIG with
    /// the query's key and algorithm, Time Signed copied, fudge 300, no MAC, Original ID, BADKEY.
    @Test(arguments: ["notauth-tsig", "notauth-tsig-after-opt", "notauth-tsig-compressed-key", "notauth-tsig-other-data"])
    func tsigGetsNotAuthWithBadKeyTSIG(_ name: String) throws {
        let f = try #require(MalformedTests.corpus.first { $0.name == name })
        guard case .reply(let bytes) = Query.parse(f.bytes) else { Issue.record("no reply"); return }
        let m = try Message(decoding: bytes)
        #expect(m.rcode == .notAuth)
        #expect(!m.header.authoritative)
        #expect(m.questions == [Question(name: try DomainName("www.example.com"), type: .a)])
        #expect((m.edns != nil) == (name == "notauth-tsig-after-opt"))
        let tsig = try #require(m.additionals.last)
        #expect(m.additionals.count == 1)
        #expect(tsig.type == .tsig && tsig.rrClass == .any && tsig.ttl == 0)
        #expect(tsig.name == (name == "notauth-tsig-compressed-key" ? try DomainName("www.example.com") : try DomainName("key.example")))
        guard case .unknown(_, let rdata) = tsig.rdata else { Issue.record("TSIG RDATA \(tsig.rdata)"); return }
        let algorithm: [UInt8] = [11] + Array("hmac-sha256".utf8) + [0]
        #expect(rdata == algorithm + [0, 0, 0x5F, 0x5E, 0x10, 0x00, 0x01, 0x2C, 0, 0, 0x42, 0x42, 0, 17, 0, 0])
    }

    /// gdnsd and Knot answer NOTIMP with RD copied and CD clear; FORMERR keeps copying both.
    @Test func notImpCopiesRDButNotCD() throws {
        var query = try #require(MalformedTests.corpus.first { $0.name == "notimp-update" }).bytes
        query[2] |= 0x01                         // RD
        query[3] |= 0x10                         // CD
        guard case .reply(let bytes) = Query.parse(query) else { Issue.record("no reply"); return }
        let m = try Message(decoding: bytes)
        #expect(m.rcode == .notImp)
        #expect(m.header.recursionDesired)
        #expect(!m.header.checkingDisabled)
        var bad = try #require(MalformedTests.corpus.first { $0.name == "formerr-trailing" }).bytes
        bad[3] |= 0x10
        guard case .reply(let formErr) = Query.parse(bad) else { Issue.record("no reply"); return }
        #expect(try Message(decoding: formErr).header.checkingDisabled)
    }

    /// Names in RDATA follow the same rule: a response whose CNAME target points into the header
    /// does not decode.
    @Test func rdataPointerIntoHeaderIsRejected() throws {
        var wire: [UInt8] = [0x42, 0x42, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0]
        wire += [3] + Array("www".utf8) + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 5, 0, 1]
        wire += [0xC0, 0x0C, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xC0, 0x03]
        #expect(throws: WireError.pointerIntoHeader(at: 45)) { try Message(decoding: wire) }
        wire[wire.count - 1] = 0x0C              // the same record pointing at the question name
        #expect(try Message(decoding: wire).answers.first?.rdata == .cname(try DomainName("www.example.com")))
    }

    /// Whatever `Message(decoding:)` accepts from the corpus survives a round trip.
    @Test(arguments: MalformedTests.corpus)
    func roundTripsWhenDecodable(_ f: Fixture) throws {
        guard let m = try? Message(decoding: f.bytes) else { return }
        #expect(try Message(decoding: m.encode()) == m)
    }
}
