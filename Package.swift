// swift-tools-version:6.0
// GeoDNS: an authoritative GeoDNS nameserver. Target layout follows ../shared/DESIGN.md:
// DNSWire (wire format, stdlib only) <- GeoIP (libmaxminddb) <- Policy (YAML -> catalog)
// <- Authority (pure answer engine) <- Server (NIO transport) <- geodns (CLI).
import PackageDescription

/// `geodns --version`'s commit: GEODNS_GIT_COMMIT from the Makefile (`git rev-parse HEAD`, plus
/// `-dirty`), checked to be hex so it is safe as a C string; absent (plain `swift build`): "unknown".
let gitCommit: String? = Context.environment["GEODNS_GIT_COMMIT"].flatMap { value in
    let hex = value.hasSuffix("-dirty") ? String(value.dropLast(6)) : value
    return !hex.isEmpty && hex.count <= 64 && hex.allSatisfy({ $0.isHexDigit }) ? value : nil
}

let package = Package(
    name: "GeoDNS",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "geodns", targets: ["geodns"]),
        .library(name: "DNSWire", targets: ["DNSWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The control endpoint: Prometheus exposition (with swift-metrics' CoreMetrics) and the
        // policy file's SHA-256 in /v1/status.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // Wire format: standard library only.
        .target(name: "DNSWire"),
        .systemLibrary(name: "CMaxMindDB", pkgConfig: "libmaxminddb", providers: [.apt(["libmaxminddb-dev"])]),
        .target(name: "GeoIP", dependencies: ["CMaxMindDB"]),
        .target(name: "Policy", dependencies: [
            "DNSWire", "GeoIP", .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "Authority", dependencies: ["DNSWire", "Policy"]),
        // recvmmsg/sendmmsg for the UDP workers (Glibc's module does not expose them).
        .target(name: "CSocket"),
        .target(name: "Server", dependencies: [
            "DNSWire", "GeoIP", "Policy", "Authority", "CSocket",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Atomics", package: "swift-atomics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "CBuildInfo", cSettings: gitCommit.map { [.define("GEODNS_GIT_COMMIT", to: "\"\($0)\"")] } ?? []),
        .executableTarget(name: "geodns", dependencies: [
            "DNSWire", "GeoIP", "Policy", "Authority", "Server", "CBuildInfo",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Benchmarks and fuzzers are programs (never timed assertions inside unit tests).
        // Counting malloc & co. for the benchmarks (COUNTING_MALLOC_LDFLAGS in the Makefile).
        .target(name: "BenchSupport"),
        .executableTarget(name: "bench-wire", dependencies: ["DNSWire", "BenchSupport"]),
        .executableTarget(name: "bench-geoip", dependencies: ["GeoIP"]),
        .executableTarget(name: "fuzz-wire", dependencies: ["DNSWire", "FuzzSupport"]),
        // The three fuzz targets' replay mode (FUZZING off): one reader for crash files and corpora.
        .target(name: "FuzzSupport"),
        // Engine cost per stage, fast vs general path, callgrind + malloc counts (mk/perf.mk).
        .executableTarget(name: "bench-engine", dependencies: ["Authority", "Policy", "DNSWire", "CCallgrind", "BenchSupport"], exclude: ["CCallgrind"]),
        .target(name: "CCallgrind", path: "Sources/bench-engine/CCallgrind"),
        // Hardening (mk/hardening.mk): policy loader and whole-query-path fuzzers, hostile traffic.
        .executableTarget(name: "fuzz-policy", dependencies: ["Policy", "GeoIP", "FuzzSupport"]),
        .executableTarget(name: "fuzz-message", dependencies: ["Authority", "Policy", "GeoIP", "DNSWire", "FuzzSupport"]),
        .executableTarget(name: "hostile", dependencies: ["Authority", "Policy", "DNSWire"]),
        // What several test targets share (the repository root, a seeded generator).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "DNSWireTests", dependencies: ["DNSWire", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "GeoIPTests", dependencies: ["GeoIP", "TestSupport"]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "GeoIP", "DNSWire", "TestSupport"]),
        .testTarget(name: "AuthorityTests", dependencies: ["Authority", "Policy", "GeoIP", "DNSWire", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["DNSWire", "TestSupport"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "Authority", "Policy", "GeoIP", "DNSWire", "TestSupport"]),
    ]
)
