import DNSWire
import GeoIP
import Policy
import Testing
@testable import Authority
import TestSupport

/// The scenario again, this time compiled the way the daemon does it: YAML through
/// `PolicyLoader` with the demo database `data/geodns-demo.mmdb`.
@Suite struct YAMLScenarioTests {
    static let repository: String = Repository.root.path

    static func database() throws -> GeoIPDatabase {
        try GeoIPDatabase(path: repository + "/data/geodns-demo.mmdb")
    }

    static let policy = """
    server:
      ecs: { max_source_v4: 24, max_source_v6: 56 }
    regions:
      europe:        { continents: [EU] }
      north-america: { continents: [NA] }
      asia:          { continents: [AS] }
      office:        { networks: [203.0.113.0/24] }
    pools:
      eu-web:     { A: 198.51.100.10, AAAA: "2001:db8:e::10" }
      na-web:     { A: 198.51.100.20, AAAA: "2001:db8:a::20" }
      as-web:     { A: 198.51.100.30, AAAA: "2001:db8:f::30" }
      office-web: { A: 192.0.2.200 }
      global-web: { A: 198.51.100.1,  AAAA: "2001:db8::1" }
      eu-cdn:     { CNAME: eu.cdn.example.net. }
      na-cdn:     { CNAME: na.cdn.example.net. }
      global-cdn: { CNAME: global.cdn.example.net. }
    zones:
      example.com:
        soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 2026112601, refresh: 7200, retry: 3600, expire: 1209600, minimum: 300, ttl: 3600 }
        ns: { ttl: 86400, names: [ns1.example.com., ns2.example.com.] }
        records:
          ns1:       { ttl: 86400, A: 192.0.2.53 }
          ns2:       { ttl: 86400, A: 192.0.2.54 }
          mail:      { ttl: 3600, MX: [[10, mx.example.com.]] }
          mx:        { ttl: 3600, A: 192.0.2.25 }
          txt:       { ttl: 3600, TXT: ["v=spf1 -all"] }
          _sip._udp: { ttl: 3600, SRV: [[10, 60, 5060, sip.example.com.]] }
          "*.wild":  { ttl: 120, A: 192.0.2.80 }
          x.deep.wild: { ttl: 120, A: 192.0.2.81 }
          smtp:      { ttl: 600, CNAME: mx.example.com. }
          web:       { ttl: 600, CNAME: www.example.com. }
        steer:
          www:
            ttl: 60
            regions: { europe: [eu-web, global-web], north-america: [na-web, global-web], asia: [as-web, global-web], office: [office-web, global-web] }
            default: global-web
          cdn:
            ttl: 300
            regions: { europe: [eu-cdn], north-america: [na-cdn] }
            default: global-cdn
          legacy:
            ttl: 30
            regions: { europe: [eu-web] }
            default: global-web
            fallback: notimp
    """

    static func catalog() throws -> Catalog {
        try PolicyLoader.load(yaml: policy, path: repository + "/test-policy.yaml", database: try database())
    }

    struct Row: Sendable, CustomStringConvertible {
        var subnet: String
        var wwwA: String, wwwAAAA: String, cdn: String
        var description: String { subnet }
    }

    /// scenario.md's table (the demo database gives these subnets the continents GeoLite2 does).
    static let rows: [Row] = [
        Row(subnet: "81.2.69.0/24", wwwA: "198.51.100.10", wwwAAAA: "2001:db8:e::10", cdn: "eu.cdn.example.net."),
        Row(subnet: "8.8.8.0/24", wwwA: "198.51.100.20", wwwAAAA: "2001:db8:a::20", cdn: "na.cdn.example.net."),
        Row(subnet: "1.0.16.0/24", wwwA: "198.51.100.30", wwwAAAA: "2001:db8:f::30", cdn: "global.cdn.example.net."),
        Row(subnet: "200.160.0.0/24", wwwA: "198.51.100.1", wwwAAAA: "2001:db8::1", cdn: "global.cdn.example.net."),
        Row(subnet: "203.2.218.0/24", wwwA: "198.51.100.1", wwwAAAA: "2001:db8::1", cdn: "global.cdn.example.net."),
        Row(subnet: "2a02:26f0::/48", wwwA: "198.51.100.10", wwwAAAA: "2001:db8:e::10", cdn: "eu.cdn.example.net."),
        Row(subnet: "2001:218::/48", wwwA: "198.51.100.30", wwwAAAA: "2001:db8:f::30", cdn: "global.cdn.example.net."),
        Row(subnet: "2001:4860::/48", wwwA: "198.51.100.20", wwwAAAA: "2001:db8:a::20", cdn: "na.cdn.example.net."),
    ]

    static func subnet(_ text: String) -> ClientSubnet? {
        switch IPNetwork.parse(text) {
        case .success(.v4(let a, let p)): return ClientSubnet(ipv4: IPv4Address(rawValue: a), sourcePrefix: UInt8(p))
        case .success(.v6(let a, let p)): return ClientSubnet(ipv6: IPv6Address(rawValue: a), sourcePrefix: UInt8(p))
        case .failure: return nil
        }
    }

    @Test(arguments: rows)
    func answersEveryScenarioSubnet(row: Row) throws {
        let ex = Exchange(catalog: try Self.catalog())
        let ecs = try #require(Self.subnet(row.subnet))
        let a = try #require(try ex.ask("www.example.com.", .a, subnet: ecs))
        #expect(a.rcode == .noError && a.header.authoritative)
        #expect(a.answerData == [row.wwwA])
        #expect(a.answers.first?.ttl == 60)
        let scope = try #require(a.scope)
        #expect(scope > 0)
        // Never wider than correct: every address of the scope block gets the same answer.
        try assertScopeIsCorrect(catalog: try Self.catalog(), sent: ecs, scope: scope, type: .a, expected: row.wwwA)

        let aaaa = try #require(try ex.ask("www.example.com.", .aaaa, subnet: ecs))
        #expect(aaaa.answerData == [row.wwwAAAA])
        let cname = try #require(try ex.ask("cdn.example.com.", .cname, subnet: ecs))
        #expect(cname.answerData == [row.cdn])
        #expect(cname.answers.first?.ttl == 300)
        let cdnA = try #require(try ex.ask("cdn.example.com.", .a, subnet: ecs))
        #expect(cdnA.rcode == .noError && cdnA.answerData == [row.cdn])   // the target is not ours
    }

    /// Samples the scope block (its ends and a spread of addresses in between): same answer.
    func assertScopeIsCorrect(catalog: Catalog, sent: ClientSubnet, scope: UInt8, type: RRType, expected: String) throws {
        let client = Authority.clientAddress(
            for: Query(header: Header(), question: Question(name: Fixture.name("www.example.com."), type: type),
                       edns: EDNS(clientSubnet: sent)),
            source: .v4(1), settings: catalog.settings.ecs)
        let block = IPNetwork.block(around: client, prefixLength: Int(scope))
        var samples: [ClientAddress] = [block.firstAddress, block.lastAddress]
        switch block {
        case .v4(let base, let p):
            let size = p == 0 ? UInt64(1) << 32 : UInt64(1) << UInt64(32 - p)
            for k in 1..<64 { samples.append(.v4(base &+ UInt32(truncatingIfNeeded: size / 64 * UInt64(k)))) }
        case .v6(let base, let p):
            let span: UInt128 = p == 0 ? .max : (UInt128(1) << UInt128(128 - p)) - 1
            for k in 1..<64 { samples.append(.v6(base &+ span / 64 * UInt128(k))) }
        }
        for s in samples {
            let q = Query(header: Header(), question: Question(name: Fixture.name("www.example.com."), type: type))
            let reply = Authority.answer(q, client: s, catalog: catalog)
            #expect(reply.answerData == [expected], "\(s) in \(block)")
        }
    }

    @Test func matchesGdnsdScopesForTheScenario() throws {
        // gdnsd's merged-supernet scopes (PEERS.md): our tables are built the same way, so with
        // the demo database they are at least as wide as the database leaf and never wider than
        // correct (checked above); here: the echoed option and plausible widths.
        let ex = Exchange(catalog: try Self.catalog())
        let eu = try #require(try ex.ask("www.example.com.", .a, subnet: Self.subnet("81.2.69.0/24")))
        let scope = try #require(eu.scope)
        #expect(scope <= 24)
        #expect(eu.edns?.clientSubnet?.sourcePrefix == 24)
        #expect(eu.edns?.clientSubnet?.address == [81, 2, 69])
    }

    @Test func answersWithoutECSFromTheSource() throws {
        let ex = Exchange(catalog: try Self.catalog())
        let plain = try #require(try ex.ask("www.example.com.", .a))
        #expect(plain.answerData == ["198.51.100.1"])
        #expect(plain.edns == nil)
        var gb = ex
        gb.source = .v4(Fixture.v4("81.2.69.160").rawValue)
        #expect(try gb.ask("www.example.com.", .a)?.answerData == ["198.51.100.10"])
        // Network overrides beat the database.
        var office = ex
        office.source = .v4(Fixture.v4("203.0.113.7").rawValue)
        #expect(try office.ask("www.example.com.", .a)?.answerData == ["192.0.2.200"])
        // office has no AAAA: its list falls through to global-web.
        #expect(try office.ask("www.example.com.", .aaaa)?.answerData == ["2001:db8::1"])
    }

    @Test func answersTheWireTableFromYAML() throws {
        let ex = Exchange(catalog: try Self.catalog())
        let eu = Self.subnet("81.2.69.0/24")
        let nx = try #require(try ex.ask("nx.example.com.", .a, subnet: eu))
        #expect(nx.rcode == .nxDomain && nx.authorities.first?.ttl == 300 && nx.scope == 0)
        let nodata = try #require(try ex.ask("www.example.com.", .txt, subnet: eu))
        #expect(nodata.rcode == .noError && nodata.answers.isEmpty && nodata.authorities.map(\.type) == [.soa])
        #expect(nodata.scope == 0)
        let notimp = try #require(try ex.ask("legacy.example.com.", .mx))
        #expect(notimp.rcode == .notImp)
        let any = try #require(try ex.ask("www.example.com.", .any, subnet: eu))
        #expect(any.answers.map(\.type) == [.hinfo] && any.scope == 0)
        let wild = try #require(try ex.ask("host.wild.example.com.", .a))
        #expect(wild.answerData == ["192.0.2.80"])
        let ent = try #require(try ex.ask("deep.wild.example.com.", .a))
        #expect(ent.rcode == .noError && ent.answers.isEmpty)
        let web = try #require(try ex.ask("web.example.com.", .a, subnet: eu))
        #expect(web.answerData == ["www.example.com.", "198.51.100.10"])
        #expect((web.scope ?? 0) > 0)
        let smtp = try #require(try ex.ask("smtp.example.com.", .a, subnet: eu))
        #expect(smtp.answerData == ["mx.example.com.", "192.0.2.25"] && smtp.scope == 0)
        let soa = try #require(try ex.ask("example.com.", .soa))
        #expect(soa.answers.first?.ttl == 3600)
        let refused = try #require(try ex.ask("example.org.", .a, subnet: eu))
        #expect(refused.rcode == .refused && !refused.header.authoritative && refused.scope == 0)
    }

    @Test func passesTheRepositoryConfigTests() throws {
        let path = Self.repository + "/config.yaml"
        let catalog = try PolicyLoader.load(path: path)
        let results = Authority.runTests(catalog)
        #expect(!results.isEmpty)
        for r in results { #expect(r.passed, "\(r)") }
    }

    @Test func explainsAnAnswer() throws {
        let catalog = try Self.catalog()
        let e = Authority.explain(name: Fixture.name("www.example.com."), type: .a, subnet: "81.2.69.0/24", catalog: catalog)
        #expect(e.problem == nil)
        #expect(e.clientPrefix?.description == "81.2.69.0/24")
        #expect(e.region?.regionName == "europe")
        #expect(e.region?.record?.continent == "EU")
        #expect(e.region?.databaseNetwork?.description == "81.2.69.0/24")
        #expect(e.steered.count == 1)
        #expect(e.steered.first?.pool == "eu-web")
        #expect(e.answers == ["www.example.com. 60 IN A 198.51.100.10"])
        #expect(e.ttl == 60)
        let scope = try #require(e.scope)
        #expect(e.scopeReason.contains("widest block whose every address gets this answer: \(IPNetwork.block(around: e.client, prefixLength: Int(scope)))"))
        let text = e.description
        for piece in ["client:", "database:", "region:", "europe", "eu-web", "198.51.100.10", "ttl:", "scope:"] {
            #expect(text.contains(piece), "\(piece) missing in:\n\(text)")
        }
    }

    @Test func explainsTruncationStaticDataAndMistakes() throws {
        let catalog = try Self.catalog()
        let cut = Authority.explain(name: Fixture.name("www.example.com."), type: .a, subnet: "81.2.69.77/32", catalog: catalog)
        #expect(cut.clientPrefix?.description == "81.2.69.0/24")
        #expect(cut.clientReason.contains("/24"))
        let office = Authority.explain(name: Fixture.name("www.example.com."), type: .a, subnet: "203.0.113.0/24", catalog: catalog)
        #expect(office.region?.regionName == "office")
        #expect(office.region?.rule.contains("override") == true)
        let fixed = Authority.explain(name: Fixture.name("mx.example.com."), type: .a, subnet: "81.2.69.0/24", catalog: catalog)
        #expect(fixed.steered.isEmpty && fixed.scope == 0)
        #expect(fixed.scopeReason.contains("static"))
        let nx = Authority.explain(name: Fixture.name("nx.example.com."), type: .a, subnet: "81.2.69.0/24", catalog: catalog)
        #expect(nx.rcode == .nxDomain && nx.ttl == 300 && nx.scope == 0)
        #expect(nx.description.contains("negative caching"))
        let none = Authority.explain(name: Fixture.name("www.example.com."), type: .a, subnet: nil, catalog: catalog)
        #expect(none.scope == nil && none.answers == ["www.example.com. 60 IN A 198.51.100.1"])
        let bad = Authority.explain(name: Fixture.name("www.example.com."), type: .a, subnet: "81.2.69.1/24", catalog: catalog)
        #expect(bad.problem != nil)
        #expect(bad.description.contains("error:"))
    }
}
