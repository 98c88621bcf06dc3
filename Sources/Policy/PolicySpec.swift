import DNSWire

/// What the YAML says, validated, before compiling against the database.
struct PolicySpec {
    var settings = ServerSettings()
    var geoipMark = SourcePosition(line: 1, column: 1)
    var regions: [Region] = []
    var regionNetworks: [[IPNetwork]] = []
    var regionIndex: [String: RegionID] = [:]
    var regionPositions: [SourcePosition] = []
    /// "asn 15169", "subdivision US-NY", ... -> where it is written (for database checks).
    var selectorPositions: [String: SourcePosition] = [:]
    var pools: [PoolSpec] = []
    var poolPositions: [SourcePosition] = []   // of each pool's name, for the "not used" warning
    var poolIndex: [String: Int] = [:]
    var zones: [ZoneSpec] = []
    var tests: [PolicyTest] = []
}

struct PoolSpec {
    var name: String
    var a: [IPv4Address] = []
    var aaaa: [IPv6Address] = []
    var cname: DomainName? = nil
    /// `order: rotate` (default `fixed`): see `RRSet.rotate`.
    var rotate = false
}

struct SteerSpec {
    var owner: DomainName
    var ttl: UInt32
    var fallback: Fallback
    /// Per region id: ordered pool indices; nil = not listed (the default applies).
    var regionPools: [RegionID: [Int]]
    var defaultPools: [Int]
}

struct ZoneSpec {
    var apex: DomainName
    var soa: ResourceRecord
    var negativeTTL: UInt32
    var nodes: [DomainName: Node]
    var steers: [SteerSpec]
}
