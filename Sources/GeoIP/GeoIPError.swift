/// Why a database (or a builder source) could not be used. `description` names the path and
/// says what is wrong, e.g. `data/x.mmdb: not a MaxMind DB file: no metadata marker ...`.
public struct GeoIPError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case notFound          // no such file
        case notAFile          // a directory or a device
        case unreadable        // permission denied or another open/read error
        case empty             // zero bytes
        case notMaxMind        // no metadata marker: random bytes, a text file, a truncated file
        case invalidMetadata   // marker present, metadata missing fields or inconsistent
        case unsupportedFormat // binary_format_major_version other than 2, odd record size, ...
        case corrupt           // search tree or data section out of bounds
        case invalidSource     // builder input (CSV) is wrong
        case writeFailed       // the builder could not write its output
    }

    public var kind: Kind
    public var path: String
    /// 1-based line in a builder source, when the error is about one line.
    public var line: Int?
    public var message: String

    public init(_ kind: Kind, path: String, line: Int? = nil, _ message: String) {
        self.kind = kind
        self.path = path
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(path):\(line): \(message)" }
        return "\(path): \(message)"
    }
}
