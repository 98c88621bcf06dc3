import Foundation
import Testing
@testable import GeoIP
import TestSupport

/// data/geodns-demo.mmdb: built from data/networks.csv, answers the scenario's client subnets.
@Suite("data/ demo database")
struct DemoDatabaseTests {
    static let root = Repository.root
    static let database = root.appendingPathComponent("data/geodns-demo.mmdb").path
    static let source = root.appendingPathComponent("data/networks.csv").path

    /// ../shared/lab/scenario.md "Client subnets used in checks".
    @Test(arguments: [
        ("81.2.69.0/24", "EU", "GB"), ("8.8.8.0/24", "NA", "US"), ("1.0.16.0/24", "AS", "JP"),
        ("200.160.0.0/24", "SA", "BR"), ("203.2.218.0/24", "OC", "AU"),
        ("2a02:26f0::/48", "EU", nil), ("2001:218::/48", "AS", "JP"), ("2001:4860::/48", "NA", "US"),
    ] as [(String, String, String?)])
    func scenarioSubnets(subnet: String, continent: String, country: String?) throws {
        let db = try GeoIPDatabase(path: Self.database)
        let network = try #require(GeoNetwork(subnet))
        // First and last address of the subnet, and the network's own prefix.
        let last = network.address | ~GeoNetwork.mask(network.prefixLength, width: network.width) & GeoNetwork.mask(network.width, width: network.width)
        for address in [network.address, last] {
            let result = network.family == .v4 ? db.lookup(ipv4: UInt32(truncatingIfNeeded: address)) : db.lookup(ipv6: address)
            #expect(result.record?.continent == continent, "\(subnet)")
            #expect(result.record?.country == country, "\(subnet)")
            #expect(result.prefixLength == network.prefixLength, "\(subnet)")
        }
        #expect(db.lookup("127.0.0.1")?.record == nil)
    }

    @Test func subdivisionsAndEveryContinentInBothFamilies() throws {
        let db = try GeoIPDatabase(path: Self.database)
        #expect(db.lookup("162.243.10.1")?.record?.qualifiedSubdivisions == ["US-NY"])
        #expect(db.lookup("52.1.2.3")?.record?.qualifiedSubdivisions == ["US-VA"])
        #expect(db.lookup("2600:1f18::1")?.record?.qualifiedSubdivisions == ["US-VA"])
        #expect(db.lookup("8.8.8.8")?.record?.asn == 15169)
        var continents: [GeoFamily: Set<String>] = [:]
        var count = 0
        db.enumerateNetworks { network, record in
            count += 1
            if let c = record.continent { continents[network.family, default: []].insert(c) }
        }
        let all: Set<String> = ["AF", "AN", "AS", "EU", "NA", "OC", "SA"]
        #expect(continents[.v4] == all)
        #expect(continents[.v6] == all)
        #expect(count == 27)
    }

    /// `make data` checks the same thing: the committed database is what its source builds.
    @Test func committedDatabaseIsRebuiltByteForByte() throws {
        let source = try MMDBSource.load(path: Self.source)
        let rebuilt = try source.writer(path: Self.source).serialize()
        let committed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.database)))
        #expect(rebuilt == committed)
    }

    /// networks (dump as CSV) -> build gives back the same bytes.
    @Test func dumpAndRebuildRoundTrip() throws {
        let db = try GeoIPDatabase(path: Self.database)
        let text = MMDBSource(database: db).csv()
        let reparsed = try MMDBSource.parseCSV(text, path: "dump.csv")
        let rebuilt = try reparsed.writer(path: "dump.csv").serialize()
        let committed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.database)))
        #expect(rebuilt == committed)
    }

    @Test func independentReadersAgree() throws {
        let addresses = ["81.2.69.142", "8.8.8.8", "1.0.16.1", "200.160.0.1", "203.2.218.9", "2a02:26f0::1", "2001:218::1",
                         "2001:4860::8888", "162.243.1.1", "2600:1f18::1", "198.18.0.1", "2001:db8:a9::1", "127.0.0.1", "2001:db8::1"]
        let db = try GeoIPDatabase(path: Self.database)
        for mode in ["mmdblookup", "python"] {
            let answers = try Support.oracle(mode, database: Self.database, addresses)
            for address in addresses {
                let got = try #require(db.lookup(address))
                #expect(answers[address] == Support.Answer(got), "\(mode) \(address)")
            }
        }
    }
}

@Suite("CSV source")
struct MMDBSourceTests {
    @Test func parsesColumnsInAnyOrderWithQuotesAndDirectives() throws {
        let text = """
            # build_epoch: 1700000000
            # database_type: Office
            # a comment: with a colon
            country , network,asn,subdivision,latitude,longitude,continent
            "US","192.0.2.0/24",AS64500,US-NY;US-BK,40.7,-74.0,na

            JP,2001:db8::/32,,13,,,AS\r
            """
        let source = try MMDBSource.parseCSV(text, path: "office.csv")
        #expect(source.buildEpoch == 1_700_000_000)
        #expect(source.databaseType == "Office")
        #expect(source.rows.count == 2)
        #expect(source.rows[0].record == GeoRecord(continent: "NA", country: "US", subdivisions: ["NY", "BK"], latitude: 40.7, longitude: -74.0, asn: 64500))
        #expect(source.rows[0].network.description == "192.0.2.0/24")
        #expect(source.rows[1].record == GeoRecord(continent: "AS", country: "JP", subdivisions: ["13"]))
        #expect(source.rows[1].line == 7)
    }

    @Test(arguments: [
        ("network,color\n", "s.csv:1: unknown column 'color' (columns: network, continent, country, subdivision, asn, latitude, longitude)"),
        ("country\nGB\n", "s.csv:1: the header row has no 'network' column"),
        ("network,network\n", "s.csv:1: column 'network' appears twice"),
        ("", "s.csv: no header row (e.g. network,continent,country)"),
        ("network,country\n10.0.0.0/8\n", "s.csv:2: 1 fields, but the header names 2"),
        ("network\n10.0.0.1/8\n", "s.csv:2: network '10.0.0.1/8': bad prefix length, or bits set past it (write the network address)"),
        ("network\n10.0.0.0/33\n", "s.csv:2: network '10.0.0.0/33': bad prefix length, or bits set past it (write the network address)"),
        ("network\nten/8\n", "s.csv:2: network 'ten/8' is not an IPv4 or IPv6 network (e.g. 192.0.2.0/24, 2001:db8::/32)"),
        ("network,continent\n10.0.0.0/8,XX\n", "s.csv:2: continent 'XX' is not one of AF AN AS EU NA OC SA"),
        ("network,country\n10.0.0.0/8,GBR\n", "s.csv:2: country 'GBR' is not an ISO 3166-1 alpha-2 code (e.g. GB)"),
        ("network,country,subdivision\n10.0.0.0/8,GB,US-NY\n", "s.csv:2: subdivision 'US-NY' is not in country GB"),
        ("network,asn\n10.0.0.0/8,AS-1\n", "s.csv:2: asn 'AS-1' is not a number (e.g. 15169 or AS15169)"),
        ("network,latitude,longitude\n10.0.0.0/8,91,0\n", "s.csv:2: latitude '91' is not a number in -90...90"),
        ("network,latitude\n10.0.0.0/8,1\n", "s.csv:2: latitude and longitude go together"),
        ("# build_epoch: soon\nnetwork\n", "s.csv:1: build_epoch must be a positive number of seconds, not 'soon'"),
        ("network\n\"10.0.0.0/8\n", "s.csv:2: unterminated quoted field"),
    ])
    func reportsTheLineAndWhatIsWrong(text: String, message: String) {
        #expect(throws: Error.self) { try MMDBSource.parseCSV(text, path: "s.csv") }
        do {
            _ = try MMDBSource.parseCSV(text, path: "s.csv")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func duplicateNetworksNameBothLines() throws {
        let source = try MMDBSource.parseCSV("# build_epoch: 1\nnetwork,country\n10.0.0.0/8,US\n10.0.0.0/8,GB\n", path: "d.csv")
        #expect(throws: GeoIPError(.invalidSource, path: "d.csv", line: 4, "duplicate network 10.0.0.0/8 (first on line 3)")) {
            try source.writer(path: "d.csv").serialize(path: "d.csv")
        }
        let noEpoch = try MMDBSource.parseCSV("network\n10.0.0.0/8\n", path: "e.csv")
        #expect(throws: GeoIPError(.invalidSource, path: "e.csv", "no build_epoch: add a '# build_epoch: SECONDS' line or pass --build-epoch")) {
            try noEpoch.writer(path: "e.csv")
        }
    }
}
