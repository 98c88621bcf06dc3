import Foundation
import Testing
@testable import GeoIP

@Suite("GeoLite2-City", .enabled(if: Support.geoLite2City != nil, "GeoLite2-City not installed (make deps)"))
struct GeoLite2Tests {
    let path = Support.geoLite2City ?? ""

    @Test func opensAndReadsMetadata() throws {
        let db = try GeoIPDatabase(path: path)
        #expect(db.metadata.databaseType == "GeoLite2-City")
        #expect(db.metadata.ipVersion == 6)
        #expect(db.metadata.binaryFormatMajor == 2)
        #expect(db.metadata.recordSize == 28)
        #expect(db.metadata.nodeCount == 3_606_567)
        #expect(db.metadata.buildEpoch == 1_530_653_216)
        #expect(db.metadata.description["en"] == "GeoLite2 City database")
        #expect(db.metadata.languages.contains("en"))
        #expect(db.ipv4Aliases.map(\.description) == ["::ffff:0:0/96", "2001::/32", "2002::/16"])
    }

    @Test func knownAddresses() throws {
        let db = try GeoIPDatabase(path: path)
        let google = try #require(db.lookup("8.8.8.8"))
        #expect(google.record?.continent == "NA")
        #expect(google.record?.country == "US")
        #expect(google.prefixLength == 19)
        let gb = try #require(db.lookup("81.2.69.142"))
        #expect(gb.record?.continent == "EU")
        #expect(gb.record?.country == "GB")
        #expect(gb.record?.subdivisions == ["ENG", "BEN"])
        #expect(gb.record?.qualifiedSubdivisions == ["GB-ENG", "GB-BEN"])
        #expect(gb.prefixLength == 23)
        #expect(gb.record?.latitude != nil)
        // v4-mapped answered as IPv4 with an IPv4 prefix length.
        let mapped = try #require(db.lookup("::ffff:81.2.69.142"))
        #expect(mapped == gb)
        #expect(db.lookup("not an address") == nil)
        #expect(db.lookup("127.0.0.1")?.record == nil)
    }
}
