/// Figures from one compile, for `geodns check` and the startup log.
public struct CompileReport: Sendable, Hashable, CustomStringConvertible {
    /// Wall time of the whole compile (database walk, tables, zones).
    public var duration: Duration
    /// Networks visited in the database (0 without one).
    public var databaseNetworks: Int
    /// Part of `duration` spent walking the database (reading records, labelling by region).
    public var databaseWalk: Duration = .zero
    /// Runs in the region table (before steering merges regions with the same answer).
    public var regionRunsV4: Int
    public var regionRunsV6: Int
    /// Distinct region chains (`RegionChains`: the regions containing a client, most specific
    /// first) the region table labels addresses with.
    public var regionChains: Int = 0
    /// Steered decisions (name x type class) and the distinct tables they share.
    public var decisions: Int
    public var distinctTables: Int
    /// Distinct steering rules (TTL, fallback, region -> pools, default): steered names with
    /// the same rule share one compiled `Steering` (answers, RRsets, decisions).
    public var distinctRules: Int = 0
    /// Runs summed over the distinct tables.
    public var tableRunsV4: Int
    public var tableRunsV6: Int

    public var description: String {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        let rounded = (ms * 10).rounded() / 10
        let walk = Double(databaseWalk.components.seconds) * 1000 + Double(databaseWalk.components.attoseconds) / 1e15
        return "compiled in \(rounded) ms (database walk \((walk * 10).rounded() / 10) ms): \(databaseNetworks) database networks -> region table \(regionRunsV4) IPv4 + \(regionRunsV6) IPv6 runs, \(regionChains) region chains; "
            + "\(decisions) steered decisions share \(distinctTables) tables (\(tableRunsV4) IPv4 + \(tableRunsV6) IPv6 runs); "
            + "\(distinctRules) distinct steering rules"
    }
}
