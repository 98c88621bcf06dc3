import Foundation
import GeoIP
import Testing
@testable import Policy

/// Several databases at once (issue 17): `geoip: { location: FILE, asn: FILE }` or a list, merged
/// at compile time — one lookup per query, and each decision's scope the widest block on which
/// every database agrees for its answer. The ASN database is built from a `network,asn` CSV
/// the way `geodns mmdb build` builds it.
@Suite struct SeveralDatabasesTests {
    static let asnCSV = """
    # build_epoch: 1764115200
    network,asn
    1.11.0.0/16,4766
    8.8.8.0/24,AS15169
    81.2.69.0/25,20712
    2001:4860::/32,15169

    """

    static func policy(geoip: String) -> String {
        """
        server: { geoip: \(geoip) }
        regions:
          asia:   { continents: [AS] }
          korea:  { countries: [KR] }
          europe: { continents: [EU] }
          kt:     { asns: [4766] }
          google: { asns: [15169] }
        pools:
          as-web:  { A: 198.51.100.30 }
          kr-web:  { A: 198.51.100.31 }
          eu-web:  { A: 198.51.100.10 }
          kt-web:  { A: 198.51.100.40 }
          goo-web: { A: 198.51.100.41 }
          global:  { A: 198.51.100.1 }
        zones:
          example.com:
            soa: { mname: ns1, rname: hostmaster, serial: 1 }
            ns: [ns1]
            records: { ns1: { A: 192.0.2.53 } }
            steer:
              www: { regions: { kt: [kt-web], google: [goo-web], asia: [as-web], europe: [eu-web] }, default: global }
              cdn: { regions: { korea: [kr-web], asia: [as-web], europe: [eu-web] }, default: global }

        """
    }

    /// A folder with the ASN database built from the CSV and the policy.
    static func setUp(location: String, form: (String, String) -> String) throws -> (Catalog, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("geodns-dbs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let asn = dir.appendingPathComponent("asn.mmdb").path
        try MMDBSource.parseCSV(asnCSV, path: "asn.csv").writer(databaseType: "GeoDNS-ASN", path: "asn.csv").write(to: asn)
        let config = dir.appendingPathComponent("config.yaml")
        try policy(geoip: form(location, asn)).write(to: config, atomically: true, encoding: .utf8)
        return (try PolicyLoader.load(path: config.path), dir)
    }

    static func answer(_ c: Catalog, _ owner: String, _ client: String) -> (String, UInt8) {
        guard let d = c.zones.first?.nodes[name(owner + ".example.com.")]?.steering?.decision(for: .a),
              let a = ClientAddress(client) else { return ("?", 0) }
        let (answer, scope) = d.answer(for: a)
        return (ScenarioTests.text(answer), scope)
    }

    static func check(_ catalog: Catalog) throws {
        // KR Telecom's 1.11.0.0/16: www lists kt (from the ASN database), cdn does not: korea.
        #expect(Self.answer(catalog, "www", "1.11.0.1").0 == "198.51.100.40")
        #expect(Self.answer(catalog, "cdn", "1.11.0.1").0 == "198.51.100.31")
        #expect(Self.answer(catalog, "www", "8.8.8.8").0 == "198.51.100.41")
        // An ASN no region names: the location decides.
        #expect(Self.answer(catalog, "www", "81.2.69.1").0 == "198.51.100.10")
        let m = catalog.classify(try #require(ClientAddress("1.11.0.1")))
        #expect(m.chain.map { catalog.regions[$0.region].name }.prefix(2) == ["kt", "korea"], "\(m.chainText(catalog.regions))")
        #expect(m.compiledChain == m.chain.map(\.region))
        for (owner, client) in [("www", "1.11.0.1"), ("cdn", "1.11.0.1"), ("www", "8.8.8.8"), ("www", "81.2.69.1"),
                                ("www", "81.2.69.200"), ("cdn", "81.2.69.200"), ("www", "2001:4860::1")] {
            try RegionFallThroughTests.expectScopeCorrect(catalog, owner, client)
        }
        #expect(catalog.report?.databaseNetworks ?? 0 > 4)
        #expect(catalog.databaseSummary?.contains("GeoDNS-ASN") == true)
    }

    @Test func demoLocationPlusASNFromCSV() throws {
        // The demo database has ASNs of its own; read for location only, they are ignored.
        let (catalog, dir) = try Self.setUp(location: demoDatabasePath) { "{ location: \($0), asn: \($1) }" }
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(Self.answer(catalog, "www", "1.0.16.1").0 == "198.51.100.30")   // JP, no ASN in the CSV
        // 202.12.27.0/24 is AS7500 in the demo database, not in the CSV: asia.
        #expect(Self.answer(catalog, "www", "202.12.27.1").0 == "198.51.100.30")
        #expect(Self.answer(catalog, "www", "8.8.8.8").0 == "198.51.100.41")
        // As a list, each field from the first database that has it: the demo's own ASN wins.
        let (listed, dir2) = try Self.setUp(location: demoDatabasePath) { "[\($0), \($1)]" }
        defer { try? FileManager.default.removeItem(at: dir2) }
        #expect(Self.answer(listed, "www", "8.8.8.8").0 == "198.51.100.41")
        #expect(listed.classify(try #require(ClientAddress("8.8.8.8"))).rule == "asn AS15169")
    }

    @Test(.enabled(if: geoLite2Path != nil, "GeoLite2-City (PyPI maxminddb-geolite2) is not installed"))
    func geoLite2CityPlusASNFromCSV() throws {
        let (catalog, dir) = try Self.setUp(location: try #require(geoLite2Path)) { "{ location: \($0), asn: \($1) }" }
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.check(catalog)
    }
}
