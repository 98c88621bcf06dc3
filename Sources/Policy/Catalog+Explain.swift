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
            match.compiledRegion = hit.value
            match.compiledScope = hit.scope
        }
        if let database {
            let lookup: GeoLookup
            switch client {
            case .v4(let a): lookup = database.lookup(ipv4: a)
            case .v6(let a): lookup = database.lookup(ipv6: a)
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
        var best: (id: RegionID, net: IPNetwork, length: Int)? = nil
        for (id, region) in regions.enumerated() {
            for text in region.networks {
                guard case .success(let net) = IPNetwork.parse(text) else { continue }
                var length: Int? = net.contains(client) ? net.prefixLength : nil
                if length == nil, let e = embedded, net.contains(.v4(e.ipv4)) { length = e.aliasLength + net.prefixLength }
                guard let l = length else { continue }
                if best == nil || l > (best?.length ?? -1) { best = (id, net, l) }
            }
        }
        if let best {
            match.region = best.id
            match.regionName = regions[best.id].name
            match.rule = "networks \(best.net) (override)"
            match.overrideNetwork = best.net
            return match
        }
        if let record = match.record, let hit = RegionMatcher(regions).match(record) {
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
