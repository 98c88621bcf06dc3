import DNSWire
import GeoIP

/// Turns a validated `PolicySpec` plus a database into the immutable `Catalog`.
enum Compiler {
    static func compile(_ spec: PolicySpec, database: GeoIPDatabase?, sourcePath: String, facts: DatabaseFacts? = nil,
                        sources: [GeoSource] = []) -> Catalog {
        let clock = ContinuousClock()
        let start = clock.now
        let (regionTable, chains, visited, walk) = sources.count > 1 && !RegionMatcher(spec.regions).isEmpty
            ? mergedRegionTable(spec.regions, networks: spec.regionNetworks, sources: sources, facts: facts)
            : regionTable(spec.regions, networks: spec.regionNetworks, database: database, facts: facts)

        var cache: [[Int]: DecisionTable] = [:]
        // One `Steering` per distinct rule: names whose rule is the same (often the same YAML
        // anchor) share its storage (answers, RRsets, pool names, decisions), so a steered name
        // costs its node, not its rule (bench/scale/RESULTS.md, Memory per steered name).
        var steerings: [SteeringKey: SteeringBox] = [:]
        var decisions = 0
        var zones: [Zone] = []
        for z in spec.zones {
            var nodes = z.nodes
            for steer in z.steers {
                let key = steer.owner.lowercased()
                let rule = SteeringKey(steer)
                let box: SteeringBox
                if let shared = steerings[rule] {
                    box = shared
                } else {
                    box = SteeringBox(self.steering(steer, pools: spec.pools, chains: chains,
                                                    regionTable: regionTable, cache: &cache))
                    steerings[rule] = box
                }
                decisions += box.steering.decisions.count
                var node = nodes[key] ?? Node()
                node.steeringBox = box
                nodes[key] = node
            }
            zones.append(Zone(apex: z.apex, soa: z.soa, negativeTTL: z.negativeTTL, nodes: nodes))
        }
        var catalog = Catalog(settings: spec.settings, zones: zones, regions: spec.regions, tests: spec.tests,
                              sourcePath: sourcePath, database: database)
        catalog.regionTable = regionTable
        catalog.regionChains = chains
        catalog.databaseSummary = database.map { PolicyLoader.describe($0.metadata, path: spec.settings.databasePath) }
        if sources.count > 1 {
            catalog.databases = sources
            catalog.databaseSummary = zip(sources, spec.settings.databases)
                .map { PolicyLoader.describe($0.0.database.metadata, path: $0.1.path) + " (read for \($0.1.fields.rawValue))" }
                .joined(separator: "\n")
        }
        catalog.report = CompileReport(
            duration: clock.now - start, databaseNetworks: visited, databaseWalk: walk,
            regionRunsV4: regionTable.v4.count, regionRunsV6: regionTable.v6.count, regionChains: chains.count,
            decisions: decisions, distinctTables: cache.count, distinctRules: steerings.count,
            tableRunsV4: cache.values.reduce(0) { $0 + $1.v4.count }, tableRunsV6: cache.values.reduce(0) { $0 + $1.v6.count })
        return catalog
    }

    /// What makes two steered names answer alike: everything of the rule but its owner.
    struct SteeringKey: Hashable {
        var ttl: UInt32
        var fallback: Fallback
        var regionPools: [RegionID: [Int]]
        var defaultPools: [Int]
        init(_ steer: SteerSpec) {
            ttl = steer.ttl; fallback = steer.fallback; regionPools = steer.regionPools; defaultPools = steer.defaultPools
        }
    }

    /// The compiled rule of one steered name: a decision per type class that has data anywhere.
    static func steering(_ steer: SteerSpec, pools: [PoolSpec], chains: RegionChains, regionTable: DecisionTable,
                         cache: inout [[Int]: DecisionTable]) -> Steering {
        var steering = Steering(ttl: steer.ttl, fallback: steer.fallback, decisions: [:])
        // The rule as written, for `geodns explain` (pools tried in order).
        let poolName = { (i: Int) -> String? in i < pools.count ? pools[i].name : nil }
        steering.regionPools = steer.regionPools.mapValues { $0.compactMap(poolName) }
        steering.defaultPools = steer.defaultPools.compactMap(poolName)
        for type in [RRType.a, .aaaa, .cname, .any] {
            guard let d = decision(steer, type: type, pools: pools, chains: chains,
                                   regionTable: regionTable, cache: &cache) else { continue }
            steering.decisions[type] = d
        }
        return steering
    }

    /// Client address -> region chain id (`RegionChains`; `regions.count` = no region), from the
    /// database's networks (base layer) and the regions' explicit networks (override layer, put
    /// in front of the database's chain). The walk is streamed into runs (`RegionTableBuilder`);
    /// the returned duration is the walk's.
    static func regionTable(_ regions: [Region], networks: [[IPNetwork]], database: GeoIPDatabase?,
                            facts: DatabaseFacts? = nil) -> (DecisionTable, RegionChains, Int, Duration) {
        let noMatch = regions.count
        var chains = RegionChains(regionCount: regions.count)
        var builder = RegionTableBuilder(noMatch: noMatch, aliases: ipv4AliasPrefixes(database))
        let (visited, walk) = walkDatabase(database, regions: regions, chains: &chains, facts: facts) { network, label in
            switch network.family {
            case .v4: builder.add(v4: UInt32(truncatingIfNeeded: network.address), prefixLength: network.prefixLength, value: label)
            case .v6: builder.add(v6: network.address, prefixLength: network.prefixLength, value: label)
            }
        }
        if builder.needsReference {
            // A database network the streamed layers cannot place exactly (RegionTableBuilder):
            // walk again the way that keeps every network. No known database gets here.
            let (table, referenceChains, _, again) = referenceRegionTable(regions, networks: networks, database: database)
            return (table, referenceChains, visited, walk + again)
        }
        let table = builder.finish(overrides: networks, chains: &chains)
        return (table, chains, visited, walk)
    }

    /// Walks `database` (when there is one and a region uses it), labelling each network with
    /// its region chain id (interned in `chains`): only that id is kept per distinct record, not
    /// the decoded record (see bench/RESULTS.md, Memory; ids fit in Int32: a chain holds at most
    /// one region per key kind and subdivision level). Returns the networks visited and the
    /// walk's duration.
    static func walkDatabase(_ database: GeoIPDatabase?, regions: [Region], chains: inout RegionChains,
                             facts: DatabaseFacts? = nil, _ add: (GeoNetwork, Int32) -> Void) -> (Int, Duration) {
        let matcher = RegionMatcher(regions)
        var visited = 0
        let clock = ContinuousClock()
        let start = clock.now
        if let database, !matcher.isEmpty {
            var byKey: [UInt64: Int32] = [:]
            database.enumerateNetworks(labelling: { record in
                facts?.note(record)
                guard let key = matcher.chainKey(record) else { return chains.id(matcher.chain(record)) }
                if let id = byKey[key] { return id }
                let id = chains.id(matcher.chain(record))
                byKey[key] = id
                return id
            }) { network, label in
                visited += 1
                add(network, label)
            }
        }
        return (visited, clock.now - start)
    }

    /// The region table built from network lists, as before streaming: every aggregated
    /// database network kept, IPv4 networks copied to each alias block, then sorted and
    /// flattened by `PrefixMap(base:overrides:defaultValue:)`. Peak memory is several times
    /// the table's; kept as the fallback for layouts the streamed build cannot place, and as
    /// the reference the streamed tables are tested against.
    static func referenceRegionTable(_ regions: [Region], networks: [[IPNetwork]], database: GeoIPDatabase?) -> (DecisionTable, RegionChains, Int, Duration) {
        let noMatch = regions.count
        var chains = RegionChains(regionCount: regions.count)
        var base4 = NetworkAggregator<UInt32>()
        var base6 = NetworkAggregator<UInt128>()
        let (visited, walk) = walkDatabase(database, regions: regions, chains: &chains) { network, label in
            switch network.family {
            case .v4:
                let p = min(max(network.prefixLength, 0), 32)
                base4.add(address: UInt32(truncatingIfNeeded: network.address), prefixLength: p, value: Int(label))
            case .v6:
                let p = min(max(network.prefixLength, 0), 128)
                base6.add(address: network.address, prefixLength: p, value: Int(label))
            }
        }
        let table = referenceTable(base4: base4.networks, base6: base6.networks, overrides: networks,
                                   aliases: ipv4AliasPrefixes(database), noMatch: noMatch, chains: &chains)
        return (table, chains, visited, walk)
    }

    /// The reference table from aggregated database networks (see `referenceRegionTable`).
    static func referenceTable(base4: [PrefixMap<UInt32>.Network], base6: [PrefixMap<UInt128>.Network],
                               overrides networks: [[IPNetwork]], aliases: [(address: UInt128, length: Int)],
                               noMatch: Int, chains: inout RegionChains) -> DecisionTable {
        // The IPv4 space also lives inside IPv6 (RFC 4291 §2.5.5 mapped and compatible, RFC 3056
        // 6to4); the database answers those as IPv4, and so must an IPv6 client's table.
        var v6Networks = base6
        for n in base4 { v6Networks.append(contentsOf: ipv4Aliases(n, aliases)) }
        let (over4, over6) = overrideNetworks(networks, aliases: aliases)
        let table4 = PrefixMap(base: base4, defaultValue: noMatch)
        let table6 = PrefixMap(base: v6Networks, defaultValue: noMatch)
        let heads4 = PrefixMap.flatten(chains.overrideHeads(over4))
        let heads6 = PrefixMap.flatten(chains.overrideHeads(over6))
        return DecisionTable(
            v4: RegionTableBuilder.overlay(heads4, capacity: 0, chains: &chains) { lo, hi, out in table4.emit(from: lo, through: hi, into: &out) },
            v6: RegionTableBuilder.overlay(heads6, capacity: 0, chains: &chains) { lo, hi, out in table6.emit(from: lo, through: hi, into: &out) })
    }

    /// The regions' explicit networks (`networks[id]`) as override networks per family; an
    /// IPv4 network also overrides its places in IPv6 (`aliases`, in that order).
    static func overrideNetworks(_ networks: [[IPNetwork]], aliases: [(address: UInt128, length: Int)])
        -> (v4: [PrefixMap<UInt32>.Network], v6: [PrefixMap<UInt128>.Network]) {
        var over4: [PrefixMap<UInt32>.Network] = []
        var over6: [PrefixMap<UInt128>.Network] = []
        for (id, list) in networks.enumerated() {
            for n in list {
                switch n {
                case .v4(let a, let p):
                    let n = PrefixMap<UInt32>.Network(address: a, prefixLength: p, value: id)
                    over4.append(n)
                    over6.append(contentsOf: ipv4Aliases(n, aliases))
                case .v6(let a, let p): over6.append(.init(address: a, prefixLength: p, value: id))
                }
            }
        }
        return (over4, over6)
    }

    /// Where the IPv4 space appears inside IPv6 for lookups in `database`: always the mapped
    /// ::ffff:0:0/96 (RFC 4291 §2.5.5.2; answered as IPv4 whatever the database); in an IPv6
    /// tree also ::/96 (where MaxMind keeps IPv4) and the tree's own aliases (6to4 2002::/16,
    /// Teredo 2001::/32 in GeoLite2). The 32 bits after the prefix are the IPv4 address.
    static func ipv4AliasPrefixes(_ database: GeoIPDatabase?) -> [(address: UInt128, length: Int)] {
        var out: [(address: UInt128, length: Int)] = [(UInt128(0xFFFF) << 32, 96)]
        guard let database, database.metadata.ipVersion == 6 else { return out }
        out.append((0, 96))
        for a in database.ipv4Aliases where a.family == .v6 && a.prefixLength >= 0 && a.prefixLength <= 96 {
            let masked = a.address & NetworkAggregator<UInt128>.mask(a.prefixLength)
            if !out.contains(where: { $0.address == masked && $0.length == a.prefixLength }) { out.append((masked, a.prefixLength)) }
        }
        return out
    }

    /// An IPv4 network's places in the IPv6 space (see `ipv4AliasPrefixes`).
    static func ipv4Aliases(_ n: PrefixMap<UInt32>.Network, _ prefixes: [(address: UInt128, length: Int)]) -> [PrefixMap<UInt128>.Network] {
        let p = min(max(n.prefixLength, 0), 32)
        let a = UInt128(n.address & NetworkAggregator<UInt32>.mask(p))
        return prefixes.map { alias in
            .init(address: alias.address | (a << UInt128(96 - alias.length)), prefixLength: alias.length + p, value: n.value)
        }
    }

    /// The IPv4 address an IPv6 client stands for, when it lies in one of `prefixes`.
    static func embeddedIPv4(_ address: UInt128, _ prefixes: [(address: UInt128, length: Int)]) -> (ipv4: UInt32, aliasLength: Int)? {
        for alias in prefixes where address & NetworkAggregator<UInt128>.mask(alias.length) == alias.address {
            return (UInt32(truncatingIfNeeded: address >> UInt128(96 - alias.length)), alias.length)
        }
        return nil
    }

    /// What a pool answers for a query type class, if anything: a CNAME pool answers every
    /// type; an address pool answers A or AAAA when it has such addresses.
    static func poolAnswer(_ pool: PoolSpec, type: RRType, ttl: UInt32) -> SteeredAnswer? {
        if let target = pool.cname { return .cname(pool: pool.name, target: target) }
        switch type {
        case .a where !pool.a.isEmpty:
            var set = RRSet(type: .a, ttl: ttl, rdata: pool.a.map { .a($0) })
            set.rotate = pool.rotate && set.rdata.count > 1
            return .records(pool: pool.name, rrset: set)
        case .aaaa where !pool.aaaa.isEmpty:
            var set = RRSet(type: .aaaa, ttl: ttl, rdata: pool.aaaa.map { .aaaa($0) })
            set.rotate = pool.rotate && set.rdata.count > 1
            return .records(pool: pool.name, rrset: set)
        default:
            return nil
        }
    }

    /// Region chain -> answer for one steered name and type class; the region table relabelled by
    /// it, so runs merge wherever neighbouring regions get the same answer (gdnsd-style) and
    /// the ECS scope is the widest correct one. Tables are shared by the shape of the mapping.
    static func decision(_ steer: SteerSpec, type: RRType, pools: [PoolSpec], chains: RegionChains,
                         regionTable: DecisionTable, cache: inout [[Int]: DecisionTable]) -> SteeredDecision? {
        func first(_ list: [Int]) -> SteeredAnswer? {
            for index in list where index < pools.count {
                if let a = poolAnswer(pools[index], type: type, ttl: steer.ttl) { return a }
            }
            return nil
        }
        let defaultAnswer = first(steer.defaultPools) ?? .noData
        var answers: [SteeredAnswer] = []
        var identity: [AnswerKey: Int] = [:]
        var vector: [Int] = []
        vector.reserveCapacity(chains.count)
        for chain in chains.chains {
            // The first region of the client's chain this name lists (README "Regions").
            var answer = defaultAnswer
            if let id = chain.first(where: { steer.regionPools[$0] != nil }), let list = steer.regionPools[id] {
                answer = first(list) ?? defaultAnswer
            }
            // Two pools with the same data give the same answer on the wire: one label.
            let key = AnswerKey(answer)
            if let index = identity[key] { vector.append(index) }
            else { identity[key] = answers.count; vector.append(answers.count); answers.append(answer) }
        }
        if answers.count == 1, case .noData = answers[0] { return nil }
        if answers.count == 1 { return SteeredDecision(table: .constant(0), answers: answers) }
        if let table = cache[vector] { return SteeredDecision(table: table, answers: answers) }
        let table = regionTable.mapValues { v in v >= 0 && v < vector.count ? vector[v] : vector[chains.regionCount] }
        cache[vector] = table
        return SteeredDecision(table: table, answers: answers)
    }

    /// An answer's identity on the wire (pool names aside).
    enum AnswerKey: Hashable {
        case records([RData], rotate: Bool), cname(DomainName), noData
        init(_ a: SteeredAnswer) {
            switch a {
            case .records(_, let set): self = .records(set.rdata, rotate: set.rotate)
            case .cname(_, let target): self = .cname(target)
            case .noData: self = .noData
            }
        }
    }
}
