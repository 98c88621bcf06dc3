import Foundation
import Testing

/// The hostile-traffic program (Sources/hostile) with a reduced count: `make hostile` runs the
/// full 100,000 datagrams. It starts its own daemon and checks every valid answer byte for byte,
/// liveness, RSS growth and that the counters account for every datagram.
@Suite("hostile traffic end to end", .serialized)
struct HostileEndToEndTests {
    static var hostile: String {
        URL(fileURLWithPath: Paths.geodns).deletingLastPathComponent().appendingPathComponent("hostile").path
    }

    @Test("10,000 hostile datagrams: valid answers exact, daemon alive, RSS bounded, every datagram counted")
    func hostileTraffic() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.hostile), "build the hostile product first (swift build)")
        let result = run(Self.hostile, ["--count", "10000", "--geodns", Paths.geodns, "--seconds", "90", "--seed", "6"], timeout: 150)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("hostile: PASS"), "\(result.stdout)")
    }
}
