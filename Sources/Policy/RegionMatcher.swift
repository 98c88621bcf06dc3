import GeoIP

/// Which region a database record belongs to, by the documented order: ASN, then
/// subdivision, then country, then continent (explicit networks are handled before, as a
/// separate override layer). Each key belongs to at most one region (the loader checks).
struct RegionMatcher {
    var byASN: [UInt32: RegionID] = [:]
    var bySubdivision: [String: [String: RegionID]] = [:]   // country -> subdivision code -> region
    var byCountry: [String: RegionID] = [:]
    var byContinent: [String: RegionID] = [:]

    init(_ regions: [Region]) {
        for (id, r) in regions.enumerated() {
            for a in r.asns where byASN[a] == nil { byASN[a] = id }
            for s in r.subdivisions {
                let parts = s.split(separator: "-", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let country = String(parts[0]), code = String(parts[1])
                if bySubdivision[country, default: [:]][code] == nil { bySubdivision[country, default: [:]][code] = id }
            }
            for c in r.countries where byCountry[c] == nil { byCountry[c] = id }
            for c in r.continents where byContinent[c] == nil { byContinent[c] = id }
        }
    }

    var isEmpty: Bool { byASN.isEmpty && bySubdivision.isEmpty && byCountry.isEmpty && byContinent.isEmpty }

    /// The region and the rule that chose it ("asn 15169", "subdivision US-NY", ...).
    func match(_ record: GeoRecord) -> (region: RegionID, rule: String)? {
        if let asn = record.asn, let id = byASN[asn] { return (id, "asn AS\(asn)") }
        if let country = record.country {
            if let subs = bySubdivision[country] {
                // The most specific subdivision first (GeoIP2 lists them largest first).
                for s in record.subdivisions.reversed() {
                    if let id = subs[RegionMatcher.bare(s)] { return (id, "subdivision \(country)-\(RegionMatcher.bare(s))") }
                }
            }
            if let id = byCountry[country] { return (id, "country \(country)") }
        }
        if let c = record.continent, let id = byContinent[c] { return (id, "continent \(c)") }
        return nil
    }

    /// Calls `body` with every region the record belongs to, most specific first (ASN,
    /// subdivisions smallest first, country, continent), and the rule that put it there (built
    /// only when asked for). A region may come twice; callers keep the first.
    @inline(__always)
    func forEachRegion(_ record: GeoRecord, _ body: (RegionID, () -> String) -> Void) {
        if !byASN.isEmpty, let asn = record.asn, let id = byASN[asn] { body(id) { "asn AS\(asn)" } }
        if let country = record.country {
            if !bySubdivision.isEmpty, let subs = bySubdivision[country] {
                for s in record.subdivisions.reversed() {
                    if let id = subs[RegionMatcher.bare(s)] { body(id) { "subdivision \(country)-\(RegionMatcher.bare(s))" } }
                }
            }
            if let id = byCountry[country] { body(id) { "country \(country)" } }
        }
        if let c = record.continent, let id = byContinent[c] { body(id) { "continent \(c)" } }
    }

    /// Every region the record belongs to, most specific first, each once, with the rule that
    /// put it there: the record's part of its `RegionChains` chain.
    func matches(_ record: GeoRecord) -> [(region: RegionID, rule: String)] {
        var out: [(region: RegionID, rule: String)] = []
        forEachRegion(record) { id, rule in
            if !out.contains(where: { $0.region == id }) { out.append((id, rule())) }
        }
        return out
    }

    /// `chain(record)` packed into an integer (12 bits per region id + 1, at most five), so the
    /// compile loop can find an interned chain without building an array per record; nil when
    /// it does not fit (then the caller builds the array).
    @inline(__always)
    func chainKey(_ record: GeoRecord) -> UInt64? {
        var key: UInt64 = 0
        var count = 0
        var fits = true
        forEachRegion(record) { id, _ in
            guard fits else { return }
            guard id < 4095, count < 5 else { fits = false; return }
            let v = UInt64(id + 1)
            var k = key, i = 0
            while i < count { if k & 0xFFF == v { return }; k >>= 12; i += 1 }   // already in the chain
            key |= v << UInt64(12 * count)
            count += 1
        }
        return fits ? key : nil
    }

    /// The regions of `matches`, for the compile loop (no rule text).
    func chain(_ record: GeoRecord) -> [RegionID] {
        var out: [RegionID] = []
        forEachRegion(record) { id, _ in if !out.contains(id) { out.append(id) } }
        return out
    }

    /// "NY" from "NY" or "US-NY" (databases differ in whether they qualify the code).
    static func bare(_ code: String) -> String {
        guard let dash = code.firstIndex(of: "-") else { return code }
        return String(code[code.index(after: dash)...])
    }

    /// Fast path for the compile loop.
    @inline(__always)
    func regionID(_ record: GeoRecord, noMatch: Int) -> Int {
        if !byASN.isEmpty, let asn = record.asn, let id = byASN[asn] { return id }
        if let country = record.country {
            if !bySubdivision.isEmpty, let subs = bySubdivision[country] {
                for s in record.subdivisions.reversed() { if let id = subs[RegionMatcher.bare(s)] { return id } }
            }
            if let id = byCountry[country] { return id }
        }
        if let c = record.continent, let id = byContinent[c] { return id }
        return noMatch
    }
}
