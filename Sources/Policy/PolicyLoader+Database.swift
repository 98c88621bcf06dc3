import Foundation
import GeoIP

/// What the loaded database can match, learnt while the compiler walks it (each distinct record
/// once): whether any record has an ASN, and the subdivision codes of the countries that regions
/// name subdivisions of. `geodns check` turns a selector no record can match into an error.
final class DatabaseFacts {
    let countries: Set<String>
    private(set) var hasASN = false
    private(set) var subdivisions: [String: Set<String>] = [:]

    init(regions: [Region]) {
        countries = Set(regions.flatMap { $0.subdivisions.compactMap { $0.split(separator: "-").first.map(String.init) } })
    }

    func note(_ record: GeoRecord) {
        if !hasASN, record.asn != nil { hasASN = true }
        if !countries.isEmpty, let c = record.country, countries.contains(c) {
            for s in record.subdivisions { subdivisions[c, default: []].insert(RegionMatcher.bare(s)) }
        }
    }
}

extension PolicyLoader {
    /// Selectors the database can never match are errors with a hint: `asns:` without ASN data,
    /// a subdivision code the database does not have (`US-CAL` -> `US-CA`).
    static func checkMatchable(_ spec: PolicySpec, facts: DatabaseFacts, metadata: GeoIPMetadata, reader: YAMLReader) {
        let db = metadata.databaseType
        for region in spec.regions {
            if let first = region.asns.first, !facts.hasASN, let at = spec.selectorPositions["asn \(first)"] {
                let list = region.asns.prefix(3).map { "AS\($0)" }.joined(separator: ", ") + (region.asns.count > 3 ? ", ..." : "")
                reader.error(at, "region '\(region.name)': asns (\(list)) can never match: the database (\(db)) has no ASN data; "
                             + "add one beside it, server.geoip: { location: FILE, asn: FILE } (GeoLite2-ASN, DB-IP ASN, or one built by `geodns mmdb build` from a network,asn CSV), or use networks:")
            }
            for code in region.subdivisions {
                let parts = code.split(separator: "-", maxSplits: 1).map(String.init)
                guard parts.count == 2, let at = spec.selectorPositions["subdivision \(code)"] else { continue }
                let known = facts.subdivisions[parts[0]] ?? []
                guard !known.contains(parts[1]) else { continue }
                if known.isEmpty {
                    reader.error(at, "subdivision \(code) can never match: the database (\(db)) has no subdivisions of \(parts[0])")
                    continue
                }
                var message = "subdivision \(code) can never match: the database (\(db)) has no subdivision \(parts[1]) of \(parts[0])"
                let sorted = known.sorted()
                if let near = sorted.first(where: { parts[1].hasPrefix($0) || $0.hasPrefix(parts[1]) }) ?? YAMLReader.closest(to: parts[1], in: sorted) {
                    message += "; did you mean \(parts[0])-\(near)?"
                }
                reader.error(at, message)
            }
        }
    }

    /// The database as the daemon logs it at load and at every reload.
    public static func describe(_ m: GeoIPMetadata, path: String?) -> String {
        let built = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(m.buildEpoch)))
        return "database \(path ?? "?"): type \(m.databaseType), IPv\(m.ipVersion) tree, \(m.nodeCount) nodes (record size \(m.recordSize)), "
            + "built \(built), languages \(m.languages.isEmpty ? "none" : m.languages.joined(separator: ","))"
    }
}
