import Foundation
import Testing
@testable import GeoIP

/// Build -> read back with GeoIPDatabase (libmaxminddb), mmdblookup and Python maxminddb.
@Suite("MMDBWriter")
struct MMDBWriterTests {
    static let london = GeoRecord(continent: "EU", country: "GB", subdivisions: ["ENG"], latitude: 51.5142, longitude: -0.0931, asn: 20712)
    static let tenNet = GeoRecord(continent: "NA", country: "US", subdivisions: ["NY"], latitude: 40.7128, longitude: -74.006, asn: 64500)
    static let tenOne = GeoRecord(continent: "AS", country: "JP", subdivisions: [], latitude: 35.6895, longitude: 139.6917, asn: 2519)
    static let v6 = GeoRecord(continent: "OC", country: "AU", subdivisions: ["NSW", "SYD"], asn: nil)
    static let bare = GeoRecord(continent: "AN")

    /// 10.0.0.0/8 with a more specific 10.1.0.0/16, a /32 host, v6 networks, one nested.
    static func writer(recordSize: Int? = nil) -> MMDBWriter {
        var w = MMDBWriter(databaseType: "GeoDNS-Test", description: ["en": "writer test"], buildEpoch: 1_764_115_200, recordSize: recordSize)
        w.insert(net("10.1.0.0/16"), record: tenOne)
        w.insert(net("10.0.0.0/8"), record: tenNet)
        w.insert(net("81.2.69.0/24"), record: london)
        w.insert(net("192.0.2.7/32"), record: bare)
        w.insert(net("2001:db8::/32"), record: v6)
        w.insert(net("2001:db8:1::/48"), record: london)
        return w
    }

    static func net(_ text: String) -> GeoNetwork {
        guard let n = GeoNetwork(text) else { Issue.record("bad network \(text)"); return GeoNetwork(family: .v4, address: 0, prefixLength: 0) }
        return n
    }

    /// Expected (record, prefix) per address.
    static let expectations: [(String, GeoRecord?, Int)] = [
        ("10.1.2.3", tenOne, 16),
        ("10.200.0.1", tenNet, 9),      // the /8 split around 10.1.0.0/16: 10.128.0.0/9
        ("10.0.0.1", tenNet, 16),       // 10.0.0.0/16
        ("81.2.69.142", london, 24),
        ("192.0.2.7", bare, 32),
        ("192.0.2.8", nil, 29),       // empty sibling 192.0.2.8/29
        ("2001:db8:1::5", london, 48),
        ("2001:db8:2::5", v6, 47),      // 2001:db8::/32 split around 2001:db8:1::/48
        ("2001:db9::1", nil, 32),
        ("::ffff:10.1.2.3", tenOne, 16), // v4-mapped answered as IPv4
        ("2002:a01:203::1", tenOne, 32), // 6to4 alias: 10.1.2.3 inside 2002::/16, an IPv6 prefix
    ]

    func write(_ writer: MMDBWriter) throws -> (String, [UInt8]) {
        let dir = try Support.temporaryDirectory()
        let path = dir.appendingPathComponent("test.mmdb").path
        let bytes = try writer.serialize(path: path)
        try writer.write(to: path)
        return (path, bytes)
    }

    @Test(arguments: [24, 28, 32])
    func roundTripThroughLibmaxminddb(recordSize: Int) throws {
        let (path, _) = try write(Self.writer(recordSize: recordSize))
        let db = try GeoIPDatabase(path: path)
        #expect(db.metadata.recordSize == recordSize)
        #expect(db.metadata.databaseType == "GeoDNS-Test")
        #expect(db.metadata.ipVersion == 6)
        #expect(db.metadata.buildEpoch == 1_764_115_200)
        #expect(db.metadata.description == ["en": "writer test"])
        #expect(db.ipv4Aliases.map(\.description) == ["::ffff:0:0/96", "2002::/16"])
        for (address, record, prefix) in Self.expectations {
            let got = try #require(db.lookup(address))
            #expect(got.record == record, "\(address)")
            #expect(got.prefixLength == prefix, "\(address)")
        }
    }

    @Test func enumerationReturnsTheSplitNetworks() throws {
        let (path, _) = try write(Self.writer())
        let db = try GeoIPDatabase(path: path)
        var seen: [String: GeoRecord] = [:]
        db.enumerateNetworks { seen[$0.description] = $1 }
        // /8 minus /16 = one network at each of /9.../16; /32 minus /48 likewise at /33.../48.
        #expect(seen.count == 8 + 1 + 1 + 1 + 16 + 1)
        #expect(seen["10.1.0.0/16"] == Self.tenOne)
        #expect(seen["10.128.0.0/9"] == Self.tenNet)
        #expect(seen["10.0.0.0/16"] == Self.tenNet)
        #expect(seen["192.0.2.7/32"] == Self.bare)
        #expect(seen["2001:db8:1::/48"] == Self.london)
        #expect(seen["2001:db8:8000::/33"] == Self.v6)
        // The ::ffff:0:0/96 and 2002::/16 aliases are not reported as IPv6 space.
        #expect(!seen.keys.contains { $0.hasPrefix("::ffff") || $0.hasPrefix("2002:") })
    }

    @Test(arguments: [24, 28, 32])
    func mmdblookupAndPythonReadIt(recordSize: Int) throws {
        let (path, _) = try write(Self.writer(recordSize: recordSize))
        let addresses = Self.expectations.map(\.0)
        for mode in ["mmdblookup", "python"] {
            let answers = try Support.oracle(mode, database: path, addresses)
            for (address, record, prefix) in Self.expectations where address.hasPrefix("::ffff") == false {
                let want = Support.Answer(prefix: prefix, continent: record?.continent, country: record?.country, subdivisions: record?.subdivisions ?? [])
                #expect(answers[address] == want, "\(mode) \(address)")
            }
        }
        // The whole record as Python decodes it: GeoIP2 City shape with exact values and types.
        let out = try Support.run("/usr/bin/env", ["python3", Support.oracleScript, "json", path], input: "81.2.69.142\n192.0.2.7\n")
        let lines = out.stdout.split(separator: "\n").map(String.init)
        #expect(lines == [
            "81.2.69.142\t24\t{\"autonomous_system_number\":20712,\"continent\":{\"code\":\"EU\"},\"country\":{\"iso_code\":\"GB\"},"
                + "\"location\":{\"latitude\":51.5142,\"longitude\":-0.0931},\"subdivisions\":[{\"iso_code\":\"ENG\"}]}",
            "192.0.2.7\t32\t{\"continent\":{\"code\":\"AN\"}}",
        ])
    }

    @Test func outputIsDeterministic() throws {
        let a = try Self.writer().serialize()
        var shuffled = MMDBWriter(databaseType: "GeoDNS-Test", description: ["en": "writer test"], buildEpoch: 1_764_115_200)
        for entry in Self.writer().entries.reversed() { shuffled.insert(entry.network, value: entry.value) }
        let b = try shuffled.serialize()
        #expect(a == b)
        #expect(a.count < 4000)
    }

    @Test func rejectsDuplicatesAndMappedNetworks() throws {
        var w = Self.writer()
        w.insert(Self.net("81.2.69.0/24"), record: Self.bare, line: 9)
        #expect(throws: GeoIPError(.invalidSource, path: "x", line: 9, "duplicate network 81.2.69.0/24")) { try w.serialize(path: "x") }
        var m = Self.writer()
        m.insert(Self.net("::ffff:10.0.0.0/104"), record: Self.bare, line: 3)
        let error = #expect(throws: GeoIPError.self) { try m.serialize(path: "x") }
        #expect(error?.description == "x:3: ::ffff:a00:0/104: IPv4-mapped and IPv4-compatible networks must be written as IPv4 networks")
        var six = Self.writer()
        six.insert(Self.net("2002:a00::/24"), record: Self.bare, line: 4)
        #expect(throws: GeoIPError(.invalidSource, path: "x", line: 4, "2002:a00::/24: 2002::/16 (6to4) is an alias of IPv4 space; write the IPv4 network instead")) {
            try six.serialize(path: "x")
        }
        let zero = MMDBWriter(databaseType: "T", buildEpoch: 0)
        #expect(throws: GeoIPError.self) { try zero.serialize() }
    }

    @Test func encodesEveryTypeAsPythonDecodesIt() throws {
        var w = MMDBWriter(databaseType: "GeoDNS-Types", buildEpoch: 1)
        w.insert(Self.net("198.51.100.0/24"), value: .map([
            "s": .string("héllo"), "d": .double(-1.5), "b": .bytes([1, 2, 255]), "u16": .uint16(65535), "u32": .uint32(0),
            "i32": .int32(-5), "u64": .uint64(1 << 40), "u128": .uint128(UInt128(1) << 100), "a": .array([.boolean(true), .boolean(false)]),
            "f": .float(0.25), "long": .string(String(repeating: "x", count: 300)),
        ]))
        let (path, _) = try write(w)
        let out = try Support.run("/usr/bin/env", ["python3", Support.oracleScript, "json", path], input: "198.51.100.1\n")
        let x = String(repeating: "x", count: 300)
        #expect(out.stdout == "198.51.100.1\t24\t{\"a\":[true,false],\"b\":\"BYTES\",\"d\":-1.5,\"f\":0.25,\"i32\":-5,\"long\":\"\(x)\",\"s\":\"h\\u00e9llo\",\"u128\":1267650600228229401496703205376,\"u16\":65535,\"u32\":0,\"u64\":1099511627776}\n")
    }
}

@Suite("IPv4-only trees and concurrency")
struct IPv4TreeAndConcurrencyTests {
    @Test func ipv4OnlyDatabase() throws {
        var w = MMDBWriter(databaseType: "GeoDNS-v4", buildEpoch: 1_764_115_200)
        w.ipVersion = 4
        w.insert(MMDBWriterTests.net("10.0.0.0/8"), record: MMDBWriterTests.tenNet)
        w.insert(MMDBWriterTests.net("10.1.0.0/16"), record: MMDBWriterTests.tenOne)
        w.insert(MMDBWriterTests.net("0.0.0.0/0"), record: MMDBWriterTests.bare)
        let dir = try Support.temporaryDirectory()
        let path = dir.appendingPathComponent("v4.mmdb").path
        try w.write(to: path)
        let db = try GeoIPDatabase(path: path)
        #expect(db.metadata.ipVersion == 4)
        #expect(db.lookup("10.1.2.3") == GeoLookup(record: MMDBWriterTests.tenOne, prefixLength: 16))
        #expect(db.lookup("10.200.0.1") == GeoLookup(record: MMDBWriterTests.tenNet, prefixLength: 9))
        #expect(db.lookup("192.0.2.1") == GeoLookup(record: MMDBWriterTests.bare, prefixLength: 1))
        #expect(db.lookup("::ffff:10.1.2.3") == GeoLookup(record: MMDBWriterTests.tenOne, prefixLength: 16))
        #expect(db.lookup("2001:db8::1") == GeoLookup(record: nil, prefixLength: 0))
        var networks: [String] = []
        db.enumerateNetworks { n, _ in networks.append(n.description) }
        #expect(networks.first == "0.0.0.0/5")
        #expect(networks.contains("10.1.0.0/16") && networks.contains("128.0.0.0/1"))
        // 0/0 split around 10/8 leaves one sibling at each of /1.../8; 10/8 split around
        // 10.1/16 one at each of /9.../16; plus 10.1.0.0/16 itself.
        #expect(networks.count == 8 + 8 + 1)
        // Coverage check instead of a hand count: the networks tile the whole IPv4 space.
        var total: UInt64 = 0
        db.enumerateNetworks { n, _ in total += UInt64(1) << UInt64(32 - n.prefixLength) }
        #expect(total == UInt64(1) << 32)
        for mode in ["mmdblookup", "python"] {
            let answers = try Support.oracle(mode, database: path, ["10.1.2.3", "10.200.0.1", "192.0.2.1"])
            #expect(answers["10.1.2.3"] == Support.Answer(prefix: 16, continent: "AS", country: "JP", subdivisions: []))
            #expect(answers["192.0.2.1"]?.prefix == 1)
        }
        var bad = w
        bad.insert(MMDBWriterTests.net("2001:db8::/32"), record: MMDBWriterTests.bare, line: 5)
        #expect(throws: GeoIPError(.invalidSource, path: "v4", line: 5, "2001:db8::/32: an IPv4 database cannot hold IPv6 networks")) {
            try bad.serialize(path: "v4")
        }
    }

    /// One GeoIPDatabase shared by many threads answers exactly as it does serially.
    @Test(.enabled(if: Support.geoLite2City != nil))
    func concurrentLookupsAgreeWithSerial() async throws {
        let db = try GeoIPDatabase(path: Support.geoLite2City ?? "")
        let addresses = Support.randomIPv4(20_000, seed: 99)
        let serial = addresses.map { db.lookup(ipv4: $0) }
        let results = await withTaskGroup(of: (Int, [GeoLookup]).self) { group in
            for part in 0..<4 {
                group.addTask {
                    (part, addresses.enumerated().filter { $0.offset % 4 == part }.map { db.lookup(ipv4: $0.element) })
                }
            }
            var parts: [Int: [GeoLookup]] = [:]
            for await (part, lookups) in group { parts[part] = lookups }
            return parts
        }
        for part in 0..<4 {
            let expected = serial.enumerated().filter { $0.offset % 4 == part }.map(\.element)
            #expect(results[part] == expected)
        }
    }
}
