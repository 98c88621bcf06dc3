import Foundation
import Testing
@testable import GeoIP

@Suite("GeoLite2-City enumeration", .enabled(if: Support.geoLite2City != nil, "GeoLite2-City not installed (make deps)"))
struct GeoLite2EnumerationTests {
    let path = Support.geoLite2City ?? ""

    /// Every network once: within each family the networks come in strictly ascending,
    /// non-overlapping order (which rules out visiting one twice), their count matches the
    /// independent count, and a sample agrees with Python maxminddb and mmdblookup.
    @Test func visitsEveryNetworkOnce() throws {
        let db = try GeoIPDatabase(path: path)
        var count = [GeoFamily.v4: 0, .v6: 0]
        var nextFree: [GeoFamily: UInt128] = [:]   // first address after the previous network
        var wrapped: Set<GeoFamily> = []
        var disorder = 0
        var sample: [(GeoNetwork, GeoRecord)] = []
        var seen = 0
        let clock = ContinuousClock()
        let start = clock.now
        db.enumerateNetworks { network, record in
            count[network.family, default: 0] += 1
            if let free = nextFree[network.family], network.address < free || wrapped.contains(network.family) { disorder += 1 }
            let size = UInt128(1) << (network.width - network.prefixLength)
            let last = network.address + (size - 1)
            if last == (network.width == 32 ? UInt128(UInt32.max) : UInt128.max) { wrapped.insert(network.family) }
            nextFree[network.family] = last &+ 1
            seen += 1
            if seen % 1500 == 0 { sample.append((network, record)) }
        }
        let elapsed = clock.now - start
        let total = count[.v4, default: 0] + count[.v6, default: 0]
        // This build's time (debug under `swift test`); `geodns mmdb networks --count` times a release walk.
        print("GeoLite2-City walk: \(total) networks (\(count[.v4, default: 0]) IPv4, \(count[.v6, default: 0]) IPv6) in \(elapsed)")
        #expect(disorder == 0)
        // Python maxminddb 3.2.0 iterating the same file (same alias rule) yields 3,428,122.
        #expect(total == 3_428_122)
        #expect(count[.v4, default: 0] > 1_000_000)
        #expect(count[.v6, default: 0] > 100_000)

        // Sample: the first address of each sampled network must be reported with exactly that
        // network's prefix and record by the independent readers.
        func text(_ n: GeoNetwork) -> String {
            n.family == .v4 ? IPAddressText.format(ipv4: UInt32(truncatingIfNeeded: n.address)) : IPAddressText.format(ipv6: n.address)
        }
        let python = try Support.oracle("python", database: path, sample.map { text($0.0) })
        for (network, record) in sample {
            let want = Support.Answer(prefix: network.prefixLength, continent: record.continent, country: record.country, subdivisions: record.subdivisions)
            #expect(python[text(network)] == want, "\(network)")
        }
        let few = Array(sample.enumerated().filter { $0.offset % 20 == 0 }.map(\.element))
        let mmdb = try Support.oracle("mmdblookup", database: path, few.map { text($0.0) })
        for (network, record) in few {
            let want = Support.Answer(prefix: network.prefixLength, continent: record.continent, country: record.country, subdivisions: record.subdivisions)
            #expect(mmdb[text(network)] == want, "\(network)")
        }
        print("enumeration sample: \(sample.count) networks checked with python maxminddb, \(few.count) with mmdblookup")
    }
}
