import Foundation
import GeoIP
import Testing
@testable import Policy
import TestSupport

/// The streamed region table (`RegionTableBuilder`: the walk goes straight into runs, the IPv4
/// alias blocks and overrides are overlaid without copying) must be the reference build's
/// table (`Compiler.referenceRegionTable`: every network kept, aliases copied, sorted and
/// flattened) array for array — the same starts, the same values — so every lookup and every
/// ECS scope is unchanged.
@Suite struct StreamedRegionTableTests {
    /// config.yaml's regions (continents only, no overrides).
    static let labRegions: ([Region], [[IPNetwork]]) = (
        [Region(name: "europe", continents: ["EU"]), Region(name: "north-america", continents: ["NA"]),
         Region(name: "asia", continents: ["AS"])],
        [[], [], []])

    /// Every matcher rule, plus override networks that nest (longest prefix wins), sit inside
    /// IPv4 alias blocks (mapped, 6to4, Teredo), duplicate an alias of an IPv4 override (first
    /// listed wins), and touch the top and bottom of both spaces.
    static let richRegions: ([Region], [[IPNetwork]]) = {
        func nets(_ texts: [String]) -> [IPNetwork] {
            texts.compactMap { if case .success(let n) = IPNetwork.parse($0) { return n } else { return nil } }
        }
        let regions = [
            Region(name: "office", networks: ["81.2.0.0/16", "81.2.69.128/25", "10.0.0.0/8", "255.255.255.0/24"]),
            Region(name: "lab", networks: ["81.2.69.0/24", "2002:5102:4500::/40", "::ffff:10.0.0.0/104", "2001:db8::/32"]),
            Region(name: "teredo", networks: ["2001:0:5102:4500::/64", "::/128", "ffff::/16"]),
            Region(name: "us-east", subdivisions: ["US-NY", "US-VA"]),
            Region(name: "gb", countries: ["GB"]),
            Region(name: "japan", countries: ["JP"]),
            Region(name: "asn", asns: [15169]),
            Region(name: "europe", continents: ["EU"]),
            Region(name: "oceania", continents: ["OC"]),
        ]
        return (regions, regions.map { nets($0.networks) })
    }()

    static func expectSame(_ streamed: DecisionTable, _ reference: DecisionTable, _ label: String) {
        #expect(streamed.v4.starts == reference.v4.starts, "\(label): IPv4 starts")
        #expect(streamed.v4.values == reference.v4.values, "\(label): IPv4 values")
        #expect(streamed.v6.starts == reference.v6.starts, "\(label): IPv6 starts")
        #expect(streamed.v6.values == reference.v6.values, "\(label): IPv6 values")
    }

    @discardableResult
    static func compare(_ database: GeoIPDatabase, _ regions: ([Region], [[IPNetwork]]), _ label: String) -> (DecisionTable, Int, RegionChains) {
        let (streamed, chains, visited, _) = Compiler.regionTable(regions.0, networks: regions.1, database: database)
        let (reference, referenceChains, referenceVisited, _) = Compiler.referenceRegionTable(regions.0, networks: regions.1, database: database)
        #expect(visited == referenceVisited)
        #expect(chains.chains == referenceChains.chains, "\(label): chains")
        #expect(visited > 0)
        expectSame(streamed, reference, label)
        return (streamed, visited, chains)
    }

    @Test func demoDatabaseTablesMatchReference() throws {
        let database = try GeoIPDatabase(path: demoDatabasePath)
        Self.compare(database, Self.labRegions, "demo, lab regions")
        Self.compare(database, Self.richRegions, "demo, rich regions")
    }

    /// The whole GeoLite2-City walk, twice per region set (a few seconds in debug builds).
    @Test(.enabled(if: geoLite2Path != nil, "GeoLite2-City (PyPI maxminddb-geolite2) is not installed"))
    func geoLite2TablesMatchReference() throws {
        let database = try GeoIPDatabase(path: try #require(geoLite2Path))
        let (table, visited, _) = Self.compare(database, Self.labRegions, "GeoLite2-City, lab regions")
        Self.compare(database, Self.richRegions, "GeoLite2-City, rich regions")
        // The lab figures (`geodns check config.yaml`) are unchanged.
        #expect(visited == 3_428_122)
        #expect(table.v4.count == 64226)
        #expect(table.v6.count == 315_715)
    }

    /// A database whose IPv6 data covers the IPv4 alias blocks (::/8 holds data, so there is
    /// no ::/96 node): streaming hands over to the reference build, and the table is still the
    /// reference's.
    @Test func ipv6DataAroundAnAliasBlockUsesTheReferenceBuild() throws {
        var w = MMDBWriter(databaseType: "GeoDNS-Test", buildEpoch: 1_764_115_200)
        func net(_ text: String) -> GeoNetwork {
            guard case .success(.v6(let a, let p)) = IPNetwork.parse(text) else { return GeoNetwork(family: .v6, address: 0, prefixLength: 0) }
            return GeoNetwork(family: .v6, address: a, prefixLength: p)
        }
        w.insert(net("::/8"), record: GeoRecord(continent: "EU", country: "GB"))
        w.insert(net("2001:db8::/32"), record: GeoRecord(continent: "NA", country: "US"))
        w.insert(net("2400::/12"), record: GeoRecord(continent: "AS", country: "JP"))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("geodns-alias-\(getpid()).mmdb").path
        try w.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try GeoIPDatabase(path: path)

        var builder = RegionTableBuilder(noMatch: 3, aliases: Compiler.ipv4AliasPrefixes(database))
        database.enumerateNetworks(labelling: { _ in 0 }) { n, label in
            if n.family == .v6 { builder.add(v6: n.address, prefixLength: n.prefixLength, value: label) }
        }
        #expect(builder.needsReference)
        let (table, _, chains) = Self.compare(database, Self.richRegions, "::/8 data")
        // ::ffff:8.8.8.8: gb then europe, from ::/8
        #expect(chains[Int32(table.lookup(.v6(UInt128(0xFFFF) << 32 | 0x0808_0808)).value)] == [4, 7])
    }

    @Test func databaseStillAnswersAfterTheWalkReleasedItsPages() throws {
        let database = try GeoIPDatabase(path: demoDatabasePath)
        let before = database.lookup("81.2.69.160")?.record
        _ = Compiler.regionTable(Self.labRegions.0, networks: Self.labRegions.1, database: database)
        database.releaseMappedPages()
        #expect(database.lookup("81.2.69.160")?.record == before)
        #expect(before != nil)
    }

    // MARK: - Random network sets

    typealias Net4 = PrefixMap<UInt32>.Network
    typealias Net6 = PrefixMap<UInt128>.Network

    /// Places where runs meet alias blocks and each other: block edges, the top and bottom.
    static let anchors6: [UInt128] = [
        0, UInt128(1) << 32, UInt128(0xFFFF) << 32, UInt128(0x1_0000) << 32,
        UInt128(0x2001) << 112, UInt128(0x2001) << 112 | UInt128(1) << 96, UInt128(0x2001_0DB8) << 96,
        UInt128(0x2002) << 112, UInt128(0x2003) << 112, UInt128.max,
    ]
    static let anchors4: [UInt32] = [0, 0x0A00_0000, 0x5102_4500, 0x8000_0000, UInt32.max]

    static func random4(_ rng: inout SplitMix64, value: Int) -> Net4 {
        let p = Int.random(in: 0...32, using: &rng) < 2 ? Int.random(in: 0...8, using: &rng) : Int.random(in: 20...32, using: &rng)
        let step = p == 0 ? 0 : UInt32(1) << UInt32(32 - p)
        let k = UInt32.random(in: 0...6, using: &rng)
        let anchor = anchors4.randomElement(using: &rng) ?? 0
        let a = Bool.random(using: &rng) ? anchor &+ k &* step : anchor &- (k + 1) &* step
        return Net4(address: a & NetworkAggregator<UInt32>.mask(p), prefixLength: p, value: value)
    }

    static func random6(_ rng: inout SplitMix64, value: Int) -> Net6 {
        let p = Int.random(in: 0...40, using: &rng) < 2 ? Int.random(in: 0...16, using: &rng) : Int.random(in: 14...128, using: &rng)
        let step = p == 0 ? 0 : UInt128(1) << UInt128(128 - p)
        let k = UInt128.random(in: 0...6, using: &rng)
        let anchor = anchors6.randomElement(using: &rng) ?? 0
        let a = Bool.random(using: &rng) ? anchor &+ k &* step : anchor &- (k + 1) &* step
        return Net6(address: a & NetworkAggregator<UInt128>.mask(p), prefixLength: p, value: value)
    }

    static func meetsAlias(_ n: Net6, _ aliases: [(address: UInt128, length: Int)]) -> Bool {
        aliases.contains { a in n.first <= a.address | ~NetworkAggregator<UInt128>.mask(a.length) && a.address <= n.last }
    }

    /// Keeps the networks disjoint from those kept before (as a database's leaves are) and
    /// returns them ascending (the walk's order).
    static func disjointAscending<A>(_ nets: [PrefixMap<A>.Network]) -> [PrefixMap<A>.Network] {
        var kept: [PrefixMap<A>.Network] = []
        for n in nets where !kept.contains(where: { $0.first <= n.last && n.first <= $0.last }) { kept.append(n) }
        return kept.sorted { $0.first < $1.first }
    }

    /// Random database networks and overrides through both builds; the tables must be equal
    /// whenever the streamed build does not hand over to the reference (and it must hand over
    /// exactly when a database IPv6 network meets an alias block).
    @Test(arguments: [UInt64(11), 12, 13, 14])
    func streamedMatchesReferenceOnRandomNetworks(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let noMatch = 4
        let allAliases: [(address: UInt128, length: Int)] = [
            (UInt128(0xFFFF) << 32, 96), (0, 96), (UInt128(0x2001) << 112, 32), (UInt128(0x2002) << 112, 16)]
        var compared = 0, handedOver = 0
        for iteration in 0..<1500 {
            let aliases = Array(allAliases.prefix(Bool.random(using: &rng) ? 4 : Int.random(in: 1...3, using: &rng)))
            let value = { (rng: inout SplitMix64) in Int.random(in: 0...noMatch, using: &rng) }
            let base4 = Self.disjointAscending((0..<Int.random(in: 0...12, using: &rng)).map { _ in Self.random4(&rng, value: value(&rng)) })
            var base6 = Self.disjointAscending((0..<Int.random(in: 0...12, using: &rng)).map { _ in Self.random6(&rng, value: value(&rng)) })
            // A real walk reports nothing inside an alias block (the walk skips alias subtrees
            // and reports ::/96 as IPv4); most iterations follow that, the rest test the hand-over.
            if Int.random(in: 0..<5, using: &rng) > 0 { base6.removeAll { Self.meetsAlias($0, aliases) } }
            var overrides: [[IPNetwork]] = Array(repeating: [], count: noMatch)
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                let id = Int.random(in: 0..<noMatch, using: &rng)
                if Bool.random(using: &rng) {
                    let n = Self.random4(&rng, value: id)
                    overrides[id].append(.v4(address: n.address, prefixLength: n.prefixLength))
                } else {
                    let n = Self.random6(&rng, value: id)
                    overrides[id].append(.v6(address: n.address, prefixLength: n.prefixLength))
                }
            }

            var builder = RegionTableBuilder(noMatch: noMatch, aliases: aliases)
            var agg4 = NetworkAggregator<UInt32>(), agg6 = NetworkAggregator<UInt128>()
            for n in base4 {
                builder.add(v4: n.address, prefixLength: n.prefixLength, value: Int32(n.value))
                agg4.add(address: n.address, prefixLength: n.prefixLength, value: n.value)
            }
            for n in base6 {
                builder.add(v6: n.address, prefixLength: n.prefixLength, value: Int32(n.value))
                agg6.add(address: n.address, prefixLength: n.prefixLength, value: n.value)
            }
            #expect(builder.needsReference == base6.contains { Self.meetsAlias($0, aliases) }, "seed \(seed) iteration \(iteration)")
            if builder.needsReference { handedOver += 1; continue }
            var streamedChains = RegionChains(regionCount: noMatch), referenceChains = RegionChains(regionCount: noMatch)
            let streamed = builder.finish(overrides: overrides, chains: &streamedChains)
            let reference = Compiler.referenceTable(base4: agg4.networks, base6: agg6.networks, overrides: overrides,
                                                    aliases: aliases, noMatch: noMatch, chains: &referenceChains)
            Self.expectSame(streamed, reference, "seed \(seed) iteration \(iteration)")
            #expect(streamedChains.chains == referenceChains.chains, "seed \(seed) iteration \(iteration): chains")
            compared += 1
        }
        #expect(compared > 1000, "handed over \(handedOver)")
    }
}
