import Foundation
import Testing
@testable import GeoIP

/// Lookups agree with libmaxminddb's own mmdblookup and with Python maxminddb on GeoLite2-City:
/// continent, country, subdivisions and the matched prefix length (in the queried family).
@Suite("GeoLite2-City agreement", .enabled(if: Support.geoLite2City != nil, "GeoLite2-City not installed (make deps)"))
struct GeoLite2AgreementTests {
    let path = Support.geoLite2City ?? ""

    func compare(_ db: GeoIPDatabase, _ addresses: [String], oracle mode: String) throws -> Int {
        let expected = try Support.oracle(mode, database: path, addresses)
        #expect(expected.count == Set(addresses).count)
        var withData = 0
        for address in addresses {
            let got = try #require(db.lookup(address))
            let want = try #require(expected[address], "oracle has no answer for \(address)")
            #expect(Support.Answer(got) == want, "\(address): GeoIP \(Support.Answer(got)) vs \(mode) \(want)")
            if got.record != nil { withData += 1 }
        }
        return withData
    }

    @Test func randomIPv4AgreesWithMmdblookup() throws {
        let db = try GeoIPDatabase(path: path)
        let addresses = Support.randomIPv4(1000, seed: 0x1234_5678).map(IPAddressText.format(ipv4:))
        let withData = try compare(db, addresses, oracle: "mmdblookup")
        print("mmdblookup agreement: 1000 random IPv4, \(withData) with data")
        #expect(withData > 500)
    }

    @Test func randomIPv6AgreesWithMmdblookup() throws {
        let db = try GeoIPDatabase(path: path)
        let addresses = Support.randomIPv6(1000, seed: 0x9e37_79b9).map(IPAddressText.format(ipv6:))
        let withData = try compare(db, addresses, oracle: "mmdblookup")
        print("mmdblookup agreement: 1000 random IPv6, \(withData) with data")
        #expect(withData > 60)
    }

    @Test func manyRandomAddressesAgreeWithPythonMaxminddb() throws {
        let db = try GeoIPDatabase(path: path)
        let v4 = Support.randomIPv4(20_000, seed: 42).map(IPAddressText.format(ipv4:))
        let v6 = Support.randomIPv6(20_000, seed: 4242).map(IPAddressText.format(ipv6:))
        let withData = try compare(db, v4 + v6, oracle: "python")
        print("python maxminddb agreement: 20000 IPv4 + 20000 IPv6, \(withData) with data")
    }
}
