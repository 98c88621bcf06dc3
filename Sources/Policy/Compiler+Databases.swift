import GeoIP

/// One database of `server.geoip` as written: its path and the record fields read from it.
public struct DatabaseSource: Sendable, Hashable {
    public enum Fields: String, Sendable { case all, location, asn }
    public var path: String
    public var fields: Fields
    public init(path: String, fields: Fields) { self.path = path; self.fields = fields }
}

/// One loaded database and the fields read from it (`Catalog.databases`).
public struct GeoSource: Sendable {
    public var database: GeoIPDatabase
    public var fields: DatabaseSource.Fields
    public init(database: GeoIPDatabase, fields: DatabaseSource.Fields) { self.database = database; self.fields = fields }
}

extension GeoRecord {
    /// Several databases' records for one address as one: the ASN from the first source read
    /// for ASNs that has one, the location (continent, country, subdivisions, coordinates) from
    /// the first source read for location that has a continent or country.
    static func merged(_ parts: [(record: GeoRecord?, fields: DatabaseSource.Fields)]) -> GeoRecord? {
        guard parts.contains(where: { $0.record != nil }) else { return nil }
        var out = GeoRecord()
        if let r = parts.first(where: { $0.fields != .location && $0.record?.asn != nil })?.record { out.asn = r.asn }
        if let r = parts.first(where: { $0.fields != .asn && ($0.record?.country != nil || $0.record?.continent != nil) })?.record {
            var location = r
            location.asn = out.asn
            out = location
        }
        return out
    }
}

extension Compiler {
    /// What one database's record contributes to a chain, under the fields read from it.
    struct Projection: Hashable {
        var hasASN = false
        var asn: RegionID? = nil
        var hasLocation = false
        var location: [RegionID] = []
    }

    /// The region table of several databases, merged at compile time: each database's table is
    /// built labelled by its records' projections, the tables are merged run by run (a run of
    /// the result is where every database keeps one record), each run labelled by the chain of
    /// the merged record (`GeoRecord.merged`), and the override networks go on top. Queries
    /// still do one lookup, and a decision's scope is the widest block on which every database
    /// agrees for its answer.
    static func mergedRegionTable(_ regions: [Region], networks: [[IPNetwork]], sources: [GeoSource],
                                  facts: DatabaseFacts?) -> (DecisionTable, RegionChains, Int, Duration) {
        var chains = RegionChains(regionCount: regions.count)
        let matcher = RegionMatcher(regions)
        var visited = 0
        var walk = Duration.zero
        var projections: [[Projection]] = []
        var tables: [DecisionTable] = []
        var aliases: [(address: UInt128, length: Int)] = []
        for source in sources {
            var list = [Projection()]
            var index = [Projection(): Int32(0)]
            let sourceAliases = ipv4AliasPrefixes(source.database)
            for a in sourceAliases where !aliases.contains(where: { $0.address == a.address && $0.length == a.length }) { aliases.append(a) }
            var builder = RegionTableBuilder(noMatch: 0, aliases: sourceAliases)
            let clock = ContinuousClock()
            let start = clock.now
            let label = { (record: GeoRecord) -> Int32 in
                facts?.note(record)
                var p = Projection()
                if source.fields != .location, let asn = record.asn { p.hasASN = true; p.asn = matcher.byASN[asn] }
                if source.fields != .asn, record.country != nil || record.continent != nil {
                    var r = record
                    r.asn = nil
                    p.hasLocation = true
                    p.location = matcher.chain(r)
                }
                if let i = index[p] { return i }
                let i = Int32(truncatingIfNeeded: list.count)
                index[p] = i
                list.append(p)
                return i
            }
            source.database.enumerateNetworks(labelling: label) { network, label in
                visited += 1
                switch network.family {
                case .v4: builder.add(v4: UInt32(truncatingIfNeeded: network.address), prefixLength: network.prefixLength, value: label)
                case .v6: builder.add(v6: network.address, prefixLength: network.prefixLength, value: label)
                }
            }
            var unused = RegionChains(regionCount: 0)
            let table: DecisionTable
            if builder.needsReference {
                // As for one database (`regionTable`): walk again keeping every network.
                var base4 = NetworkAggregator<UInt32>(), base6 = NetworkAggregator<UInt128>()
                source.database.enumerateNetworks(labelling: label) { network, label in
                    switch network.family {
                    case .v4: base4.add(address: UInt32(truncatingIfNeeded: network.address), prefixLength: min(max(network.prefixLength, 0), 32), value: Int(label))
                    case .v6: base6.add(address: network.address, prefixLength: min(max(network.prefixLength, 0), 128), value: Int(label))
                    }
                }
                table = referenceTable(base4: base4.networks, base6: base6.networks, overrides: [], aliases: sourceAliases, noMatch: 0, chains: &unused)
            } else {
                table = builder.finish(overrides: [], chains: &unused)
            }
            walk += clock.now - start
            tables.append(table)
            projections.append(list)
        }
        // Fold the tables into one labelled by tuples of projection ids, then by chains.
        var tuples: [[Int32]] = []
        var tupleIndex: [[Int32]: Int32] = [:]
        func tuple(_ t: [Int32]) -> Int32 {
            if let i = tupleIndex[t] { return i }
            let i = Int32(truncatingIfNeeded: tuples.count)
            tupleIndex[t] = i
            tuples.append(t)
            return i
        }
        guard var merged = tables.first else { return (DecisionTable.constant(regions.count), chains, 0, .zero) }
        merged = merged.mapValues { Int(tuple([Int32(truncatingIfNeeded: $0)])) }
        for next in tables.dropFirst() {
            let before = tuples
            var combined: [Int64: Int32] = [:]
            let combine = { (a: Int32, b: Int32) -> Int32 in
                let key = Int64(a) << 32 | Int64(UInt32(bitPattern: b))
                if let c = combined[key] { return c }
                let c = tuple(before[Int(a)] + [b])
                combined[key] = c
                return c
            }
            merged = DecisionTable(v4: mergeRuns(merged.v4, next.v4, combine), v6: mergeRuns(merged.v6, next.v6, combine))
        }
        func projection(_ t: [Int32], _ s: Int) -> Projection {
            s < t.count && t[s] >= 0 && Int(t[s]) < projections[s].count ? projections[s][Int(t[s])] : Projection()
        }
        var chainOf: [Int32: Int] = [:]
        for (i, t) in tuples.enumerated() {
            let asnSource = sources.indices.first { sources[$0].fields != .location && projection(t, $0).hasASN }
            let locationSource = sources.indices.first { sources[$0].fields != .asn && projection(t, $0).hasLocation }
            let asn = asnSource.flatMap { projection(t, $0).asn }
            let location = locationSource.map { projection(t, $0).location } ?? []
            let chain = (asn.map { [$0] } ?? []) + location.filter { $0 != asn }
            chainOf[Int32(i)] = Int(chains.id(chain))
        }
        let labelled = merged.mapValues { chainOf[Int32(truncatingIfNeeded: $0)] ?? regions.count }
        // The explicit networks on top, as for one database.
        let (over4, over6) = overrideNetworks(networks, aliases: aliases)
        let heads4 = PrefixMap.flatten(chains.overrideHeads(over4))
        let heads6 = PrefixMap.flatten(chains.overrideHeads(over6))
        let v4 = RegionTableBuilder.overlay(heads4, capacity: labelled.v4.count + 2 * over4.count + 1, chains: &chains) { lo, hi, out in
            labelled.v4.emit(from: lo, through: hi, into: &out)
        }
        let v6 = RegionTableBuilder.overlay(heads6, capacity: labelled.v6.count + 2 * over6.count + 1, chains: &chains) { lo, hi, out in
            labelled.v6.emit(from: lo, through: hi, into: &out)
        }
        return (DecisionTable(v4: v4, v6: v6), chains, visited, walk)
    }

    /// Two tables of one family as one: a run wherever both keep their value, labelled
    /// `combine(a, b)` (both cover the whole space from address 0).
    static func mergeRuns<Address>(_ a: PrefixMap<Address>, _ b: PrefixMap<Address>,
                                   _ combine: (Int32, Int32) -> Int32) -> PrefixMap<Address> {
        var out = RunBuilder<Address>(defaultValue: 0, capacity: max(a.count, b.count))
        var i = 0, j = 0
        while i < a.count, j < b.count {
            out.extend(from: max(a.starts[i], b.starts[j]), value: combine(a.values[i], b.values[j]))
            let nextA = i + 1 < a.count ? a.starts[i + 1] : nil
            let nextB = j + 1 < b.count ? b.starts[j + 1] : nil
            switch (nextA, nextB) {
            case (nil, nil): return out.finishCovered()
            case (nil, _): j += 1
            case (_, nil): i += 1
            case (let x?, let y?): if x < y { i += 1 } else if y < x { j += 1 } else { i += 1; j += 1 }
            }
        }
        return out.finishCovered()
    }
}
