import DNSWire
import Foundation
import GeoIP
import Testing
@testable import Policy
import TestSupport

/// config.yaml compiled against a real database: every scenario subnet lands in its region,
/// gets the scenario's answer, and an ECS scope that is correct (every address of the scope
/// block gets the same answer) and no wider than correct.
@Suite struct ScenarioTests {
    struct Row: Sendable, CustomStringConvertible {
        var subnet: String
        var region: String?          // nil: no region (default)
        var wwwA: String
        var wwwAAAA: String
        var cdn: String
        var description: String { subnet }
    }

    static let rows: [Row] = [
        Row(subnet: "81.2.69.0/24", region: "europe", wwwA: "198.51.100.10", wwwAAAA: "2001:db8:e::10", cdn: "eu.cdn.example.net."),
        Row(subnet: "8.8.8.0/24", region: "north-america", wwwA: "198.51.100.20", wwwAAAA: "2001:db8:a::20", cdn: "na.cdn.example.net."),
        Row(subnet: "1.0.16.0/24", region: "asia", wwwA: "198.51.100.30", wwwAAAA: "2001:db8:f::30", cdn: "global.cdn.example.net."),
        Row(subnet: "200.160.0.0/24", region: nil, wwwA: "198.51.100.1", wwwAAAA: "2001:db8::1", cdn: "global.cdn.example.net."),
        Row(subnet: "203.2.218.0/24", region: nil, wwwA: "198.51.100.1", wwwAAAA: "2001:db8::1", cdn: "global.cdn.example.net."),
        Row(subnet: "2a02:26f0::/48", region: "europe", wwwA: "198.51.100.10", wwwAAAA: "2001:db8:e::10", cdn: "eu.cdn.example.net."),
        Row(subnet: "2001:218::/48", region: "asia", wwwA: "198.51.100.30", wwwAAAA: "2001:db8:f::30", cdn: "global.cdn.example.net."),
        Row(subnet: "2001:4860::/48", region: "north-america", wwwA: "198.51.100.20", wwwAAAA: "2001:db8:a::20", cdn: "na.cdn.example.net."),
        Row(subnet: "10.1.2.0/24", region: nil, wwwA: "198.51.100.1", wwwAAAA: "2001:db8::1", cdn: "global.cdn.example.net."),
    ]

    /// GeoLite2 only (PEERS.md): a /24 inside a /27 record.
    static let geoLite2Rows: [Row] = rows + [
        Row(subnet: "82.69.80.0/24", region: "europe", wwwA: "198.51.100.10", wwwAAAA: "2001:db8:e::10", cdn: "eu.cdn.example.net."),
    ]

    static func compile(_ databasePath: String) throws -> Catalog {
        let database = try GeoIPDatabase(path: databasePath)
        let text = try String(contentsOfFile: repositoryRoot + "/config.yaml", encoding: .utf8)
        return try PolicyLoader.load(yaml: text, path: repositoryRoot + "/config.yaml", database: database)
    }

    static let demo: Catalog? = try? compile(demoDatabasePath)

    static func text(_ answer: SteeredAnswer) -> String {
        switch answer {
        case .records(_, let set):
            return set.rdata.map { r -> String in
                switch r {
                case .a(let a): return a.description
                case .aaaa(let a): return a.description
                default: return "\(r)"
                }
            }.joined(separator: ",")
        case .cname(_, let target): return target.description
        case .noData: return "NODATA"
        }
    }

    /// The first and last address of the block of `scope` bits around `client`, and whether the
    /// table has a run boundary strictly inside a block (i.e. the block is not one answer).
    static func boundaryInside(_ d: SteeredDecision, _ block: IPNetwork) -> Bool {
        switch block {
        case .v4(let first, let p):
            let last = first | ~IPNetwork.mask4(p)
            return d.table.v4.starts.contains { $0 > first && $0 <= last }
        case .v6(let first, let p):
            let last = first | ~IPNetwork.mask6(p)
            return d.table.v6.starts.contains { $0 > first && $0 <= last }
        }
    }

    /// Checks one decision at one client: the answer, a correct scope, and no wider than correct.
    static func checkScope(_ catalog: Catalog, _ d: SteeredDecision, _ client: ClientAddress, want: String,
                           _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let (answer, scope) = d.answer(for: client)
        #expect(text(answer) == want, "\(what): answer", sourceLocation: sourceLocation)
        let block = IPNetwork.block(around: client, prefixLength: Int(scope))
        // Correct: the table holds one run over the whole block, and the slow path (database
        // record -> region -> answer) agrees at both ends of it.
        #expect(!boundaryInside(d, block), "\(what): scope /\(scope) spans two answers", sourceLocation: sourceLocation)
        for end in [block.firstAddress, block.lastAddress] {
            let chain = catalog.classify(end).chain.map(\.region)
            let viaRegion = d.answers[Int(d.table.mapValuesProbe(chain: chain, catalog: catalog))]
            #expect(text(viaRegion) == want, "\(what): \(end) at the edge of /\(scope) classifies as \(catalog.classify(end).rule)",
                    sourceLocation: sourceLocation)
        }
        // Not wider than necessary: one bit shorter would take in another answer.
        if scope > 0 {
            let parent = IPNetwork.block(around: client, prefixLength: Int(scope) - 1)
            #expect(boundaryInside(d, parent), "\(what): scope /\(scope) could be /\(scope - 1)", sourceLocation: sourceLocation)
        }
    }

    @Test(.enabled(if: demo != nil, "data/geodns-demo.mmdb is missing"), arguments: rows)
    func demoDatabase(row: Row) throws {
        let catalog = try #require(Self.demo)
        try Self.check(catalog, row)
    }

    static func check(_ catalog: Catalog, _ row: Row, sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard case .success(let net) = IPNetwork.parse(row.subnet) else { Issue.record("bad subnet"); return }
        let client = net.firstAddress
        let match = catalog.classify(client)
        #expect(match.regionName == row.region, "\(row.subnet): \(match.rule)", sourceLocation: sourceLocation)
        #expect(match.compiledRegion == match.region, "\(row.subnet): table vs slow path", sourceLocation: sourceLocation)
        let zone = try #require(catalog.zones.first)
        let www = try #require(zone.nodes[name("www.example.com.")]?.steering)
        let cdn = try #require(zone.nodes[name("cdn.example.com.")]?.steering)
        checkScope(catalog, try #require(www.decision(for: .a)), client, want: row.wwwA, "\(row.subnet) www A", sourceLocation: sourceLocation)
        checkScope(catalog, try #require(www.decision(for: .aaaa)), client, want: row.wwwAAAA, "\(row.subnet) www AAAA", sourceLocation: sourceLocation)
        for type in [RRType.cname, .a, .mx] {
            checkScope(catalog, try #require(cdn.decision(for: type)), client, want: row.cdn, "\(row.subnet) cdn \(type)", sourceLocation: sourceLocation)
        }
        // www has no CNAME pool: other types have no data anywhere (the answer engine's fallback).
        #expect(www.decision(for: .txt) == nil)
    }

    /// The compiled region table agrees with the slow path (database record -> region) on random
    /// addresses, including IPv4 seen through IPv6 (mapped, 6to4).
    @Test(.enabled(if: demo != nil, "data/geodns-demo.mmdb is missing"))
    func regionTableMatchesTheDatabase() throws {
        let catalog = try #require(Self.demo)
        let table = try #require(catalog.regionTable)
        var rng = SplitMix64(seed: 42)
        var clients: [ClientAddress] = []
        for _ in 0..<3000 { clients.append(.v4(UInt32.random(in: 0...UInt32.max, using: &rng))) }
        for _ in 0..<1000 { clients.append(.v6(UInt128(UInt64.random(in: 0...UInt64.max, using: &rng)) << 64 | UInt128(0x2000) << 112)) }
        // Every network of the demo database, both ends.
        let csv = try String(contentsOfFile: repositoryRoot + "/data/networks.csv", encoding: .utf8)
        for line in csv.split(separator: "\n") where !line.hasPrefix("#") {
            if let first = line.split(separator: ",").first, case .success(let net) = IPNetwork.parse(String(first)) {
                clients.append(net.firstAddress)
                clients.append(net.lastAddress)
                if case .v4(let a, _) = net {
                    clients.append(.v6((UInt128(0xFFFF) << 32) | UInt128(a)))
                    clients.append(.v6((UInt128(0x2002) << 112) | (UInt128(a) << 80)))
                }
            }
        }
        var mismatches: [String] = []
        for c in clients {
            let m = catalog.classify(c)
            let compiled = catalog.regionChains[Int32(table.lookup(c).value)]
            if compiled != m.chain.map(\.region), mismatches.count < 5 { mismatches.append("\(c): table \(compiled), slow \(m.chain.map(\.region)) (\(m.rule))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test(.enabled(if: demo != nil, "data/geodns-demo.mmdb is missing"))
    func demoReport() throws {
        let catalog = try #require(Self.demo)
        let report = try #require(catalog.report)
        print("demo database: \(report)")
        #expect(catalog.warnings.isEmpty, "\(catalog.warnings)")
        #expect(report.databaseNetworks >= 27)
        // www: A, AAAA; cdn: A, AAAA, CNAME, other types.
        #expect(report.decisions == 6)
        #expect(report.distinctTables <= 2)   // www A/AAAA share one shape, cdn's four share another
    }

    /// The documented order on real records: ASN > subdivision > country > continent.
    @Test(.enabled(if: demo != nil, "data/geodns-demo.mmdb is missing"))
    func mostSpecificRuleWins() throws {
        let yaml = """
        regions:
          google:   { asns: [AS15169] }
          new-york: { subdivisions: [us-ny] }
          us:       { countries: [US] }
          america:  { continents: [NA, SA] }
          tokyo:    { subdivisions: [JP-13] }
        pools:
          g: { A: 192.0.2.1 }
          ny: { A: 192.0.2.2 }
          u: { A: 192.0.2.3 }
          am: { A: 192.0.2.4 }
          t: { A: 192.0.2.5 }
          w: { A: 192.0.2.6 }
        zones:
          example.com:
            soa: { mname: ns1, rname: hostmaster }
            ns: [ns1]
            steer:
              www: { regions: { google: [g], new-york: [ny], us: [u], america: [am], tokyo: [t] }, default: w }

        """
        let catalog = try PolicyLoader.load(yaml: yaml, path: "order.yaml", database: try GeoIPDatabase(path: demoDatabasePath))
        let www = try #require(catalog.zones.first?.nodes[name("www.example.com.")]?.steering?.decision(for: .a))
        let cases: [(String, String?, String, String)] = [
            ("8.8.8.1", "google", "asn AS15169", "192.0.2.1"),
            ("2800:3f0::1", "google", "asn AS15169", "192.0.2.1"),          // Argentina, but Google's ASN
            ("162.243.0.1", "new-york", "subdivision US-NY", "192.0.2.2"),
            ("52.0.0.1", "us", "country US", "192.0.2.3"),                   // US-VA: no region for it
            ("200.160.0.1", "america", "continent SA", "192.0.2.4"),
            ("1.0.16.1", "tokyo", "subdivision JP-13", "192.0.2.5"),
            ("202.12.27.1", nil, "no region matched -> default", "192.0.2.6"),
            ("10.0.0.1", nil, "not in the database, no region matched -> default", "192.0.2.6"),
        ]
        for (address, region, rule, answer) in cases {
            let client = try #require(ClientAddress(address))
            let m = catalog.classify(client)
            #expect(m.regionName == region && m.rule == rule, "\(address): \(m.rule)")
            #expect(m.compiledRegion == m.region, "\(address)")
            Self.checkScope(catalog, www, client, want: answer, address)
        }
    }

    /// Overrides beat the database: an office network inside Europe answers its own pool.
    @Test(.enabled(if: demo != nil, "data/geodns-demo.mmdb is missing"))
    func overridesBeatTheDatabase() throws {
        let text = try String(contentsOfFile: repositoryRoot + "/config.yaml", encoding: .utf8)
            .replacingOccurrences(of: "regions:                                 # who the clients are (most specific match wins)\n",
                                  with: "regions:\n  office: { networks: [81.2.69.128/25] }\n  gb: { countries: [GB] }\n")
            .replacingOccurrences(of: "north-america: [na-web, global-web],", with: "north-america: [na-web, global-web], office: [as-web], gb: [na-web],")
        let catalog = try PolicyLoader.load(yaml: text, path: repositoryRoot + "/config.yaml", database: try GeoIPDatabase(path: demoDatabasePath))
        let www = try #require(catalog.zones.first?.nodes[name("www.example.com.")]?.steering?.decision(for: .a))
        let inside = ClientAddress("81.2.69.200") ?? .v4(0)
        let outside = ClientAddress("81.2.69.10") ?? .v4(0)
        #expect(catalog.classify(inside).rule == "networks 81.2.69.128/25 (override)")
        #expect(catalog.classify(outside).rule == "country GB")   // country beats continent
        Self.checkScope(catalog, www, inside, want: "198.51.100.30", "override")
        Self.checkScope(catalog, www, outside, want: "198.51.100.20", "country")
        #expect(www.answer(for: inside).scope == 25)
        #expect(www.answer(for: outside).scope == 25)
    }
}

extension DecisionTable {
    /// The answer index the compiler gave a region chain (for checks): the value of any run
    /// labelled with that chain in the region table is what this table says there. Found by
    /// looking up an address of that chain; falls back to the "no region" label.
    func mapValuesProbe(chain: [RegionID], catalog: Catalog) -> Int {
        guard let regionTable = catalog.regionTable,
              let region = catalog.regionChains.chains.firstIndex(of: chain) else { return 0 }
        for i in regionTable.v4.values.indices where Int(regionTable.v4.values[i]) == region {
            return lookup(.v4(regionTable.v4.starts[i])).value
        }
        for i in regionTable.v6.values.indices where Int(regionTable.v6.values[i]) == region {
            return lookup(.v6(regionTable.v6.starts[i])).value
        }
        return 0
    }
}

/// config.yaml against GeoLite2-City (PyPI `maxminddb-geolite2`), the database the lab's peers
/// use. The whole database is walked, so this is opt-in: `GEODNS_GEOLITE2=1` (fast in release:
/// `GEODNS_GEOLITE2=1 swift test -c release -Xswiftc -enable-testing --filter GeoLite2`).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GEODNS_GEOLITE2"] == "1" && geoLite2Path != nil,
                "set GEODNS_GEOLITE2=1 (and install maxminddb-geolite2)"))
struct GeoLite2ScenarioTests {
    static let catalog: Catalog? = geoLite2Path.flatMap { try? ScenarioTests.compile($0) }

    @Test func compileFigures() throws {
        let catalog = try #require(Self.catalog)
        let report = try #require(catalog.report)
        let www = try #require(catalog.zones.first?.nodes[name("www.example.com.")]?.steering)
        let cdn = try #require(catalog.zones.first?.nodes[name("cdn.example.com.")]?.steering)
        let wwwA = try #require(www.decision(for: .a)), cdn1 = try #require(cdn.decision(for: .cname))
        print("GeoLite2-City: \(report)")
        print("www map: \(wwwA.table.v4.count) IPv4 + \(wwwA.table.v6.count) IPv6 runs = \(wwwA.table.v4.count + wwwA.table.v6.count) (gdnsd www_map: 344,509 nets)")
        print("cdn map: \(cdn1.table.v4.count) IPv4 + \(cdn1.table.v6.count) IPv6 runs = \(cdn1.table.v4.count + cdn1.table.v6.count) (gdnsd cdn_map: 277,341 nets)")
        print("www map as CIDR networks (IPv4-in-IPv6 aliases left out, as gdnsd counts): \(Self.cidrCount(wwwA.table)) (gdnsd: 344,509)")
        print("cdn map as CIDR networks: \(Self.cidrCount(cdn1.table)) (gdnsd: 277,341)")
        #expect(report.databaseNetworks > 1_000_000)
    }

    /// Networks needed to write the table's runs as CIDR blocks, IPv4 plus IPv6 without the
    /// IPv4 aliases (::/96, ::ffff:0:0/96, Teredo 2001::/32, 2002::/16).
    static func cidrCount(_ t: DecisionTable) -> Int {
        func blocks<A: FixedWidthInteger & UnsignedInteger>(_ first: A, _ last: A) -> Int {
            var n = 0, a = first
            while true {
                // Largest block starting at a that does not pass last.
                var size = a == 0 ? A.bitWidth : a.trailingZeroBitCount
                while size > 0 {
                    let span: A = size >= A.bitWidth ? A.max : (A(1) << A(size)) &- 1
                    if a &+ span >= a && a &+ span <= last { break }
                    size -= 1
                }
                let span: A = size >= A.bitWidth ? A.max : (A(1) << A(size)) &- 1
                n += 1
                if a &+ span >= last { return n }
                a = a &+ span &+ 1
            }
        }
        var total = 0
        let s4 = t.v4.starts
        for i in s4.indices { total += blocks(s4[i], i + 1 < s4.count ? s4[i + 1] - 1 : UInt32.max) }
        let s6 = t.v6.starts
        let aliases: [(UInt128, UInt128)] = [(0, UInt128(1) << 32 - 1),
                                             (UInt128(0xFFFF) << 32, (UInt128(0xFFFF) << 32) | UInt128(UInt32.max)),
                                             (UInt128(0x2001) << 112, (UInt128(0x2001) << 112) | (UInt128(1) << 96 - 1)),
                                             (UInt128(0x2002) << 112, (UInt128(0x2003) << 112) - 1)]
        for i in s6.indices {
            let first = s6[i], last = i + 1 < s6.count ? s6[i + 1] - 1 : UInt128.max
            // Cut the alias ranges out of the run.
            var pieces = [(first, last)]
            for (lo, hi) in aliases {
                pieces = pieces.flatMap { (f, l) -> [(UInt128, UInt128)] in
                    if l < lo || f > hi { return [(f, l)] }
                    var out: [(UInt128, UInt128)] = []
                    if f < lo { out.append((f, lo - 1)) }
                    if l > hi { out.append((hi + 1, l)) }
                    return out
                }
            }
            for (f, l) in pieces { total += blocks(f, l) }
        }
        return total
    }

    @Test(arguments: ScenarioTests.geoLite2Rows)
    func scenarioRow(row: ScenarioTests.Row) throws {
        try ScenarioTests.check(try #require(Self.catalog), row)
    }

    /// The scopes gdnsd returned for the same policy and database (../shared/lab/PEERS.md):
    /// (subnet, query, scope).
    static let gdnsdScopes: [(String, String, UInt8)] = [
        ("81.2.69.0/24", "www A", 16), ("8.8.8.0/24", "www A", 13), ("1.0.16.0/24", "www A", 20),
        ("200.160.0.0/24", "www A", 12), ("203.2.218.0/24", "www A", 21),
        ("2a02:26f0::/48", "www AAAA", 41), ("2001:218::/48", "www AAAA", 32), ("2001:4860::/48", "www AAAA", 32),
        ("1.0.16.0/24", "cdn CNAME", 15), ("203.2.218.0/24", "cdn CNAME", 15), ("2001:218::/48", "cdn CNAME", 23),
        ("82.69.80.0/24", "www A", 12), ("10.1.2.0/24", "www A", 8),
    ]

    @Test func scopesMatchGdnsd() throws {
        let catalog = try #require(Self.catalog)
        let zone = try #require(catalog.zones.first)
        for (subnet, query, want) in Self.gdnsdScopes {
            let parts = query.split(separator: " ")
            let steering = try #require(zone.nodes[name("\(parts[0]).example.com.")]?.steering)
            let d = try #require(steering.decision(for: RRType(mnemonic: String(parts[1])) ?? .a))
            guard case .success(let net) = IPNetwork.parse(subnet) else { continue }
            let scope = d.answer(for: net.firstAddress).scope
            print("\(subnet) \(query): scope /\(scope) (gdnsd /\(want))")
            #expect(scope == want, "\(subnet) \(query)")
        }
    }

    @Test func regionTableMatchesTheDatabaseOnRandomAddresses() throws {
        let catalog = try #require(Self.catalog)
        let table = try #require(catalog.regionTable)
        let www = try #require(catalog.zones.first?.nodes[name("www.example.com.")]?.steering?.decision(for: .a))
        var rng = SplitMix64(seed: 7)
        var mismatches: [String] = []
        for i in 0..<24_000 {
            let v4 = UInt32.random(in: 0...UInt32.max, using: &rng)
            let low = UInt128(UInt64.random(in: 0...UInt64.max, using: &rng))
            let c: ClientAddress
            switch i % 8 {
            case 3, 7: c = .v6(UInt128(UInt64.random(in: 0...UInt64.max, using: &rng)) << 64 | UInt128(0x2000) << 112)
            case 5: c = .v6(UInt128(0x2001) << 112 | UInt128(v4) << 64 | low)        // Teredo (an alias in GeoLite2)
            case 6: c = .v6(UInt128(0x2002) << 112 | UInt128(v4) << 80 | (low >> 48)) // 6to4
            case 4: c = .v6(UInt128(0xFFFF) << 32 | UInt128(v4))                       // mapped
            default: c = .v4(v4)
            }
            let m = catalog.classify(c)
            let compiled = catalog.regionChains[Int32(table.lookup(c).value)]
            if compiled != m.chain.map(\.region), mismatches.count < 5 { mismatches.append("\(c): table \(compiled), slow \(m.chain.map(\.region)) (\(m.rule))") }
            // The scope block of the www answer: both ends classify to the same answer.
            let (answer, scope) = www.answer(for: c)
            let block = IPNetwork.block(around: c, prefixLength: Int(scope))
            for end in [block.firstAddress, block.lastAddress] {
                let other = www.answers[www.table.mapValuesProbe(chain: catalog.classify(end).chain.map(\.region), catalog: catalog)]
                if other != answer, mismatches.count < 5 { mismatches.append("\(c) /\(scope): \(end) gets \(other)") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }
}
