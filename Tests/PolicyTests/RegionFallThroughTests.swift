import DNSWire
import Foundation
import GeoIP
import Testing
@testable import Policy

/// A region a steered name does not list never shadows one it does: each name answers from the
/// first of its own regions in the client's chain (networks, ASN, subdivision, country,
/// continent), its default only when it lists none of them (issue 17; README "Regions").
@Suite struct RegionFallThroughTests {
    /// `korea` and `office` are listed by `cdn` only; `www` lists `asia` and `europe`.
    static func yaml(geoip: String) -> String {
        """
        server: { geoip: \(geoip) }
        regions:
          asia:   { continents: [AS] }
          korea:  { countries: [KR] }
          japan:  { countries: [JP] }
          europe: { continents: [EU] }
          office: { networks: [81.2.69.128/25] }
          lab:    { networks: [81.2.69.192/26] }
        pools:
          as-web:     { A: 198.51.100.30 }
          kr-web:     { A: 198.51.100.31 }
          jp-web:     { A: 198.51.100.32 }
          eu-web:     { A: 198.51.100.10 }
          office-web: { A: 198.51.100.99 }
          lab-web:    { A: 198.51.100.98 }
          global-web: { A: 198.51.100.1 }
        zones:
          example.com:
            soa: { mname: ns1, rname: hostmaster, serial: 1 }
            ns: [ns1]
            records: { ns1: { A: 192.0.2.53 } }
            steer:
              www:  { ttl: 60, regions: { asia: [as-web], europe: [eu-web] }, default: global-web }
              www2: { ttl: 60, regions: { europe: [eu-web], asia: [as-web] }, default: global-web }
              cdn:  { ttl: 60, regions: { korea: [kr-web], japan: [jp-web], asia: [as-web], office: [office-web] }, default: global-web }
              lab:  { ttl: 60, regions: { lab: [lab-web], europe: [eu-web] }, default: global-web }
              img:  { ttl: 60, regions: { japan: [jp-web] }, default: global-web }

        """
    }

    static func answer(_ catalog: Catalog, _ owner: String, _ client: String) -> (String, UInt8) {
        guard let d = catalog.zones.first?.nodes[name(owner + ".example.com.")]?.steering?.decision(for: .a),
              let c = ClientAddress(client) else { return ("no decision", 0) }
        let (a, scope) = d.answer(for: c)
        return (ScenarioTests.text(a), scope)
    }

    static let demo: Catalog? = try? PolicyLoader.load(yaml: yaml(geoip: demoDatabasePath), path: "t.yaml",
                                                        database: try GeoIPDatabase(path: demoDatabasePath))

    @Test func countryOneNameListsDoesNotShadowAnothersContinent() throws {
        let catalog = try #require(Self.demo)
        // 1.0.16.1: AS, JP. www lists asia only, img japan only, cdn both.
        #expect(Self.answer(catalog, "www", "1.0.16.1").0 == "198.51.100.30")
        #expect(Self.answer(catalog, "cdn", "1.0.16.1").0 == "198.51.100.32")
        #expect(Self.answer(catalog, "img", "1.0.16.1").0 == "198.51.100.32")
        // A client of no listed region gets the default: img outside Japan, www in Oceania.
        #expect(Self.answer(catalog, "img", "81.2.69.10").0 == "198.51.100.1")
        #expect(Self.answer(catalog, "www", "1.1.1.1").0 == "198.51.100.1")
    }

    @Test func officeNetworkListedByOneNameOnly() throws {
        let catalog = try #require(Self.demo)
        // 81.2.69.200: in office (and lab), GB, EU.
        #expect(Self.answer(catalog, "cdn", "81.2.69.200").0 == "198.51.100.99")
        #expect(Self.answer(catalog, "www", "81.2.69.200") == ("198.51.100.10", 24))   // europe, all of 81.2.69.0/24
        #expect(Self.answer(catalog, "lab", "81.2.69.200") == ("198.51.100.98", 26))   // nested lab beats europe
        #expect(Self.answer(catalog, "lab", "81.2.69.130") == ("198.51.100.10", 26))   // office: not lab's; europe up to lab
        // cdn: office covers the /25; the rest of the GB /24 is not cdn's (default).
        #expect(Self.answer(catalog, "cdn", "81.2.69.130") == ("198.51.100.99", 25))
        #expect(Self.answer(catalog, "cdn", "81.2.69.10") == ("198.51.100.1", 25))
        let m = catalog.classify(try #require(ClientAddress("81.2.69.200")))
        #expect(m.chain.map { catalog.regions[$0.region].name } == ["lab", "office", "europe"])
        #expect(m.compiledChain == m.chain.map(\.region))
        #expect(m.region == m.compiledRegion && m.regionName == "lab")
    }

    /// The compile stays per rule: names with the same mapping share the table and the rule,
    /// whatever their key order; the chains are few.
    @Test func tablesStaySharedAndChainsFew() throws {
        let catalog = try #require(Self.demo)
        let nodes = try #require(catalog.zones.first?.nodes)
        #expect(nodes[name("www.example.com.")]?.steeringBox === nodes[name("www2.example.com.")]?.steeringBox)
        let report = try #require(catalog.report)
        #expect(report.distinctRules == 4)
        #expect(report.distinctTables == 4)
        #expect(report.regionChains == catalog.regionChains.count)
        #expect(catalog.regionChains.count < 20)
        #expect(report.description.contains("region chains"))
    }

    /// GeoLite2-City, the issue's example: a Korean client of `www` gets asia's pool while `cdn`
    /// uses korea's; the office network listed by `cdn` only leaves `www` on europe. Each scope
    /// is the widest block on which that name's answer is constant.
    @Test(.enabled(if: geoLite2Path != nil, "GeoLite2-City (PyPI maxminddb-geolite2) is not installed"))
    func geoLite2KoreanClientOfWwwGetsAsia() throws {
        let path = try #require(geoLite2Path)
        let catalog = try PolicyLoader.load(yaml: Self.yaml(geoip: path), path: "t.yaml", database: try GeoIPDatabase(path: path))
        let (www, wwwScope) = Self.answer(catalog, "www", "1.11.0.1")
        let (cdn, cdnScope) = Self.answer(catalog, "cdn", "1.11.0.1")
        #expect(www == "198.51.100.30")
        #expect(cdn == "198.51.100.31")
        // www does not tell Korea from the rest of Asia, so its block is at least as wide as cdn's.
        #expect(wwwScope <= cdnScope && wwwScope > 0)
        let m = catalog.classify(try #require(ClientAddress("1.11.0.1")))
        #expect(m.chainText(catalog.regions) == "korea (country KR) -> asia (continent AS)")
        #expect(m.compiledChain == m.chain.map(\.region))
        for (owner, client) in [("www", "1.11.0.1"), ("cdn", "1.11.0.1"), ("www", "81.2.69.200"), ("cdn", "81.2.69.200"),
                                ("lab", "81.2.69.200"), ("img", "1.11.0.1"), ("img", "1.0.16.1")] {
            try Self.expectScopeCorrect(catalog, owner, client)
        }
        #expect(Self.answer(catalog, "www", "81.2.69.200").0 == "198.51.100.10")
        #expect(Self.answer(catalog, "cdn", "81.2.69.200") == ("198.51.100.99", 25))
        #expect(Self.answer(catalog, "img", "1.11.0.1").0 == "198.51.100.1")
    }

    /// The scope block has one answer (the slow path at both ends agrees) and one bit wider would not.
    static func expectScopeCorrect(_ catalog: Catalog, _ owner: String, _ client: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
        let d = try #require(catalog.zones.first?.nodes[name(owner + ".example.com.")]?.steering?.decision(for: .a))
        let steering = try #require(catalog.zones.first?.nodes[name(owner + ".example.com.")]?.steering)
        let c = try #require(ClientAddress(client))
        let (answer, scope) = d.answer(for: c)
        func slow(_ a: ClientAddress) -> String {
            let chain = catalog.classify(a).chain.map(\.region)
            let region = chain.first { steering.regionPools[$0] != nil }
            let pools = region.flatMap { steering.regionPools[$0] } ?? steering.defaultPools
            return pools.first ?? "?"
        }
        guard case .records(let pool, _) = answer else { Issue.record("no records"); return }
        let block = IPNetwork.block(around: c, prefixLength: Int(scope))
        for end in [block.firstAddress, block.lastAddress] {
            #expect(slow(end) == pool, "\(owner) \(client): \(end) at the edge of /\(scope)", sourceLocation: sourceLocation)
        }
        if scope > 0 {
            let parent = IPNetwork.block(around: c, prefixLength: Int(scope) - 1)
            let ends = [parent.firstAddress, parent.lastAddress].map(slow)
            #expect(ends.contains { $0 != pool } || ScenarioTests.boundaryInside(d, parent),
                    "\(owner) \(client): /\(scope) could be wider", sourceLocation: sourceLocation)
        }
    }
}
