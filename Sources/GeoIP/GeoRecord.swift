/// What a MaxMind database says about one network, reduced to what steering needs.
///
/// Field sources (GeoIP2/GeoLite2 City and Country, DB-IP, and `geodns mmdb build` output):
/// `continent.code`, `country.iso_code`, `subdivisions[].iso_code`, `location.latitude`,
/// `location.longitude`, and `autonomous_system_number` (top level, as in GeoLite2-ASN/ISP)
/// or `traits.autonomous_system_number` (as in GeoIP2 Enterprise).
public struct GeoRecord: Hashable, Sendable {
    /// Continent code, e.g. "EU".
    public var continent: String?
    /// ISO 3166-1 country code, e.g. "GB".
    public var country: String?
    /// Subdivision ISO codes as stored in the database, most general first, e.g. ["ENG"];
    /// match "GB-ENG" by prefixing the country.
    public var subdivisions: [String]
    public var latitude: Double?
    public var longitude: Double?
    public var asn: UInt32?

    public init(continent: String? = nil, country: String? = nil, subdivisions: [String] = [],
                latitude: Double? = nil, longitude: Double? = nil, asn: UInt32? = nil) {
        self.continent = continent
        self.country = country
        self.subdivisions = subdivisions
        self.latitude = latitude
        self.longitude = longitude
        self.asn = asn
    }

    /// Subdivision codes in ISO 3166-2 form ("US-NY"), when the country is known.
    public var qualifiedSubdivisions: [String] {
        guard let country else { return subdivisions }
        return subdivisions.map { $0.contains("-") ? $0 : country + "-" + $0 }
    }
}

/// The result of one lookup.
public struct GeoLookup: Hashable, Sendable {
    /// The record of the matched network; nil when the address is in no network with data.
    public var record: GeoRecord?
    /// Prefix length of the network that decided the answer (with or without data), in the
    /// queried family: an IPv4 query in an IPv6 tree reports 0...32, not 96...128.
    public var prefixLength: Int

    public init(record: GeoRecord?, prefixLength: Int) {
        self.record = record
        self.prefixLength = prefixLength
    }
}
