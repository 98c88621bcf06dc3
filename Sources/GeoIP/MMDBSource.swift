/// The human-readable input of `geodns mmdb build`: a CSV file whose header row names its
/// columns among `network`, `continent`, `country`, `subdivision`, `asn`, `latitude`,
/// `longitude` (only `network` is required; order is free).
///
/// ```
/// # build_epoch: 1764115200          <- directives in leading comment lines (optional)
/// # database_type: GeoDNS-City
/// # description: GeoDNS demo database
/// network,continent,country,subdivision,asn,latitude,longitude
/// 81.2.69.0/24,EU,GB,GB-ENG,20712,51.5142,-0.0931
/// 2001:4860::/32,NA,US,US-CA,15169,37.751,-97.822
/// ```
/// `subdivision` holds ISO 3166-2 codes ("US-NY", or just "NY"), several separated by `;`,
/// most general first. `asn` may be written "AS15169". Lines starting with `#` and blank lines
/// are ignored; fields may be double-quoted (RFC 4180).
public struct MMDBSource: Sendable {
    public struct Row: Hashable, Sendable {
        public var network: GeoNetwork
        public var record: GeoRecord
        public var line: Int
    }

    public var rows: [Row] = []
    public var buildEpoch: UInt64?
    public var databaseType: String?
    public var description: String?

    public static let columns: Set<String> = ["network", "continent", "country", "subdivision", "asn", "latitude", "longitude"]
    public static let continents: Set<String> = ["AF", "AN", "AS", "EU", "NA", "OC", "SA"]

    public init() {}

    /// Reads and parses a CSV file.
    public static func load(path: String) throws(GeoIPError) -> MMDBSource {
        let size = try GeoIPDatabase.checkFile(path)
        let bytes = try MetadataCheck.readBytes(path: path, offset: 0, count: size)
        return try parseCSV(String(decoding: bytes, as: UTF8.self), path: path)
    }

    public static func parseCSV(_ text: String, path: String) throws(GeoIPError) -> MMDBSource {
        var source = MMDBSource()
        var header: [String]?
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("#") {
                if header == nil { try source.directive(String(trimmed.dropFirst()), path: path, line: lineNumber) }
                continue
            }
            let fields = try splitCSV(String(line), path: path, line: lineNumber)
            guard let columns = header else {
                let names = fields.map { $0.trimmingSpaces.lowercased() }
                for (i, name) in names.enumerated() {
                    guard Self.columns.contains(name) else {
                        throw GeoIPError(.invalidSource, path: path, line: lineNumber,
                                         "unknown column '\(name)' (columns: network, continent, country, subdivision, asn, latitude, longitude)")
                    }
                    guard !names[..<i].contains(name) else {
                        throw GeoIPError(.invalidSource, path: path, line: lineNumber, "column '\(name)' appears twice")
                    }
                }
                guard names.contains("network") else {
                    throw GeoIPError(.invalidSource, path: path, line: lineNumber, "the header row has no 'network' column")
                }
                header = names
                continue
            }
            guard fields.count == columns.count else {
                throw GeoIPError(.invalidSource, path: path, line: lineNumber, "\(fields.count) fields, but the header names \(columns.count)")
            }
            source.rows.append(try row(columns: columns, fields: fields.map { $0.trimmingSpaces }, path: path, line: lineNumber))
        }
        guard header != nil else { throw GeoIPError(.invalidSource, path: path, "no header row (e.g. network,continent,country)") }
        return source
    }

    private mutating func directive(_ text: String, path: String, line: Int) throws(GeoIPError) {
        guard let colon = text.firstIndex(of: ":") else { return }   // an ordinary comment
        let key = text[..<colon].trimmingSpaces.lowercased()
        let value = text[text.index(after: colon)...].trimmingSpaces
        switch key {
        case "build_epoch":
            guard let epoch = UInt64(value), epoch > 0 else {
                throw GeoIPError(.invalidSource, path: path, line: line, "build_epoch must be a positive number of seconds, not '\(value)'")
            }
            buildEpoch = epoch
        case "database_type":
            guard !value.isEmpty else { throw GeoIPError(.invalidSource, path: path, line: line, "database_type is empty") }
            databaseType = value
        case "description":
            description = value
        default:
            break   // an ordinary comment that happens to contain a colon
        }
    }

    private static func row(columns: [String], fields: [String], path: String, line: Int) throws(GeoIPError) -> Row {
        func fail(_ message: String) -> GeoIPError { GeoIPError(.invalidSource, path: path, line: line, message) }
        var network: GeoNetwork?
        var record = GeoRecord()
        var subdivisionText = ""
        for (column, value) in zip(columns, fields) where !value.isEmpty {
            switch column {
            case "network":
                guard let parsed = GeoNetwork(value) else {
                    let address = value.split(separator: "/").first.map(String.init) ?? value
                    if value.contains("/"), IPAddressText.parse(address) != nil {
                        throw fail("network '\(value)': bad prefix length, or bits set past it (write the network address)")
                    }
                    throw fail("network '\(value)' is not an IPv4 or IPv6 network (e.g. 192.0.2.0/24, 2001:db8::/32)")
                }
                network = parsed
            case "continent":
                let code = value.uppercased()
                guard continents.contains(code) else { throw fail("continent '\(value)' is not one of AF AN AS EU NA OC SA") }
                record.continent = code
            case "country":
                let code = value.uppercased()
                guard code.utf8.count == 2, code.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                    throw fail("country '\(value)' is not an ISO 3166-1 alpha-2 code (e.g. GB)")
                }
                record.country = code
            case "subdivision":
                subdivisionText = value
            case "asn":
                var digits = Substring(value)
                if digits.uppercased().hasPrefix("AS") { digits = digits.dropFirst(2) }
                guard let asn = UInt32(digits) else { throw fail("asn '\(value)' is not a number (e.g. 15169 or AS15169)") }
                record.asn = asn
            case "latitude":
                guard let v = Double(value), v.isFinite, v >= -90, v <= 90 else { throw fail("latitude '\(value)' is not a number in -90...90") }
                record.latitude = v
            case "longitude":
                guard let v = Double(value), v.isFinite, v >= -180, v <= 180 else { throw fail("longitude '\(value)' is not a number in -180...180") }
                record.longitude = v
            default:
                break
            }
        }
        guard let network else { throw fail("missing network") }
        guard (record.latitude == nil) == (record.longitude == nil) else { throw fail("latitude and longitude go together") }
        for part in subdivisionText.split(separator: ";") {
            var code = part.trimmingSpaces.uppercased()
            if let dash = code.firstIndex(of: "-") {
                let prefix = String(code[..<dash])
                if let country = record.country, prefix != country {
                    throw fail("subdivision '\(part)' is not in country \(country)")
                }
                if record.country == nil { record.country = prefix }
                code = String(code[code.index(after: dash)...])
            }
            guard (1...3).contains(code.utf8.count), code.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }) else {
                throw fail("subdivision '\(part)' is not an ISO 3166-2 code (e.g. US-NY)")
            }
            record.subdivisions.append(code)
        }
        return Row(network: network, record: record, line: line)
    }

    /// Splits one CSV line; fields may be double-quoted with "" as an escaped quote.
    static func splitCSV(_ line: String, path: String, line number: Int) throws(GeoIPError) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var wasQuoted = false
        var iterator = line.makeIterator()
        while let c = iterator.next() {
            if quoted {
                if c == "\"" {
                    // Either an escaped quote ("") or the end of the quoted part.
                    var lookahead = iterator
                    if lookahead.next() == "\"" { current.append("\""); iterator = lookahead } else { quoted = false }
                } else {
                    current.append(c)
                }
            } else if c == "," {
                fields.append(current)
                current = ""
                wasQuoted = false
            } else if c == "\"" && current.trimmingSpaces.isEmpty && !wasQuoted {
                quoted = true
                wasQuoted = true
                current = ""
            } else {
                current.append(c)
            }
        }
        guard !quoted else { throw GeoIPError(.invalidSource, path: path, line: number, "unterminated quoted field") }
        fields.append(current)
        return fields
    }

    /// A writer holding every row. Directives in the source win over the arguments.
    public func writer(buildEpoch defaultEpoch: UInt64? = nil, databaseType defaultType: String = "GeoDNS-City",
                       recordSize: Int? = nil, path: String) throws(GeoIPError) -> MMDBWriter {
        guard let epoch = buildEpoch ?? defaultEpoch else {
            throw GeoIPError(.invalidSource, path: path, "no build_epoch: add a '# build_epoch: SECONDS' line or pass --build-epoch")
        }
        var writer = MMDBWriter(databaseType: databaseType ?? defaultType,
                                description: ["en": description ?? "GeoDNS database built by geodns mmdb build"],
                                languages: ["en"], buildEpoch: epoch, recordSize: recordSize)
        for row in rows { writer.insert(row.network, record: row.record, line: row.line) }
        return writer
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

extension MMDBSource {
    /// Every network of a database with its steering fields (the inverse of `writer`).
    public init(database: GeoIPDatabase) {
        self.init()
        buildEpoch = database.metadata.buildEpoch
        databaseType = database.metadata.databaseType
        description = database.metadata.description["en"]
        database.enumerateNetworks { network, record in
            rows.append(Row(network: network, record: record, line: 0))
        }
    }

    /// CSV text that `parseCSV` reads back into the same rows (directives first).
    public func csv() -> String {
        var text = ""
        if let buildEpoch { text += "# build_epoch: \(buildEpoch)\n" }
        if let databaseType { text += "# database_type: \(databaseType)\n" }
        if let description, !description.contains("\n") { text += "# description: \(description)\n" }
        text += "network,continent,country,subdivision,asn,latitude,longitude\n"
        for row in rows {
            let r = row.record
            let prefix = r.country.map { "\($0)-" } ?? ""
            let fields: [String] = [
                row.network.description, r.continent ?? "", r.country ?? "",
                r.subdivisions.map { prefix + $0 }.joined(separator: ";"),
                r.asn.map { String($0) } ?? "",
                r.latitude.map { String($0) } ?? "", r.longitude.map { String($0) } ?? "",
            ]
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }
}
