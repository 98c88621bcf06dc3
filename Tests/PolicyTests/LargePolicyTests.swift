import Foundation
import GeoIP
import Testing
@testable import Policy

/// Many steered names share a handful of tables (one per distinct region -> answer mapping).
@Suite struct LargePolicyTests {
    static func policy(names: Int) -> String {
        var yaml = """
        regions:
          europe: { continents: [EU] }
          america: { continents: [NA, SA] }
          asia: { continents: [AS] }
        pools:
          eu: { A: 192.0.2.10, AAAA: "2001:db8::10" }
          us: { A: 192.0.2.20 }
          as: { A: 192.0.2.30, AAAA: "2001:db8::30" }
          world: { A: 192.0.2.1, AAAA: "2001:db8::1" }
          edge: { CNAME: edge.cdn.example.net. }
        zones:
          example.com:
            soa: { mname: ns1, rname: hostmaster }
            ns: [ns1]
            records: { ns1: { A: 192.0.2.53 } }
            steer:

        """
        let shapes = [
            "{ regions: { europe: [eu], america: [us], asia: [as] }, default: world }",
            "{ regions: { europe: [eu, world], asia: [as] }, default: world }",
            "{ regions: { america: [edge] }, default: world }",
            "{ ttl: 30, regions: { europe: [eu], america: [us], asia: [as] }, default: world }",
        ]
        for i in 0..<names { yaml += "      host\(i): \(shapes[i % shapes.count])\n" }
        return yaml
    }

    @Test func twoThousandNamesShareTables() throws {
        let catalog = try load(Self.policy(names: 2000))
        let report = try #require(catalog.report)
        // Per shape: A and AAAA each (shapes 0, 1, 3: 2 decisions); shape 2's CNAME pool also
        // answers CNAME and other types (4). No shape has one answer everywhere.
        #expect(report.decisions == 2000 / 4 * (2 + 2 + 4 + 2))
        #expect(report.distinctTables <= 8)
        #expect(catalog.zones.first?.nodes.count == 2002)
    }

    /// `GEODNS_LARGE=1 swift test -c release -Xswiftc -enable-testing --filter LargePolicy`
    @Test(.enabled(if: ProcessInfo.processInfo.environment["GEODNS_LARGE"] == "1"))
    func hundredThousandNamesWithTheDemoDatabase() throws {
        let yaml = Self.policy(names: 100_000)
        let clock = ContinuousClock()
        let start = clock.now
        let catalog = try PolicyLoader.load(yaml: yaml, path: "large.yaml", database: try GeoIPDatabase(path: demoDatabasePath))
        let total = clock.now - start
        let report = try #require(catalog.report)
        print("100k steered names: load (YAML + validation + compile) \(total); \(report)")
        #expect(report.distinctTables <= 8)
    }
}
