import Foundation
import Testing
@testable import GeoIP

/// Each way a database file can be wrong gives its own GeoIPError naming the path — never a crash.
@Suite("Bad database files")
struct BadFileTests {
    let dir: URL
    init() throws { dir = try Support.temporaryDirectory() }

    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func openError(_ path: String) -> GeoIPError? {
        do {
            _ = try GeoIPDatabase(path: path)
            return nil
        } catch {
            return error
        }
    }

    static let demoBytes: [UInt8] = {
        var writer = MMDBWriter(databaseType: "GeoDNS-Test", description: ["en": "bad file tests"], buildEpoch: 1_764_115_200)
        writer.insert(GeoNetwork(family: .v4, address: 0x5102_4500, prefixLength: 24), record: GeoRecord(continent: "EU", country: "GB"))
        writer.insert(GeoNetwork(family: .v4, address: 0x0808_0800, prefixLength: 24), record: GeoRecord(continent: "NA", country: "US", asn: 15169))
        writer.insert(GeoNetwork(family: .v6, address: UInt128(0x2001_4860) << 96, prefixLength: 32), record: GeoRecord(continent: "NA"))
        return (try? writer.serialize()) ?? []
    }()

    @Test func missingFile() {
        let path = dir.appendingPathComponent("nope.mmdb").path
        let error = openError(path)
        #expect(error?.kind == .notFound)
        #expect(error?.description == "\(path): no such file")
    }

    @Test func directory() {
        let error = openError(dir.path)
        #expect(error?.kind == .notAFile)
        #expect(error?.description == "\(dir.path): is a directory, not a MaxMind DB file")
    }

    @Test func emptyFile() throws {
        let path = try file("empty.mmdb", [])
        let error = openError(path)
        #expect(error?.kind == .empty)
        #expect(error?.description == "\(path): empty file (0 bytes), not a MaxMind DB")
    }

    @Test func unreadableFile() throws {
        let path = try file("secret.mmdb", Self.demoBytes)
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: path)
        let error = openError(path)
        if getuid() == 0 {
            #expect(error == nil)   // root reads it anyway; the mode bits are not the file's fault
        } else {
            #expect(error?.kind == .unreadable)
            #expect(error?.description == "\(path): cannot open: Permission denied")
        }
    }

    @Test func randomBytes() throws {
        var rng = Support.XorShift32(state: 7)
        let path = try file("random.mmdb", (0..<65_536).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        let error = openError(path)
        #expect(error?.kind == .notMaxMind)
        #expect(error?.description == "\(path): not a MaxMind DB file: no metadata marker (\\xAB\\xCD\\xEFMaxMind.com) in its last 128 KiB; the file is another format or was truncated")
    }

    @Test func textFile() throws {
        let text = String(repeating: "network,continent,country\n81.2.69.0/24,EU,GB\n", count: 100)
        let path = try file("networks.mmdb", Array(text.utf8))
        let error = openError(path)
        #expect(error?.kind == .notMaxMind)
        #expect(error?.description == "\(path): a text file, not a MaxMind DB (no metadata marker)")
    }

    @Test func truncatedBeforeMetadata() throws {
        let path = try file("cut.mmdb", Array(Self.demoBytes.prefix(Self.demoBytes.count / 2)))
        let error = openError(path)
        #expect(error?.kind == .notMaxMind)
        #expect(error?.description.hasSuffix("the file is another format or was truncated") == true)
    }

    @Test(.enabled(if: Support.geoLite2City != nil))
    func truncatedRealDatabase() throws {
        let real = try Data(contentsOf: URL(fileURLWithPath: Support.geoLite2City ?? ""))
        // A download cut short: the first 8 MiB of GeoLite2-City.
        let cut = try file("GeoLite2-City-cut.mmdb", Array(real.prefix(8 << 20)))
        #expect(openError(cut)?.kind == .notMaxMind)
        // Metadata intact but most of the tree and data missing (the middle cut out).
        let hollow = try file("GeoLite2-City-hollow.mmdb", Array(real.prefix(1 << 20)) + Array(real.suffix(64 << 10)))
        let error = openError(hollow)
        #expect(error?.kind == .corrupt)
        // 3,606,567 nodes * 7 bytes + the 16-byte separator; the metadata marker sits that far from the end.
        let markerFromEnd = real.count - (MetadataCheck.lastIndex(of: MetadataCheck.marker, in: Array(real.suffix(64 << 10))) ?? 0) - (real.count - (64 << 10))
        #expect(error?.description == "\(hollow): truncated or corrupt: its search tree (3606567 nodes of 28-bit records) needs "
                + "25245985 bytes before the data section, but only \((1 << 20) + (64 << 10) - markerFromEnd) bytes precede the metadata")
    }

    /// The demo bytes up to the metadata marker, followed by `metadata`.
    func withMetadata(_ change: (inout [String: MMDBValue]) -> Void) -> [UInt8] {
        let bytes = Self.demoBytes
        let marker = MetadataCheck.lastIndex(of: MetadataCheck.marker, in: bytes) ?? 0
        var meta: [String: MMDBValue] = [
            "node_count": .uint32(UInt32(readNodeCount())), "record_size": .uint16(24), "ip_version": .uint16(6),
            "database_type": .string("GeoDNS-Test"), "languages": .array([.string("en")]),
            "binary_format_major_version": .uint16(2), "binary_format_minor_version": .uint16(0),
            "build_epoch": .uint64(1_764_115_200), "description": .map(["en": .string("x")]),
        ]
        change(&meta)
        var encoder = MMDBEncoder()
        encoder.encode(.map(meta))
        return Array(bytes[..<marker]) + MetadataCheck.marker + encoder.bytes
    }

    func readNodeCount() -> Int {
        (try? GeoIPDatabase(path: (try? file("ok-\(UUID()).mmdb", Self.demoBytes)) ?? ""))?.metadata.nodeCount ?? 0
    }

    @Test func theCraftedBaselineOpens() throws {
        let db = try GeoIPDatabase(path: try file("baseline.mmdb", withMetadata { _ in }))
        #expect(db.lookup("8.8.8.8")?.record?.asn == 15169)
    }

    @Test(arguments: [
        ("major3", GeoIPError.Kind.unsupportedFormat, "binary_format_major_version is 3; only MaxMind DB format 2 is supported"),
        ("record27", .unsupportedFormat, "record_size is 27; it must be 24, 28 or 32"),
        ("ip5", .invalidMetadata, "ip_version is 5; it must be 4 or 6"),
        ("noNodes", .invalidMetadata, "metadata has no node_count (uint32)"),
        ("zeroNodes", .invalidMetadata, "node_count is 0"),
        ("noType", .invalidMetadata, "metadata has no database_type (string)"),
        ("noEpoch", .invalidMetadata, "metadata has no build_epoch (non-zero uint64)"),
        ("stringNodes", .invalidMetadata, "metadata has no node_count (uint32)"),
        ("hugeTree", .corrupt, "truncated or corrupt"),
    ])
    func wrongMetadata(name: String, kind: GeoIPError.Kind, message: String) throws {
        let bytes = withMetadata { m in
            switch name {
            case "major3": m["binary_format_major_version"] = .uint16(3)
            case "record27": m["record_size"] = .uint16(27)
            case "ip5": m["ip_version"] = .uint16(5)
            case "noNodes": m["node_count"] = nil
            case "zeroNodes": m["node_count"] = .uint32(0)
            case "noType": m["database_type"] = nil
            case "noEpoch": m["build_epoch"] = nil
            case "stringNodes": m["node_count"] = .string("many")
            default: m["node_count"] = .uint32(4_000_000)
            }
        }
        let path = try file("\(name).mmdb", bytes)
        let error = openError(path)
        #expect(error?.kind == kind)
        #expect(error?.description.hasPrefix("\(path): \(message)") == true, "\(String(describing: error))")
    }

    @Test func metadataThatIsNotAMap() throws {
        let bytes = withMetadata { _ in }
        let marker = MetadataCheck.lastIndex(of: MetadataCheck.marker, in: bytes) ?? 0
        let path = try file("notmap.mmdb", Array(bytes[..<marker]) + MetadataCheck.marker + [0x44] + Array("abcd".utf8))
        #expect(openError(path)?.description == "\(path): the metadata section does not decode: metadata is not a map at offset 0")
        let garbage = try file("garbage.mmdb", Array(bytes[..<marker]) + MetadataCheck.marker + [0xE9, 0xFF, 0xFF])
        #expect(openError(garbage)?.kind == .invalidMetadata)
    }

    /// Random byte flips and truncations of a valid database: opening may fail, lookups may find
    /// nothing, but nothing crashes and everything returns.
    @Test func mutatedDatabasesNeverCrash() throws {
        var rng = Support.XorShift32(state: 2026)
        var opened = 0, failed = 0, records = 0
        let addresses = ["81.2.69.1", "8.8.8.8", "2001:4860::1", "::ffff:8.8.8.8", "1.2.3.4", "2001:db8::1"]
        for round in 0..<400 {
            var bytes = Self.demoBytes
            if round % 5 == 4 {
                bytes = Array(bytes.prefix(Int(rng.next() % UInt32(bytes.count))))
            } else {
                for _ in 0...(rng.next() % 8) {
                    bytes[Int(rng.next() % UInt32(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            let path = try file("mutant.mmdb", bytes)
            guard let db = try? GeoIPDatabase(path: path) else { failed += 1; continue }
            opened += 1
            for a in addresses where db.lookup(a)?.record != nil { records += 1 }
            var seen = 0
            db.enumerateNetworks { _, _ in seen += 1 }
            #expect(seen < 1_000_000)
        }
        print("mutations: \(opened) opened, \(failed) refused, \(records) lookups with data")
        #expect(opened + failed == 400)
    }
}
