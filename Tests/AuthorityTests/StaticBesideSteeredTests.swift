import DNSWire
import GeoIP
import Policy
import Testing
@testable import Authority

/// A steered apex or name also carries static records of other types from `records:` (MX, TXT,
/// SRV, ...), as every real zone's apex does; A/AAAA stay the pools' (issue 17).
@Suite struct StaticBesideSteeredTests {
    static func policy(geoip: String) -> String {
        """
        server: { geoip: \(geoip) }
        regions:
          asia:   { continents: [AS] }
          europe: { continents: [EU] }
        pools:
          as-web:     { A: 198.51.100.30, AAAA: "2001:db8:f::30" }
          eu-web:     { A: 198.51.100.10 }
          global-web: { A: 198.51.100.1,  AAAA: "2001:db8::1" }
        zones:
          example.com:
            soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 1, minimum: 300 }
            ns: [ns1.example.com.]
            records:
              "@":  { ttl: 3600, MX: [[10, mx.example.com.]], TXT: ["v=spf1 mx -all"] }
              www:  { ttl: 300, TXT: ["site-verification=abc"], SRV: [[0, 5, 443, www.example.com.]] }
              ns1:  { A: 192.0.2.53 }
              mx:   { A: 192.0.2.25 }
            steer:
              "@":  { ttl: 60, regions: { asia: [as-web], europe: [eu-web] }, default: global-web }
              www:  { ttl: 60, regions: { asia: [as-web] }, default: global-web }

        """
    }

    static func ask(_ catalog: Catalog, _ name: String, _ type: RRType, _ client: String) throws -> Message {
        let query = Query(header: Header(id: 1), question: Question(name: try DomainName(name), type: type))
        return Authority.answer(query, client: try #require(ClientAddress(client)), catalog: catalog)
    }

    static func check(_ catalog: Catalog, asiaClient: String) throws {
        let mx = try Self.ask(catalog, "example.com.", .mx, asiaClient)
        #expect(mx.rcode == .noError && mx.header.authoritative)
        #expect(mx.answers.map(\.rdata) == [.mx(preference: 10, exchange: try DomainName("mx.example.com."))])
        let txt = try Self.ask(catalog, "example.com.", .txt, asiaClient)
        #expect(txt.answers.map(\.rdata) == [.txt([Array("v=spf1 mx -all".utf8)])])
        #expect(txt.answers.first?.ttl == 3600)
        // The steered types still steer, beside them.
        #expect(try Self.ask(catalog, "example.com.", .a, asiaClient).answers.map(\.rdata) == [.a(IPv4Address(rawValue: 0xC633_641E))])
        #expect(try Self.ask(catalog, "example.com.", .a, "81.2.69.160").answers.map(\.rdata) == [.a(IPv4Address(rawValue: 0xC633_640A))])
        #expect(try Self.ask(catalog, "example.com.", .soa, asiaClient).answers.count == 1)
        #expect(try Self.ask(catalog, "example.com.", .ns, asiaClient).answers.count == 1)
        let wwwTXT = try Self.ask(catalog, "www.example.com.", .txt, asiaClient)
        #expect(wwwTXT.answers.map(\.rdata) == [.txt([Array("site-verification=abc".utf8)])])
        #expect(try Self.ask(catalog, "www.example.com.", .srv, asiaClient).answers.count == 1)
        #expect(try Self.ask(catalog, "www.example.com.", .aaaa, asiaClient).answers.map(\.rdata) == [.aaaa(IPv6Address(rawValue: 0x2001_0db8_000f_0000_0000_0000_0000_0030))])
        // A type neither has: NODATA with the SOA, as before.
        let caa = try Self.ask(catalog, "www.example.com.", .ptr, asiaClient)
        #expect(caa.rcode == .noError && caa.answers.isEmpty && caa.authorities.first?.type == .soa)
        // The fast path gives the same bytes.
        let tally = FastPathTests.compare(catalog, names: ["example.com.", "www.example.com.", "mx.example.com."], count: 3000, seed: 17)
        #expect(tally.mismatches == 0, "\(tally)\n\(tally.firstMismatch ?? "")")
    }

    @Test func steeredApexAnswersItsMXAndTXT() throws {
        let path = YAMLScenarioTests.repository + "/data/geodns-demo.mmdb"
        let catalog = try PolicyLoader.load(yaml: Self.policy(geoip: path), path: "t.yaml", database: try GeoIPDatabase(path: path))
        try Self.check(catalog, asiaClient: "1.0.16.1")
    }

    @Test(.enabled(if: GeoLite2.path != nil, "GeoLite2-City (PyPI maxminddb-geolite2) is not installed"))
    func steeredApexAnswersItsMXAndTXTWithGeoLite2() throws {
        let path = try #require(GeoLite2.path)
        let catalog = try PolicyLoader.load(yaml: Self.policy(geoip: path), path: "t.yaml", database: try GeoIPDatabase(path: path))
        try Self.check(catalog, asiaClient: "1.11.0.1")
    }

    static func errors(_ yaml: String) -> [String] {
        do { _ = try PolicyLoader.load(yaml: yaml, path: "t.yaml", database: nil); return [] } catch { return error.diagnostics.map(\.description) }
    }

    @Test func cnamePoolBesideStaticRecordsIsAnError() {
        let yaml = Self.policy(geoip: "none.mmdb")
            .replacingOccurrences(of: "  global-web: {", with: "  cdn: { CNAME: cdn.example.net. }\n  global-web: {")
            .replacingOccurrences(of: "www:  { ttl: 60, regions: { asia: [as-web] }", with: "www:  { ttl: 60, regions: { asia: [cdn] }")
        let e = Self.errors(yaml)
        #expect(e.contains { $0.contains("a CNAME pool cannot steer www.example.com.: it would sit beside its static TXT, SRV records") }, "\(e)")
        // Static A beside a steered name: the pools answer A there.
        let a = Self.policy(geoip: "none.mmdb").replacingOccurrences(of: "TXT: [\"site-verification=abc\"]", with: "A: 192.0.2.9")
        #expect(Self.errors(a).contains { $0.contains("www.example.com. is steered and also has static A (records: at") }, "\(Self.errors(a))")
    }
}
