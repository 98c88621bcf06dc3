import Foundation
import Testing

/// `geodns mmdb build` on a plain CSV (issue 10): the build epoch follows the reproducible-builds
/// order (--build-epoch, else `# build_epoch:`, else SOURCE_DATE_EPOCH, else now) and the result
/// reads back through the independent readers, mmdblookup and Python maxminddb.
@Suite struct MMDBBuildTests {
    static let plainCSV = "network,continent,country\n81.2.69.0/24,EU,GB\n2001:db8:10::/48,AS,JP\n"

    /// Builds `csv` with `environment` (SOURCE_DATE_EPOCH or unset) and extra arguments; returns
    /// the output path and the command's result.
    func build(_ csv: String, sourceDateEpoch: String?, _ extra: [String] = []) throws -> (String, CommandResult) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("geodns-mmdb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let source = dir.appendingPathComponent("plain.csv").path, output = dir.appendingPathComponent("plain.mmdb").path
        try csv.write(toFile: source, atomically: true, encoding: .utf8)
        let env = sourceDateEpoch.map { ["SOURCE_DATE_EPOCH=\($0)"] } ?? ["-u", "SOURCE_DATE_EPOCH"]
        let result = run("/usr/bin/env", env + [Paths.geodns, "mmdb", "build", source, "-o", output] + extra)
        return (output, result)
    }

    func buildEpoch(_ path: String) -> UInt64? {
        let info = run(Paths.geodns, ["mmdb", "info", path])
        return info.stdout.split(separator: "\n").first { $0.hasPrefix("build_epoch: ") }.flatMap { UInt64($0.dropFirst(13)) }
    }

    @Test func plainCSVBuildsWithTheCurrentTimeAndReadsBack() throws {
        let before = UInt64(Date().timeIntervalSince1970)
        let (mmdb, result) = try build(Self.plainCSV, sourceDateEpoch: nil)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("2 networks"), "\(result.stdout)")
        let epoch = try #require(buildEpoch(mmdb))
        #expect(epoch >= before && epoch <= UInt64(Date().timeIntervalSince1970) + 1)

        // mmdblookup (libmaxminddb's own tool).
        let v4 = run("/usr/bin/mmdblookup", ["--file", mmdb, "--ip", "81.2.69.142", "country", "iso_code"])
        #expect(v4.status == 0 && v4.stdout.contains("\"GB\""), "\(v4.stdout)\(v4.stderr)")
        let v6 = run("/usr/bin/mmdblookup", ["--file", mmdb, "--ip", "2001:db8:10::1", "continent", "code"])
        #expect(v6.status == 0 && v6.stdout.contains("\"AS\""), "\(v6.stdout)\(v6.stderr)")
        let miss = run("/usr/bin/mmdblookup", ["--file", mmdb, "--ip", "192.0.2.1"])
        #expect((miss.stdout + miss.stderr).contains("Could not find an entry"), "\(miss.stdout)\(miss.stderr)")

        // Python maxminddb (MaxMind's reference reader, pure-Python mode so it checks the bytes itself).
        let script = """
            import maxminddb, sys
            r = maxminddb.open_database(sys.argv[1], maxminddb.MODE_FILE)
            for ip in ("81.2.69.142", "2001:db8:10::1"):
                rec, prefix = r.get_with_prefix_len(ip)
                print(ip, prefix, rec["continent"]["code"], rec["country"]["iso_code"])
            print("192.0.2.1", r.get("192.0.2.1"))
            print("epoch", r.metadata().build_epoch)
            """
        let py = run("/usr/bin/env", ["python3", "-c", script, mmdb])
        #expect(py.status == 0, "\(py.stderr)")
        #expect(py.stdout == "81.2.69.142 24 EU GB\n2001:db8:10::1 48 AS JP\n192.0.2.1 None\nepoch \(epoch)\n", "\(py.stdout)")
    }

    @Test func sourceDateEpochIsUsedWithoutADirective() throws {
        let (mmdb, result) = try build(Self.plainCSV, sourceDateEpoch: "1700000000")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(buildEpoch(mmdb) == 1_700_000_000)
    }

    @Test func theDirectiveWinsOverSourceDateEpoch() throws {
        let (mmdb, result) = try build("# build_epoch: 1764115200\n" + Self.plainCSV, sourceDateEpoch: "1700000000")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(buildEpoch(mmdb) == 1_764_115_200)
    }

    @Test func theOptionWinsOverTheDirective() throws {
        let (mmdb, result) = try build("# build_epoch: 1764115200\n" + Self.plainCSV, sourceDateEpoch: "1700000000",
                                       ["--build-epoch", "1600000000"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(buildEpoch(mmdb) == 1_600_000_000)
    }

    @Test func sameSourceAndEpochGiveTheSameBytes() throws {
        let (a, ra) = try build(Self.plainCSV, sourceDateEpoch: "1700000000")
        let (b, rb) = try build(Self.plainCSV, sourceDateEpoch: "1700000000")
        #expect(ra.status == 0 && rb.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
    }

    @Test func malformedSourceDateEpochIsAnError() throws {
        let (_, result) = try build(Self.plainCSV, sourceDateEpoch: "yesterday")
        #expect(result.status != 0)
        #expect(result.stderr.contains("SOURCE_DATE_EPOCH must be a positive number of seconds, not 'yesterday'"), "\(result.stderr)")
    }
}
