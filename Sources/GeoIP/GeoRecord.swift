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

public enum GeoFamily: Hashable, Sendable {
    case v4, v6
}

/// A network of the database. IPv4 networks carry their address in the low 32 bits.
public struct GeoNetwork: Hashable, Sendable, CustomStringConvertible {
    public var family: GeoFamily
    public var address: UInt128
    public var prefixLength: Int

    public init(family: GeoFamily, address: UInt128, prefixLength: Int) {
        self.family = family
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses "192.0.2.0/24" or "2001:db8::/32" (a bare address means a host route).
    /// Returns nil for malformed text or bits set past the prefix.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let address = IPAddressText.parse(String(parts[0]))
        else { return nil }
        let width: Int
        switch address {
        case .v4(let v4): family = .v4; self.address = UInt128(v4); width = 32
        case .v6(let v6): family = .v6; self.address = v6; width = 128
        }
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let length = Int(digits), length <= width else { return nil }
            prefixLength = length
        } else {
            prefixLength = width
        }
        guard self.address & ~GeoNetwork.mask(prefixLength, width: width) == 0 else { return nil }
    }

    /// Bit width of the family: 32 or 128.
    public var width: Int { family == .v4 ? 32 : 128 }

    /// Whether `address` (of the same family) lies in this network.
    public func contains(_ other: UInt128) -> Bool {
        other & GeoNetwork.mask(prefixLength, width: width) == address
    }

    /// The mask with the top `length` bits of a `width`-bit address set, in the low bits.
    static func mask(_ length: Int, width: Int) -> UInt128 {
        let all: UInt128 = width == 128 ? ~0 : (UInt128(1) << width) - 1
        if length <= 0 { return 0 }
        if length >= width { return all }
        return all ^ (all >> length)
    }

    public var description: String {
        switch family {
        case .v4: return IPAddressText.format(ipv4: UInt32(truncatingIfNeeded: address)) + "/\(prefixLength)"
        case .v6: return IPAddressText.format(ipv6: address) + "/\(prefixLength)"
        }
    }
}

/// The database's metadata section (MaxMind DB spec, "Database Metadata").
public struct GeoIPMetadata: Hashable, Sendable {
    public var databaseType: String
    /// 4 or 6: the width of the search tree.
    public var ipVersion: Int
    public var binaryFormatMajor: Int
    public var binaryFormatMinor: Int
    /// Seconds since the Unix epoch.
    public var buildEpoch: UInt64
    public var nodeCount: Int
    /// Bits per search tree record: 24, 28 or 32.
    public var recordSize: Int
    /// Language code -> description.
    public var description: [String: String]
    public var languages: [String]

    public init(databaseType: String, ipVersion: Int, binaryFormatMajor: Int, binaryFormatMinor: Int,
                buildEpoch: UInt64, nodeCount: Int, recordSize: Int, description: [String: String],
                languages: [String]) {
        self.databaseType = databaseType
        self.ipVersion = ipVersion
        self.binaryFormatMajor = binaryFormatMajor
        self.binaryFormatMinor = binaryFormatMinor
        self.buildEpoch = buildEpoch
        self.nodeCount = nodeCount
        self.recordSize = recordSize
        self.description = description
        self.languages = languages
    }
}
