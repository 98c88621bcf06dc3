import ArgumentParser
import GeoIP
#if canImport(Glibc)
import Glibc
#endif

/// `geodns mmdb`: build MaxMind DB files from a CSV list of networks, and inspect databases.
struct MMDBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmdb",
        abstract: "Build and inspect MaxMind DB (.mmdb) files.",
        discussion: """
            SOURCE is a CSV file whose header row names its columns among network, continent, \
            country, subdivision, asn, latitude, longitude, e.g.
              # build_epoch: 1764115200
              network,continent,country,subdivision,asn,latitude,longitude
              81.2.69.0/24,EU,GB,GB-ENG,20712,51.5142,-0.0931
              2001:4860::/32,NA,US,US-CA,15169,37.386,-122.0838
            The output is a MaxMind DB format 2.0 file in GeoIP2-City shape that libmaxminddb, \
            mmdblookup and Python maxminddb read. The build_epoch metadata comes from \
            --build-epoch, else the '# build_epoch:' line, else SOURCE_DATE_EPOCH, else the \
            current time (the reproducible-builds convention): with a fixed epoch the same \
            source always gives the same bytes.
            """,
        subcommands: [Build.self, Lookup.self, Networks.self, Info.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Build a .mmdb from a CSV list of networks.")

        @Argument(help: "The CSV source.")
        var source: String

        @Option(name: .shortAndLong, help: "The .mmdb file to write.")
        var output: String

        @Option(help: "build_epoch metadata (seconds since 1970); wins over the source's '# build_epoch:' line and SOURCE_DATE_EPOCH.")
        var buildEpoch: UInt64?

        @Option(help: "database_type metadata when the source has no '# database_type:' line.")
        var databaseType: String = "GeoDNS-City"

        @Option(help: "Record size in bits: 24, 28 or 32 (default: the smallest that fits).")
        var recordSize: Int?

        func run() throws {
            var parsed = try MMDBSource.load(path: source)
            parsed.buildEpoch = try Self.resolveBuildEpoch(option: buildEpoch, source: parsed.buildEpoch,
                                                           environment: getenv("SOURCE_DATE_EPOCH").map { String(cString: $0) },
                                                           now: UInt64(max(1, time(nil))))
            let writer = try parsed.writer(buildEpoch: buildEpoch, databaseType: databaseType, recordSize: recordSize, path: source)
            try writer.write(to: output)
            let database = try GeoIPDatabase(path: output)
            print("\(output): \(parsed.rows.count) networks, \(database.metadata.nodeCount) nodes, "
                  + "\(database.metadata.recordSize)-bit records, \(database.metadata.databaseType), build_epoch \(database.metadata.buildEpoch)")
        }

        /// The reproducible-builds order (https://reproducible-builds.org/specs/source-date-epoch/):
        /// the option, else the source's directive, else SOURCE_DATE_EPOCH, else now. A malformed
        /// SOURCE_DATE_EPOCH is an error, as the spec asks, never silently the current time.
        static func resolveBuildEpoch(option: UInt64?, source: UInt64?, environment: String?, now: UInt64) throws -> UInt64 {
            if let epoch = option ?? source { return epoch }
            guard let text = environment, !text.isEmpty else { return now }
            guard let epoch = UInt64(text), epoch > 0 else {
                throw ValidationError("SOURCE_DATE_EPOCH must be a positive number of seconds, not '\(text)' (unset it, or pass --build-epoch)")
            }
            return epoch
        }
    }

    struct Lookup: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Look addresses up: the matched network and its record.")

        @Argument(help: "The .mmdb file.")
        var database: String

        @Argument(help: "IPv4 or IPv6 addresses.")
        var addresses: [String]

        func run() throws {
            let db = try GeoIPDatabase(path: database)
            for address in addresses {
                guard let result = db.lookup(address) else {
                    throw ValidationError("'\(address)' is not an IPv4 or IPv6 address")
                }
                let family = address.contains(":") && !address.lowercased().hasPrefix("::ffff:") ? "IPv6" : "IPv4"
                guard let record = result.record else {
                    print("\(address)\tno data (\(family) /\(result.prefixLength))")
                    continue
                }
                print("\(address)\t/\(result.prefixLength)\t\(MMDBCommand.describe(record))")
            }
        }
    }

    struct Networks: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every network with data, as CSV that `mmdb build` reads back.")

        @Argument(help: "The .mmdb file.")
        var database: String

        @Flag(help: "Only count the networks and time the walk.")
        var count = false

        func run() throws {
            let db = try GeoIPDatabase(path: database)
            if count {
                let clock = ContinuousClock()
                var v4 = 0, v6 = 0
                let elapsed = clock.measure {
                    db.enumerateNetworks { network, _ in
                        if network.family == .v4 { v4 += 1 } else { v6 += 1 }
                    }
                }
                print("\(database): \(v4 + v6) networks (\(v4) IPv4, \(v6) IPv6), walk \(elapsed)")
                return
            }
            print(MMDBSource(database: db).csv(), terminator: "")
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a database's metadata.")

        @Argument(help: "The .mmdb file.")
        var database: String

        func run() throws {
            let m = try GeoIPDatabase(path: database).metadata
            print("database_type: \(m.databaseType)")
            print("binary_format: \(m.binaryFormatMajor).\(m.binaryFormatMinor)")
            print("ip_version: \(m.ipVersion)")
            print("record_size: \(m.recordSize)")
            print("node_count: \(m.nodeCount)")
            print("build_epoch: \(m.buildEpoch)")
            print("languages: \(m.languages.joined(separator: " "))")
            for (language, text) in m.description.sorted(by: { $0.key < $1.key }) { print("description[\(language)]: \(text)") }
        }
    }

    static func describe(_ r: GeoRecord) -> String {
        var parts: [String] = []
        if let c = r.continent { parts.append("continent=\(c)") }
        if let c = r.country { parts.append("country=\(c)") }
        if !r.subdivisions.isEmpty { parts.append("subdivisions=\(r.qualifiedSubdivisions.joined(separator: ";"))") }
        if let a = r.asn { parts.append("asn=\(a)") }
        if let la = r.latitude, let lo = r.longitude { parts.append("location=\(la),\(lo)") }
        return parts.isEmpty ? "(record without steering fields)" : parts.joined(separator: " ")
    }
}
