/// The region table (client address -> region chain id, `RegionChains`) built while the database is walked.
///
/// The walk reports networks in ascending order and disjoint within each family
/// (`GeoIPDatabase.enumerateNetworks`), so each family's base layer goes straight into a
/// `RunBuilder` — runs, not networks — and the IPv6 table is assembled at the end by overlaying
/// three layers without materialising any of them as networks: the IPv6 base runs, the IPv4
/// runs read in place at each IPv4 alias block, and the config's override networks on top.
/// This keeps the compile's peak memory to the tables themselves (bench/RESULTS.md, Memory);
/// the result is the same table, array for array, as `Compiler.referenceRegionTable`.
///
/// The one layout this cannot reproduce exactly is a database IPv6 network inside or around an
/// IPv4 alias block (e.g. data at ::/8, or ::ffff:0:0/96 holding data in a tree where it is not
/// an alias): there the reference's longest-prefix rule depends on how the networks were
/// aggregated. The builder then sets `needsReference` and the caller uses the reference path.
/// Neither GeoLite2-City nor the demo database has such a network (MaxMind-style trees keep
/// IPv4 under ::/96 and point the other blocks at it; `ipv6DataAroundAnAliasBlock...` tests one).
struct RegionTableBuilder {
    let noMatch: Int
    /// The IPv4 alias prefixes in the order `Compiler.ipv4AliasPrefixes` gives them (the
    /// override layer keeps that order: it decides between duplicate override networks).
    let aliases: [(address: UInt128, length: Int)]
    /// The same blocks ascending, with their first and last addresses.
    private let blocks: [(alias: (address: UInt128, length: Int), first: UInt128, last: UInt128)]
    private var v4: RunBuilder<UInt32>
    private var v6: RunBuilder<UInt128>
    /// The networks cannot be streamed exactly (see above); further `add`s are ignored.
    private(set) var needsReference = false

    init(noMatch: Int, aliases: [(address: UInt128, length: Int)]) {
        self.noMatch = noMatch
        self.aliases = aliases
        let label = Int32(truncatingIfNeeded: noMatch)
        v4 = RunBuilder(defaultValue: label)
        v6 = RunBuilder(defaultValue: label)
        blocks = aliases
            .map { (alias: $0, first: $0.address, last: $0.address | ~NetworkAggregator<UInt128>.mask($0.length)) }
            .sorted { $0.first < $1.first }
        // Alias blocks are disjoint (::/96, ::ffff:0:0/96, Teredo, 6to4); if not, no splicing.
        for i in blocks.indices.dropFirst() where blocks[i].first <= blocks[i - 1].last { needsReference = true }
    }

    /// A database IPv4 network (the walk's order) and its region id.
    mutating func add(v4 address: UInt32, prefixLength: Int, value: Int32) {
        guard !needsReference else { return }
        let mask = NetworkAggregator<UInt32>.mask(min(max(prefixLength, 0), 32))
        let first = address & mask
        if !v4.add(first, first | ~mask, value) { needsReference = true }
    }

    /// A database IPv6 network (the walk's order) and its region id.
    mutating func add(v6 address: UInt128, prefixLength: Int, value: Int32) {
        guard !needsReference else { return }
        let mask = NetworkAggregator<UInt128>.mask(min(max(prefixLength, 0), 128))
        let first = address & mask, last = first | ~mask
        // CIDR blocks nest or are disjoint: this catches both inside and around.
        for b in blocks where first <= b.last && b.first <= last { needsReference = true; return }
        if !v6.add(first, last, value) { needsReference = true }
    }

    /// The finished table with the regions' explicit networks (`networks[id]`) on top: inside
    /// one, an address's chain is the networks' regions followed by its database chain.
    mutating func finish(overrides networks: [[IPNetwork]], chains: inout RegionChains) -> DecisionTable {
        let (over4, over6) = Compiler.overrideNetworks(networks, aliases: aliases)
        // Interned in the reference build's order (heads, then IPv4, then IPv6): same ids.
        let heads4 = PrefixMap.flatten(chains.overrideHeads(over4))
        let heads6 = PrefixMap.flatten(chains.overrideHeads(over6))
        let base4 = v4.finish()
        let table4 = over4.isEmpty ? base4
            : Self.overlay(heads4, capacity: base4.count + 2 * over4.count + 1, chains: &chains) { lo, hi, out in
                base4.emit(from: lo, through: hi, into: &out)
            }
        let base6 = v6.finish()
        let blocks = blocks
        // An upper bound (each alias block adds at most the IPv4 runs and one split), so the
        // table is allocated once and not regrown while the layers are merged.
        let capacity = base6.count + blocks.count * (base4.count + 1) + 2 * over6.count + 1
        let table6 = Self.overlay(heads6, capacity: capacity, chains: &chains) { lo, hi, out in
            var cursor = lo
            for b in blocks {
                if b.last < cursor { continue }
                if b.first > hi { break }
                if b.first > cursor { base6.emit(from: cursor, through: b.first &- 1, into: &out) }
                let to = min(b.last, hi)
                base4.emit(aliasedAt: b.alias, from: max(b.first, cursor), through: to, into: &out)
                if to == hi { return }
                cursor = to &+ 1
            }
            base6.emit(from: cursor, through: hi, into: &out)
        }
        return DecisionTable(v4: table4, v6: table6)
    }

    /// The table of `overrides` (sorted, disjoint runs labelled with chain ids) over a lower
    /// layer; `lower(lo, hi, &out)` appends the lower layer's runs over `lo...hi`. Under an
    /// override the lower runs stay, each with the override's chain in front of its own.
    static func overlay<Address>(_ overrides: [(first: Address, last: Address, value: Int32)], capacity: Int,
                                 chains: inout RegionChains,
                                 lower: (Address, Address, inout RunBuilder<Address>) -> Void) -> PrefixMap<Address> {
        var out = RunBuilder<Address>(defaultValue: 0, capacity: capacity)
        var cursor: Address = 0
        for o in overrides where o.last >= cursor {
            if o.first > cursor { lower(cursor, o.first &- 1, &out) }
            var under = RunBuilder<Address>(defaultValue: 0)
            lower(max(o.first, cursor), o.last, &under)
            for (start, value) in zip(under.starts, under.values) {
                out.extend(from: start, value: chains.prepending(o.value, to: value))
            }
            if o.last == Address.max { return out.finishCovered() }
            cursor = o.last &+ 1
        }
        lower(cursor, Address.max, &out)
        return out.finishCovered()
    }
}
