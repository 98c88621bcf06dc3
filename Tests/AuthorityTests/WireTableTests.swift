import DNSWire
import Policy
import Testing
@testable import Authority

/// One test per row of DESIGN.md's wire behaviour table, through `Authority.respond`.
@Suite struct WireTableTests {
    let ex = Exchange(catalog: Fixture.catalog())

    /// A plain query for www.example.com A with the given header bytes 2-3 and counts.
    func rawQuery(flags: UInt16 = 0x0100, qdCount: UInt16 = 1, extra: [UInt8] = [], arCount: UInt16 = 0) -> [UInt8] {
        var b: [UInt8] = [0xAB, 0xCD, UInt8(flags >> 8), UInt8(flags & 0xFF), 0, UInt8(qdCount), 0, 0, 0, 0, 0, UInt8(arCount)]
        b += [3] + Array("www".utf8) + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 1, 0, 1]
        return b + extra
    }

    /// An OPT record: version, and raw option bytes.
    func opt(version: UInt8 = 0, options: [UInt8] = []) -> [UInt8] {
        [0, 0, 41, 0x04, 0xD0, 0, version, 0, 0, UInt8(options.count >> 8), UInt8(options.count & 0xFF)] + options
    }

    @Test func dropsShortPackets() throws {
        #expect(try ex.send([0x12, 0x34, 0x01]) == nil)
        #expect(try ex.send(Array(rawQuery().prefix(11))) == nil)
    }

    @Test func dropsResponses() throws {
        #expect(try ex.send(rawQuery(flags: 0x8100)) == nil)
    }

    @Test func answersOtherOpcodesWithNotImp() throws {
        let reply = try #require(try ex.send(rawQuery(flags: 0x2800)))   // opcode 5 (UPDATE)
        #expect(reply.rcode == .notImp)
        #expect(reply.header.id == 0xABCD)
        #expect(reply.answers.isEmpty)
    }

    @Test func answersTwoQuestionsWithFormErr() throws {
        let reply = try #require(try ex.send(rawQuery(qdCount: 2)))
        #expect(reply.rcode == .formErr)
    }

    @Test(arguments: [
        [0, 8, 0, 8, 0, 3, 24, 0, 1, 2, 3],          // family 3
        [0, 8, 0, 7, 0, 1, 33, 0, 1, 2, 3],          // source prefix 33 for IPv4 (and wrong length)
        [0, 8, 0, 7, 0, 1, 24, 8, 1, 2, 3],          // scope != 0 in a query
        [0, 8, 0, 7, 0, 1, 23, 0, 1, 2, 3],          // bits set past the prefix
        [0, 8, 0, 6, 0, 1, 24, 0, 1, 2],             // address shorter than the prefix
        [0, 8, 0, 7, 0, 1, 24, 0, 1, 2, 0, 0, 8, 0, 7, 0, 1, 24, 0, 1, 2, 0],  // two ECS options
    ] as [[UInt8]])
    func answersBadClientSubnetWithFormErr(option: [UInt8]) throws {
        let reply = try #require(try ex.send(rawQuery(extra: opt(options: option), arCount: 1)))
        #expect(reply.rcode == .formErr)
    }

    @Test func answersEDNSVersion1WithBadVers() throws {
        let reply = try #require(try ex.send(rawQuery(extra: opt(version: 1), arCount: 1)))
        #expect(reply.rcode == .badVers)
        #expect(reply.edns?.version == 0)
    }

    @Test func refusesNamesOutsideOurZones() throws {
        let reply = try #require(try ex.ask("www.example.org.", .a, subnet: .v4("81.2.69.0", 24)))
        #expect(reply.rcode == .refused)
        #expect(!reply.header.authoritative)
        #expect(reply.answers.isEmpty)
        #expect(reply.edns?.clientSubnet == ClientSubnet.v4("81.2.69.0", 24))   // echoed, scope 0
    }

    @Test func refusesOtherClasses() throws {
        let reply = try #require(try ex.ask("www.example.com.", .a, rrClass: .ch))
        #expect(reply.rcode == .refused)
        #expect(!reply.header.authoritative)
    }

    @Test func answersZoneTransfersWithNotImp() throws {
        let reply = try #require(try ex.ask("example.com.", .axfr))
        #expect(reply.rcode == .notImp)
    }

    @Test func answersMissingNamesWithNXDomainAndNegativeSOA() throws {
        let reply = try #require(try ex.ask("nx.example.com.", .a, subnet: .v4("81.2.69.0", 24)))
        #expect(reply.rcode == .nxDomain)
        #expect(reply.header.authoritative)
        #expect(reply.answers.isEmpty)
        #expect(reply.authorities.count == 1)
        #expect(reply.authorities.first?.type == .soa)
        #expect(reply.authorities.first?.name == Fixture.name("example.com."))
        #expect(reply.authorities.first?.ttl == 300)          // min(SOA TTL 3600, minimum 300)
        #expect(reply.scope == 0)
    }

    @Test func answersNoDataWithNegativeSOA() throws {
        let reply = try #require(try ex.ask("www.example.com.", .txt, subnet: .v4("81.2.69.0", 24)))
        #expect(reply.rcode == .noError)
        #expect(reply.header.authoritative)
        #expect(reply.answers.isEmpty)
        #expect(reply.authorities.map(\.type) == [.soa])
        #expect(reply.authorities.first?.ttl == 300)
        #expect(reply.scope == 0)
        let staticName = try #require(try ex.ask("mail.example.com.", .a))
        #expect(staticName.rcode == .noError && staticName.answers.isEmpty && staticName.authorities.map(\.type) == [.soa])
    }

    @Test func answersNotImpWhereTheFallbackSaysSo() throws {
        let reply = try #require(try ex.ask("tcp.example.com.", .txt))
        #expect(reply.rcode == .notImp)
        #expect(reply.answers.isEmpty)
        let a = try #require(try ex.ask("tcp.example.com.", .a))
        #expect(a.rcode == .noError && a.answerData == ["198.51.100.1"] && a.answers.first?.ttl == 30)
    }

    @Test func answersANYMinimally() throws {
        for qname in ["www.example.com.", "example.com.", "txt.example.com."] {
            let reply = try #require(try ex.ask(qname, .any, subnet: .v4("81.2.69.0", 24)))
            #expect(reply.rcode == .noError)
            #expect(reply.header.authoritative)
            #expect(reply.answers.count == 1)
            #expect(reply.answers.first?.rdata == .hinfo(cpu: Array("RFC8482".utf8), os: []))
            #expect(reply.answers.first?.name == Fixture.name(qname))
            #expect(reply.scope == 0)
        }
        let missing = try #require(try ex.ask("nx.example.com.", .any))
        #expect(missing.rcode == .nxDomain && missing.authorities.map(\.type) == [.soa])
        let ent = try #require(try ex.ask("_udp.example.com.", .any))
        #expect(ent.rcode == .noError && ent.answers.isEmpty && ent.authorities.map(\.type) == [.soa])
    }

    @Test func answersNSAndSOAAtTheApex() throws {
        let ns = try #require(try ex.ask("example.com.", .ns))
        #expect(ns.header.authoritative)
        #expect(Set(ns.answerData) == ["ns1.example.com.", "ns2.example.com."])
        #expect(ns.answers.allSatisfy { $0.ttl == 86400 })
        #expect(ns.additionals.isEmpty)            // minimal responses, as gdnsd
        let soa = try #require(try ex.ask("example.com.", .soa))
        #expect(soa.answerData == ["ns1.example.com. hostmaster.example.com. 2026112601 7200 3600 1209600 300"])
        #expect(soa.answers.first?.ttl == 3600)    // as configured: no clamp to the minimum (unlike gdnsd)
    }

    @Test func answersStaticRecordsOfScenario() throws {
        #expect(try ex.ask("ns1.example.com.", .a)?.answerData == ["192.0.2.53"])
        #expect(try ex.ask("ns2.example.com.", .a)?.answerData == ["192.0.2.54"])
        let mx = try #require(try ex.ask("mail.example.com.", .mx))
        #expect(mx.answerData == ["10 mx.example.com."])
        #expect(mx.additionals.isEmpty)
        #expect(try ex.ask("mx.example.com.", .a)?.answerData == ["192.0.2.25"])
        #expect(try ex.ask("txt.example.com.", .txt)?.answerData == ["\"v=spf1 -all\""])
        let srv = try #require(try ex.ask("_sip._udp.example.com.", .srv))
        #expect(srv.answerData == ["10 60 5060 sip.example.com."])
        #expect(srv.answers.first?.ttl == 3600)
    }

    @Test func followsCNAMEsInsideOurZones() throws {
        let smtp = try #require(try ex.ask("smtp.example.com.", .a))
        #expect(smtp.answerData == ["mx.example.com.", "192.0.2.25"])
        #expect(smtp.answers.map(\.name) == [Fixture.name("smtp.example.com."), Fixture.name("mx.example.com.")])
        // Static CNAME to a steered name: the steered scope applies.
        let web = try #require(try ex.ask("web.example.com.", .a, subnet: .v4("81.2.69.0", 24)))
        #expect(web.answerData == ["www.example.com.", "198.51.100.10"])
        #expect(web.scope == 16)
        // Steered CNAME into another of our zones.
        let cdn = try #require(try ex.ask("cdn.example.com.", .a, subnet: .v4("81.2.69.0", 24)))
        #expect(cdn.answerData == ["eu.cdn.example.net.", "203.0.113.10"])
        #expect(cdn.answers.map(\.ttl) == [300, 300])
        // Target outside our zones: the CNAME alone.
        #expect(try ex.ask("out.example.com.", .a)?.answerData == ["target.example.net."])
        // Asking for the CNAME itself does not follow it.
        #expect(try ex.ask("smtp.example.com.", .cname)?.answerData == ["mx.example.com."])
    }

    @Test func endsCNAMEChainsWithTheLastNamesRCode() throws {
        let dangling = try #require(try ex.ask("dangling.example.com.", .a))
        #expect(dangling.rcode == .nxDomain)       // RFC 6604
        #expect(dangling.answerData == ["gone.example.com."])
        #expect(dangling.authorities.map(\.type) == [.soa])
        let nodata = try #require(try ex.ask("smtp.example.com.", .txt))
        #expect(nodata.rcode == .noError && nodata.answerData == ["mx.example.com."] && nodata.authorities.map(\.type) == [.soa])
    }

    @Test func stopsCNAMELoops() throws {
        let reply = try #require(try ex.ask("loop1.example.com.", .a))
        #expect(reply.rcode == .noError)
        #expect(reply.answers.count == Authority.maxCNAMEChain + 1)
    }

    @Test func synthesizesFromWildcards() throws {
        let reply = try #require(try ex.ask("Foo.wild.example.com.", .a))
        #expect(reply.header.authoritative)
        #expect(reply.answerData == ["192.0.2.80"])
        #expect(reply.answers.first?.name.description == "Foo.wild.example.com.")   // the query name, as asked
        #expect(try ex.ask("a.b.wild.example.com.", .a)?.answerData == ["192.0.2.80"])
        // The wildcard's owner type rules apply: no TXT there.
        let txt = try #require(try ex.ask("foo.wild.example.com.", .txt))
        #expect(txt.rcode == .noError && txt.answers.isEmpty && txt.authorities.map(\.type) == [.soa])
        // Existing names are not matched by the wildcard.
        #expect(try ex.ask("x.deep.wild.example.com.", .a)?.answerData == ["192.0.2.81"])
        // Wildcard CNAME, followed.
        #expect(try ex.ask("any.alias.example.com.", .a)?.answerData == ["mx.example.com.", "192.0.2.25"])
        // Steered wildcard.
        let geo = try #require(try ex.ask("cache1.geo.example.com.", .a, subnet: .v4("8.8.8.0", 24)))
        #expect(geo.answerData == ["198.51.100.20"] && geo.scope == 13)
    }

    @Test func emptyNonTerminalsAreNoDataAndBlockWildcards() throws {
        let ent = try #require(try ex.ask("deep.wild.example.com.", .a))
        #expect(ent.rcode == .noError && ent.answers.isEmpty && ent.authorities.map(\.type) == [.soa])
        // y.deep.wild: closest encloser is deep.wild, which has no wildcard: NXDOMAIN (RFC 4592 §2.2.2).
        let below = try #require(try ex.ask("y.deep.wild.example.com.", .a))
        #expect(below.rcode == .nxDomain)
        let udp = try #require(try ex.ask("_udp.example.com.", .srv))
        #expect(udp.rcode == .noError && udp.answers.isEmpty)
    }

    @Test func refersBelowZoneCuts() throws {
        let reply = try #require(try ex.ask("host.sub.example.com.", .a))
        #expect(reply.rcode == .noError)
        #expect(!reply.header.authoritative)
        #expect(reply.answers.isEmpty)
        #expect(reply.authorities.map { $0.rdata.presentationText } == ["ns.sub.example.com."])
        #expect(reply.additionals.map { $0.rdata.presentationText } == ["192.0.2.99"])
        let ds = try #require(try ex.ask("sub.example.com.", .ds))
        #expect(ds.header.authoritative && ds.authorities.map(\.type) == [.soa])
    }

    @Test func echoesHeaderBitsAndQuestionCase() throws {
        let reply = try #require(try ex.ask("WwW.ExAmPlE.CoM.", .a, rd: true, id: 0xBEEF))
        #expect(reply.header.id == 0xBEEF)
        #expect(reply.header.isResponse)
        #expect(reply.header.authoritative)
        #expect(reply.header.recursionDesired)
        #expect(!reply.header.recursionAvailable)
        #expect(reply.questions.first?.name.description == "WwW.ExAmPlE.CoM.")
        #expect(reply.answers.first?.name.description == "WwW.ExAmPlE.CoM.")
        let noRD = try #require(try ex.ask("www.example.com.", .a, rd: false))
        #expect(!noRD.header.recursionDesired)
    }

    @Test func sendsOPTOnlyWhenTheQueryHadOne() throws {
        let plain = try #require(try ex.ask("www.example.com.", .a))
        #expect(plain.edns == nil)
        let withEDNS = try #require(try ex.ask("www.example.com.", .a, edns: true, payload: 4096))
        #expect(withEDNS.edns?.udpPayloadSize == 1232)
        #expect(withEDNS.edns?.clientSubnet == nil)
        #expect(withEDNS.edns?.version == 0)
    }

    @Test func truncatesToTheUDPLimit() throws {
        // No EDNS: 512 bytes.
        let small = try #require(try ex.ask("big.example.com.", .a))
        #expect(small.header.truncated)
        #expect(small.answers.isEmpty)             // whole RRsets only
        // EDNS 1232: fits (40 x 16 bytes + header).
        let large = try #require(try ex.ask("big.example.com.", .a, edns: true, payload: 1232))
        #expect(!large.header.truncated && large.answers.count == 40)
        // A client buffer below 512 counts as 512.
        let tiny = try #require(try ex.ask("big.example.com.", .a, edns: true, payload: 100))
        #expect(tiny.header.truncated)
        // Our own limit caps a big client buffer.
        let capped = Exchange(catalog: Fixture.catalog(udpPayloadSize: 600))
        let viaCap = try #require(try capped.ask("big.example.com.", .a, edns: true, payload: 4096))
        #expect(viaCap.header.truncated && viaCap.edns?.udpPayloadSize == 600)
        // TCP: everything.
        var tcp = ex
        tcp.transport = .tcp
        let full = try #require(try tcp.ask("big.example.com.", .a))
        #expect(!full.header.truncated && full.answers.count == 40)
    }

    @Test func givesScopeZeroForStaticData() throws {
        for (qname, type) in [("ns1.example.com.", RRType.a), ("example.com.", .ns), ("txt.example.com.", .txt),
                              ("smtp.example.com.", .a)] {
            let reply = try #require(try ex.ask(qname, type, subnet: .v4("81.2.69.0", 24)))
            #expect(reply.rcode == .noError && !reply.answers.isEmpty)
            #expect(reply.edns?.clientSubnet?.sourcePrefix == 24)
            #expect(reply.scope == 0)
        }
    }
}

/// The buffer-reusing `respond` gives byte-identical replies to the plain one.
@Suite struct BufferReuseTests {
    @Test func matchesThePlainPath() throws {
        let catalog = Fixture.catalog()
        var packets: [[UInt8]] = []
        for (qname, type) in [("www.example.com.", RRType.a), ("WWW.example.com.", .aaaa), ("cdn.example.com.", .a),
                              ("nx.example.com.", .a), ("example.org.", .a), ("big.example.com.", .a),
                              ("example.com.", .ns), ("foo.wild.example.com.", .txt)] {
            for subnet in [nil, ClientSubnet.v4("81.2.69.0", 24), .v6("2001:4860::", 48)] {
                var h = Header(id: 99, recursionDesired: true)
                h.questionCount = 1
                var m = Message(header: h, questions: [Question(name: try DomainName(qname), type: type)])
                if let subnet { m.edns = EDNS(udpPayloadSize: 1232, clientSubnet: subnet) }
                packets.append(m.encode())
            }
        }
        packets.append([1, 2, 3])                                           // drop
        packets.append([0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0])              // QR=1: drop
        packets.append([0, 1, 0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1])  // UPDATE: NOTIMP
        var scratch = Query()
        var output: [UInt8] = []
        for transport in [Transport.udp, .tcp] {
            for p in packets {
                let plain = Authority.respond(to: p, source: .v4(0x0808_0808), transport: transport, catalog: catalog)
                let sent = Authority.respond(to: p, source: .v4(0x0808_0808), transport: transport, catalog: catalog,
                                             scratch: &scratch, output: &output)
                #expect(sent == (plain != nil))
                if let plain { #expect(output == plain) }
            }
        }
    }
}
