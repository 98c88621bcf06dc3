import DNSWire
import GeoIP

/// Why a client belongs to a region (`geodns explain`): the slow path, re-deriving from the
/// database record what the compiled tables say in one lookup.
public struct RegionMatch: Sendable, Hashable {
    public var client: ClientAddress
    /// Index into `Catalog.regions`; `regions.count` when no region matched (the default applies).
    public var region: RegionID
    /// The region's name, nil when none matched.
    public var regionName: String?
    /// The rule that chose it: `networks 203.0.113.0/24 (override)`, `asn AS15169`,
    /// `subdivision US-NY`, `country JP`, `continent EU`, or `no region matched -> default`.
    public var rule: String
    /// The database record the client falls in, if a database is loaded and has one.
    public var record: GeoRecord?
    /// The database network of that record (`81.2.69.0/24`); nil without a record.
    public var databaseNetwork: IPNetwork?
    /// The explicit `networks:` entry that decided, if one did.
    public var overrideNetwork: IPNetwork?
    /// The region table's answer and scope for this client (the compiled fast path); equal to
    /// `region` unless the catalog was built by hand.
    public var compiledRegion: RegionID?
    public var compiledScope: UInt8?
    /// Every region containing the client, most specific first, with the rule for each: the
    /// chain a steered name walks to its first listed region (`RegionChains`). `region` is its
    /// head.
    public var chain: [(region: RegionID, rule: String)] = []
    /// The region table's chain for this client; equal to `chain`'s regions unless hand-built.
    public var compiledChain: [RegionID]?

    public static func == (a: RegionMatch, b: RegionMatch) -> Bool {
        a.client == b.client && a.region == b.region && a.rule == b.rule && a.record == b.record
            && a.databaseNetwork == b.databaseNetwork && a.overrideNetwork == b.overrideNetwork
            && a.compiledRegion == b.compiledRegion && a.compiledScope == b.compiledScope
            && a.chain.map(\.region) == b.chain.map(\.region) && a.compiledChain == b.compiledChain
    }

    public func hash(into h: inout Hasher) {
        h.combine(client); h.combine(region); h.combine(rule); h.combine(chain.map(\.region))
    }

    /// The chain in words: `korea (country KR) -> asia (continent AS)`.
    public func chainText(_ regions: [Region]) -> String {
        chain.isEmpty ? "(none)" : chain.map { (regions.indices.contains($0.region) ? regions[$0.region].name : "#\($0.region)") + " (\($0.rule))" }
            .joined(separator: " -> ")
    }
}

extension Catalog {
    /// Classifies a client the documented way: explicit networks (longest prefix) first, then
    /// the database record by ASN > subdivision > country > continent.
    public func classify(_ client: ClientAddress) -> RegionMatch {
        var match = RegionMatch(client: client, region: regions.count, regionName: nil,
                                rule: "no region matched -> default", record: nil, databaseNetwork: nil,
                                overrideNetwork: nil, compiledRegion: nil, compiledScope: nil)
        if let table = regionTable {
            let hit = table.lookup(client)
            if hit.value < regionChains.count {
                let chain = regionChains[Int32(truncatingIfNeeded: hit.value)]
                match.compiledChain = chain
                match.compiledRegion = chain.first ?? regions.count
            } else {
                match.compiledRegion = hit.value   // a hand-built catalog: region ids
            }
            match.compiledScope = hit.scope
        }
        if let database {
            func find(_ db: GeoIPDatabase) -> GeoLookup {
                switch client {
                case .v4(let a): return db.lookup(ipv4: a)
                case .v6(let a): return db.lookup(ipv6: a)
                }
            }
            var lookup = find(database)
            if databases.count > 1 {
                // Several databases: the merged record, on the block inside every one's network.
                let found = databases.map { (lookup: find($0.database), fields: $0.fields) }
                lookup = GeoLookup(record: GeoRecord.merged(found.map { ($0.lookup.record, $0.fields) }),
                                   prefixLength: found.map(\.lookup.prefixLength).max() ?? 0)
            }
            if let record = lookup.record {
                match.record = record
                if case .v6(let a) = client, a >> 32 == 0xFFFF {
                    // Mapped addresses are answered as IPv4, with an IPv4 prefix length.
                    match.databaseNetwork = IPNetwork.block(around: .v4(UInt32(truncatingIfNeeded: a)), prefixLength: lookup.prefixLength)
                } else {
                    match.databaseNetwork = IPNetwork.block(around: client, prefixLength: lookup.prefixLength)
                }
            }
        }
        // Overrides: the longest explicit network containing the client. An IPv6 client that
        // stands for an IPv4 address (mapped, 6to4, ...) also matches IPv4 networks, ranked by
        // their length inside IPv6, as the compiled table does.
        let embedded: (ipv4: UInt32, aliasLength: Int)? = {
            guard case .v6(let a) = client else { return nil }
            return Compiler.embeddedIPv4(a, Compiler.ipv4AliasPrefixes(database))
        }()
        var containing: [(id: RegionID, net: IPNetwork, length: Int)] = []
        for (id, region) in regions.enumerated() {
            for text in region.networks {
                guard case .success(let net) = IPNetwork.parse(text) else { continue }
                var length: Int? = net.contains(client) ? net.prefixLength : nil
                if length == nil, let e = embedded, net.contains(.v4(e.ipv4)) { length = e.aliasLength + net.prefixLength }
                guard let l = length else { continue }
                containing.append((id, net, l))
            }
        }
        // Longest first; equal lengths in listed order (stable: by position among equals).
        let ranked = containing.enumerated().sorted { ($1.element.length, $0.offset) < ($0.element.length, $1.offset) }.map(\.element)
        for n in ranked where !match.chain.contains(where: { $0.region == n.id }) {
            match.chain.append((n.id, "networks \(n.net) (override)"))
        }
        if let record = match.record {
            for hit in RegionMatcher(regions).matches(record) where !match.chain.contains(where: { $0.region == hit.region }) {
                match.chain.append(hit)
            }
        }
        if let best = ranked.first {
            match.region = best.id
            match.regionName = regions[best.id].name
            match.rule = "networks \(best.net) (override)"
            match.overrideNetwork = best.net
            return match
        }
        if let hit = match.chain.first {
            match.region = hit.region
            match.regionName = regions[hit.region].name
            match.rule = hit.rule
        } else if match.record == nil, database != nil {
            match.rule = "not in the database, no region matched -> default"
        } else if database == nil {
            match.rule = "no database loaded, no network override matched -> default"
        }
        return match
    }
}
