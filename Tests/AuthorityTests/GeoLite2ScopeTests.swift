import DNSWire
import Foundation
import GeoIP
import Policy
import Testing
@testable import Authority

/// The lab's policy (../shared/lab/scenario.md) compiled with GeoLite2-City, the database the
/// peers serve, compared with what gdnsd answers (../shared/lab/PEERS.md §1): same answers, and
/// ECS scopes that are gdnsd's merged supernets. Skipped when GeoLite2 is not installed
/// (`make deps` installs the PyPI package `maxminddb-geolite2`).
enum GeoLite2 {
    /// GeoLite2-City.mmdb, found with the one-liner scenario.md gives; nil when not installed.
    static let path: String? = {
        let script = "import _maxminddb_geolite2,os;print(os.path.join(os.path.dirname(_maxminddb_geolite2.__file__),\"GeoLite2-City.mmdb\"))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && FileManager.default.fileExists(atPath: text) ? text : nil
    }()
}

@Suite(.enabled(if: GeoLite2.path != nil, "GeoLite2-City (PyPI maxminddb-geolite2) is not installed"))
struct GeoLite2ScopeTests {

    static let policy = """
    regions:
      europe:        { continents: [EU] }
      north-america: { continents: [NA] }
      asia:          { continents: [AS] }
    pools:
      eu-web:     { A: 198.51.100.10, AAAA: "2001:db8:e::10" }
      na-web:     { A: 198.51.100.20, AAAA: "2001:db8:a::20" }
      as-web:     { A: 198.51.100.30, AAAA: "2001:db8:f::30" }
      global-web: { A: 198.51.100.1,  AAAA: "2001:db8::1" }
      eu-cdn:     { CNAME: eu.cdn.example.net. }
      na-cdn:     { CNAME: na.cdn.example.net. }
      global-cdn: { CNAME: global.cdn.example.net. }
    zones:
      example.com:
        soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 2026112601, refresh: 7200, retry: 3600, expire: 1209600, minimum: 300, ttl: 3600 }
        ns: { ttl: 86400, names: [ns1.example.com., ns2.example.com.] }
        records:
          ns1: { ttl: 86400, A: 192.0.2.53 }
          ns2: { ttl: 86400, A: 192.0.2.54 }
        steer:
          www: { ttl: 60, regions: { europe: [eu-web], north-america: [na-web], asia: [as-web] }, default: global-web }
          cdn: { ttl: 300, regions: { europe: [eu-cdn], north-america: [na-cdn] }, default: global-cdn }
    """

    /// Compiled once: walking GeoLite2's networks takes a few seconds.
    static let catalog: Catalog? = {
        guard let path = GeoLite2.path, let db = try? GeoIPDatabase(path: path) else { return nil }
        return try? PolicyLoader.load(yaml: policy, path: "geolite2-lab.yaml", database: db)
    }()

    struct Row: Sendable, CustomStringConvertible {
        var qname: String, type: RRType, subnet: String, answer: String, gdnsdScope: UInt8
        /// Where we differ from gdnsd on purpose (and why); nil = the same scope.
        var ourScope: UInt8? = nil
        var description: String { "\(qname) \(type) \(subnet)" }
    }

    /// PEERS.md §1, gdnsd column.
    static let rows: [Row] = [
        Row(qname: "www.example.com.", type: .a, subnet: "81.2.69.0/24", answer: "198.51.100.10", gdnsdScope: 16),
        Row(qname: "www.example.com.", type: .a, subnet: "8.8.8.0/24", answer: "198.51.100.20", gdnsdScope: 13),
        Row(qname: "www.example.com.", type: .a, subnet: "1.0.16.0/24", answer: "198.51.100.30", gdnsdScope: 20),
        Row(qname: "www.example.com.", type: .a, subnet: "200.160.0.0/24", answer: "198.51.100.1", gdnsdScope: 12),
        Row(qname: "www.example.com.", type: .a, subnet: "203.2.218.0/24", answer: "198.51.100.1", gdnsdScope: 21),
        Row(qname: "www.example.com.", type: .aaaa, subnet: "2a02:26f0::/48", answer: "2001:db8:e::10", gdnsdScope: 41),
        Row(qname: "www.example.com.", type: .aaaa, subnet: "2001:218::/48", answer: "2001:db8:f::30", gdnsdScope: 32),
        Row(qname: "www.example.com.", type: .aaaa, subnet: "2001:4860::/48", answer: "2001:db8:a::20", gdnsdScope: 32),
        Row(qname: "www.example.com.", type: .a, subnet: "82.69.80.0/24", answer: "198.51.100.10", gdnsdScope: 12),
        Row(qname: "www.example.com.", type: .a, subnet: "10.1.2.0/24", answer: "198.51.100.1", gdnsdScope: 8),
        Row(qname: "cdn.example.com.", type: .cname, subnet: "1.0.16.0/24", answer: "global.cdn.example.net.", gdnsdScope: 15),
        Row(qname: "cdn.example.com.", type: .cname, subnet: "203.2.218.0/24", answer: "global.cdn.example.net.", gdnsdScope: 15),
        // Teredo (2001::/32) stands for IPv4 space: it is classified through the IPv4 table, as
        // gdnsd does, so the scope stops at 2001:200::/23 like gdnsd's.
        Row(qname: "cdn.example.com.", type: .cname, subnet: "2001:218::/48", answer: "global.cdn.example.net.", gdnsdScope: 23),
        Row(qname: "cdn.example.com.", type: .cname, subnet: "81.2.69.0/24", answer: "eu.cdn.example.net.", gdnsdScope: 16),
    ]

    @Test(arguments: rows)
    func answersAndScopesLikeGdnsd(row: Row) throws {
        let catalog = try #require(Self.catalog)
        let ecs = try #require(YAMLScenarioTests.subnet(row.subnet))
        let ex = Exchange(catalog: catalog)
        let reply = try #require(try ex.ask(row.qname, row.type, subnet: ecs))
        #expect(reply.answerData == [row.answer])
        let scope = try #require(reply.scope)
        #expect(scope == row.ourScope ?? row.gdnsdScope, "gdnsd says /\(row.gdnsdScope)")
        // And never wider than correct: addresses spread over the block get the same answer.
        let client = Authority.clientAddress(
            for: Query(header: Header(), question: Question(name: Fixture.name(row.qname), type: row.type),
                       edns: EDNS(clientSubnet: ecs)),
            source: .v4(1), settings: catalog.settings.ecs)
        let block = IPNetwork.block(around: client, prefixLength: Int(scope))
        var samples: [ClientAddress] = [block.firstAddress, block.lastAddress]
        switch block {
        case .v4(let base, let p):
            let span = p == 0 ? UInt64(UInt32.max) : (UInt64(1) << UInt64(32 - p)) - 1
            for k in 1..<256 { samples.append(.v4(base &+ UInt32(truncatingIfNeeded: span / 256 * UInt64(k)))) }
        case .v6(let base, let p):
            let span: UInt128 = p == 0 ? .max : (UInt128(1) << UInt128(128 - p)) - 1
            for k in 1..<256 { samples.append(.v6(base &+ span / 256 * UInt128(k))) }
        }
        for s in samples {
            let q = Query(header: Header(), question: Question(name: Fixture.name(row.qname), type: row.type))
            #expect(Authority.answer(q, client: s, catalog: catalog).answerData == [row.answer], "\(s) in \(block)")
        }
    }

    @Test func answersSourcePrefixZeroWithScopeZero() throws {
        let catalog = try #require(Self.catalog)
        let reply = try #require(try Exchange(catalog: catalog).ask("www.example.com.", .a, subnet: .v4("0.0.0.0", 0)))
        #expect(reply.answerData == ["198.51.100.1"])
        #expect(reply.scope == 0)
    }
}
