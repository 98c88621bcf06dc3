import Foundation
import GeoIP
import Testing
@testable import Policy

/// `check` knows what the database can match: a selector no record of the loaded database can
/// ever match is an error at its line with a hint, not a silent never-match (issue 17).
@Suite struct DatabaseChecksTests {
    static func policy(_ regions: String) -> String {
        """
        regions:
        \(regions)
        pools:
          web: { A: 192.0.2.1 }
          other: { A: 192.0.2.2 }
        zones:
          example.com:
            soa: { mname: ns1, rname: hostmaster, serial: 1 }
            ns: [ns1]
            records: { ns1: { A: 192.0.2.53 } }
            steer:
              www: { regions: { r: [other] }, default: web }

        """
    }

    static func errors(_ yaml: String, _ database: GeoIPDatabase) -> [String] {
        do { _ = try PolicyLoader.load(yaml: yaml, path: "t.yaml", database: database); return [] }
        catch { return error.diagnostics.map(\.description) }
    }

    @Test(.enabled(if: geoLite2Path != nil, "GeoLite2-City (PyPI maxminddb-geolite2) is not installed"))
    func geoLite2CityHasNoASNsAndNoUSCAL() throws {
        let db = try GeoIPDatabase(path: try #require(geoLite2Path))
        let asn = Self.errors(Self.policy("  r: { asns: [15169, AS36040] }"), db)
        #expect(asn == ["t.yaml:2:15: region 'r': asns (AS15169, AS36040) can never match: the database (GeoLite2-City) has no ASN data; add one beside it, server.geoip: { location: FILE, asn: FILE } (GeoLite2-ASN, DB-IP ASN, or one built by `geodns mmdb build` from a network,asn CSV), or use networks:"], "\(asn)")
        let sub = Self.errors(Self.policy("  r: { subdivisions: [US-NY, US-CAL, GB-ENG, JP-13] }"), db)
        #expect(sub == ["t.yaml:2:30: subdivision US-CAL can never match: the database (GeoLite2-City) has no subdivision CAL of US; did you mean US-CA?"], "\(sub)")
        #expect(Self.errors(Self.policy("  r: { subdivisions: [US-CA, GB-ENG], countries: [KR] }"), db).isEmpty)
    }

    @Test func demoDatabaseHasASNsAndItsOwnSubdivisions() throws {
        let db = try GeoIPDatabase(path: demoDatabasePath)
        #expect(Self.errors(Self.policy("  r: { asns: [15169] }"), db).isEmpty)
        let e = Self.errors(Self.policy("  r: { subdivisions: [US-NY, ZA-XX, AQ-01] }"), db)
        #expect(e.contains { $0.hasPrefix("t.yaml:2:30: subdivision ZA-XX can never match: the database (GeoDNS-City) has no subdivision XX of ZA") }, "\(e)")
        #expect(e.contains { $0.hasPrefix("t.yaml:2:37: subdivision AQ-01 can never match: the database (GeoDNS-City) has no subdivisions of AQ") }, "\(e)")
    }

    @Test func theSummaryNamesTypeNodesBuildTimeAndLanguages() throws {
        let db = try GeoIPDatabase(path: demoDatabasePath)
        let catalog = try PolicyLoader.load(yaml: Self.policy("  r: { continents: [EU] }"), path: "t.yaml", database: db)
        let s = try #require(catalog.databaseSummary)
        #expect(s.contains("type GeoDNS-City") && s.contains("nodes") && s.contains("built 2025-11-26T00:00:00Z") && s.contains("languages"), "\(s)")
    }
}
