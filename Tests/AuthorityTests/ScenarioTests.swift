import DNSWire
import Policy
import Testing
@testable import Authority

/// scenario.md's client table against the hand-built catalog (networks standing in for the
/// database's continents), plus the ECS rules of RFC 7871 as `Authority` documents them.
@Suite struct ScenarioTests {
    let ex = Exchange(catalog: Fixture.catalog())

    struct Row: Sendable, CustomStringConvertible {
        var subnet: ClientSubnet?
        var wwwA: String, wwwAAAA: String, cdn: String
        var scope: UInt8?          // expected scope for www in the hand-built table
        var description: String { subnet.map { "\($0.ipv4?.description ?? $0.ipv6?.description ?? "?")/\($0.sourcePrefix)" } ?? "no ECS" }
    }

    static let rows: [Row] = [
        Row(subnet: .v4("81.2.69.0", 24), wwwA: "198.51.100.10", wwwAAAA: "2001:db8:e::10", cdn: "eu.cdn.example.net.", scope: 16),
        Row(subnet: .v4("8.8.8.0", 24), wwwA: "198.51.100.20", wwwAAAA: "2001:db8:a::20", cdn: "na.cdn.example.net.", scope: 13),
        Row(subnet: .v4("1.0.16.0", 24), wwwA: "198.51.100.30", wwwAAAA: "2001:db8:f::30", cdn: "global.cdn.example.net.", scope: 20),
        Row(subnet: .v4("200.160.0.0", 24), wwwA: "198.51.100.1", wwwAAAA: "2001:db8::1", cdn: "global.cdn.example.net.", scope: 1),
        Row(subnet: .v4("203.2.218.0", 24), wwwA: "198.51.100.1", wwwAAAA: "2001:db8::1", cdn: "global.cdn.example.net.", scope: 1),
        Row(subnet: .v6("2a02:26f0::", 48), wwwA: "198.51.100.10", wwwAAAA: "2001:db8:e::10", cdn: "eu.cdn.example.net.", scope: 23),
        Row(subnet: .v6("2001:218::", 48), wwwA: "198.51.100.30", wwwAAAA: "2001:db8:f::30", cdn: "global.cdn.example.net.", scope: 23),
        Row(subnet: .v6("2001:4860::", 48), wwwA: "198.51.100.20", wwwAAAA: "2001:db8:a::20", cdn: "na.cdn.example.net.", scope: 32),
        Row(subnet: nil, wwwA: "198.51.100.1", wwwAAAA: "2001:db8::1", cdn: "global.cdn.example.net.", scope: nil),
    ]

    @Test(arguments: rows)
    func answersEveryScenarioClient(row: Row) throws {
        let a = try #require(try ex.ask("www.example.com.", .a, subnet: row.subnet))
        #expect(a.rcode == .noError && a.header.authoritative)
        #expect(a.answerData == [row.wwwA])
        #expect(a.answers.first?.ttl == 60)
        #expect(a.scope == row.scope)
        if let sent = row.subnet {
            // Family, source prefix and address echoed as sent.
            #expect(a.edns?.clientSubnet?.family == sent.family)
            #expect(a.edns?.clientSubnet?.sourcePrefix == sent.sourcePrefix)
            #expect(a.edns?.clientSubnet?.address == sent.address)
        } else {
            #expect(a.edns == nil)
        }

        let aaaa = try #require(try ex.ask("www.example.com.", .aaaa, subnet: row.subnet))
        #expect(aaaa.answerData == [row.wwwAAAA])
        #expect(aaaa.scope == row.scope)

        let cname = try #require(try ex.ask("cdn.example.com.", .cname, subnet: row.subnet))
        #expect(cname.answerData == [row.cdn])
        #expect(cname.answers.first?.ttl == 300)

        // cdn A: the CNAME (plus the target's A where the target is one of our zones).
        let cdnA = try #require(try ex.ask("cdn.example.com.", .a, subnet: row.subnet))
        #expect(cdnA.answerData.first == row.cdn)
        #expect(cdnA.answers.first?.type == .cname)
    }

    @Test func usesThePacketSourceWithoutECS() throws {
        var fromEurope = ex
        fromEurope.source = .v4(Fixture.v4("81.2.69.1").rawValue)
        let reply = try #require(try fromEurope.ask("www.example.com.", .a, edns: true))
        #expect(reply.answerData == ["198.51.100.10"])
        #expect(reply.edns?.clientSubnet == nil)
        // An IPv4-mapped IPv6 source (dual-stack socket) counts as IPv4.
        var mapped = ex
        mapped.source = .v6(0xFFFF_0000_0000 | UInt128(Fixture.v4("8.8.8.8").rawValue))
        #expect(try mapped.ask("www.example.com.", .a)?.answerData == ["198.51.100.20"])
    }

    @Test func treatsSourcePrefixZeroAsNoTailoring() throws {
        var fromEurope = ex
        fromEurope.source = .v4(Fixture.v4("81.2.69.1").rawValue)
        let reply = try #require(try fromEurope.ask("www.example.com.", .a, subnet: .v4("0.0.0.0", 0)))
        #expect(reply.answerData == ["198.51.100.10"])      // the packet source decides
        #expect(reply.edns?.clientSubnet?.sourcePrefix == 0)
        #expect(reply.scope == 0)
    }

    @Test func truncatesLongSourcePrefixesAndClampsTheScope() throws {
        // /32 inside a /27 that the table splits off: the answer is for the /24 we honour.
        let catalog = Fixture.catalog()
        let split = Exchange(catalog: catalog)
        let reply = try #require(try split.ask("www.example.com.", .a, subnet: .v4("81.2.69.77", 32)))
        #expect(reply.answerData == ["198.51.100.10"])
        #expect(reply.edns?.clientSubnet?.sourcePrefix == 32)      // echoed as sent
        #expect(reply.edns?.clientSubnet?.address == [81, 2, 69, 77])
        #expect(reply.scope == 16)
        // The longest honoured prefix caps the scope even when the table is finer.
        var ecs = ServerSettings.ECS()
        ecs.maxSourceV4 = 8
        let coarse = Exchange(catalog: Fixture.catalog(ecs: ecs))
        let capped = try #require(try coarse.ask("www.example.com.", .a, subnet: .v4("81.2.69.0", 24)))
        // 81.2.69.0 cut to /8 is 81.0.0.0: not in 81.2.0.0/16, so the default answer, scope <= 8.
        #expect(capped.answerData == ["198.51.100.1"])
        #expect((capped.scope ?? 99) <= 8)
        let client = Authority.clientAddress(
            for: Query(header: Header(), question: Question(name: Fixture.name("www.example.com."), type: .a),
                       edns: EDNS(clientSubnet: .v6("2001:db8:1234:5678::", 64))),
            source: .v4(1), settings: ServerSettings.ECS())
        #expect(client == .v6(Fixture.v6("2001:db8:1234:5600::").rawValue))   // /56 by default
    }

    @Test func ignoresAndDoesNotEchoECSWhenDisabled() throws {
        var ecs = ServerSettings.ECS()
        ecs.enabled = false
        var off = Exchange(catalog: Fixture.catalog(ecs: ecs))
        off.source = .v4(Fixture.v4("8.8.8.8").rawValue)
        let reply = try #require(try off.ask("www.example.com.", .a, subnet: .v4("81.2.69.0", 24)))
        #expect(reply.answerData == ["198.51.100.20"])     // the source, not the option
        #expect(reply.edns != nil)
        #expect(reply.edns?.clientSubnet == nil)
    }

    @Test func scopesLocationDependentNoData() throws {
        // Europe has AAAA for v6eu, the rest of the world gets NODATA: that NODATA must not be
        // cached for Europe, so it carries the table's scope; the European answer likewise.
        let rest = try #require(try ex.ask("v6eu.example.com.", .aaaa, subnet: .v4("8.8.8.0", 24)))
        #expect(rest.rcode == .noError && rest.answers.isEmpty && rest.authorities.map(\.type) == [.soa])
        #expect(rest.scope == 2)      // 0.0.0.0-81.1.255.255 all lack AAAA: 8.8.8.0 sits in 0.0.0.0/2
        let eu = try #require(try ex.ask("v6eu.example.com.", .aaaa, subnet: .v4("81.2.69.0", 24)))
        #expect(eu.answerData == ["2001:db8:e::10"] && eu.scope == 16)
        // The same for everyone: scope 0.
        let a = try #require(try ex.ask("v6eu.example.com.", .a, subnet: .v4("8.8.8.0", 24)))
        #expect(a.answerData == ["198.51.100.1"] && a.scope == 0)
        // NXDOMAIN never depends on the client.
        #expect(try ex.ask("nx.example.com.", .a, subnet: .v4("8.8.8.0", 24))?.scope == 0)
    }

    @Test func answersTheSameOverTCP() throws {
        var tcp = ex
        tcp.transport = .tcp
        let reply = try #require(try tcp.ask("www.example.com.", .a, subnet: .v4("81.2.69.0", 24)))
        #expect(reply.answerData == ["198.51.100.10"] && reply.scope == 16)
    }
}
