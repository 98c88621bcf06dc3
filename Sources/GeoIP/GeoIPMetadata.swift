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
