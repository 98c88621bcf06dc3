import Foundation
import Testing
@testable import GeoIP
import TestSupport

/// Shared helpers: locating GeoLite2-City (PyPI maxminddb-geolite2, installed by `make deps`)
/// and running the independent readers (mmdblookup, Python maxminddb).
enum Support {
    /// Path of GeoLite2-City.mmdb, found with the one-liner the scenario gives.
    static let geoLite2City: String? = {
        let script = "import _maxminddb_geolite2,os;print(os.path.join(os.path.dirname(_maxminddb_geolite2.__file__),\"GeoLite2-City.mmdb\"))"
        guard let out = try? run("/usr/bin/env", ["python3", "-c", script]), out.status == 0 else { return nil }
        let path = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }()

    struct Output { var status: Int32; var stdout: String; var stderr: String }

    /// Runs a program to completion; stdin is written from `input` (for batch work).
    static func run(_ executable: String, _ arguments: [String], input: String? = nil) throws -> Output {
        // A child that exits early must not kill the test process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        try process.run()
        // Read both pipes concurrently with writing stdin, so no side can fill up and block.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        DispatchQueue.global().async(group: group) { outData = outPipe.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = errPipe.fileHandleForReading.readDataToEndOfFile() }
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try inPipe.fileHandleForWriting.close()
        group.wait()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    static func python(_ script: String, input: String? = nil) throws -> Output {
        try run("/usr/bin/env", ["python3", "-c", script], input: input)
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("geoip-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// xorshift32: the same sequence as the benchmarks, deterministic across runs.
    struct XorShift32 {
        var state: UInt32
        mutating func next() -> UInt32 {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return state
        }
        mutating func next128() -> UInt128 {
            var value: UInt128 = 0
            for _ in 0..<4 { value = value << 32 | UInt128(next()) }
            return value
        }
    }
}

extension Support {
    /// scripts/geoip/oracle.py, found from this file's location in the checkout.
    static let oracleScript: String = {
        Repository.path("scripts/geoip/oracle.py")
    }()

    /// One oracle answer: prefix length and the fields compared.
    struct Answer: Equatable, CustomStringConvertible {
        var prefix: Int?
        var continent: String?
        var country: String?
        var subdivisions: [String]
        var description: String { "/\(prefix.map(String.init) ?? "-") \(continent ?? "-") \(country ?? "-") \(subdivisions)" }

        init(prefix: Int?, continent: String?, country: String?, subdivisions: [String]) {
            self.prefix = prefix; self.continent = continent; self.country = country; self.subdivisions = subdivisions
        }
        init(_ lookup: GeoLookup) {
            self.init(prefix: lookup.prefixLength, continent: lookup.record?.continent,
                      country: lookup.record?.country, subdivisions: lookup.record?.subdivisions ?? [])
        }
    }

    /// Asks scripts/geoip/oracle.py (mode "python" or "mmdblookup") about `addresses`.
    static func oracle(_ mode: String, database: String, _ addresses: [String]) throws -> [String: Answer] {
        let out = try run("/usr/bin/env", ["python3", oracleScript, mode, database], input: addresses.joined(separator: "\n") + "\n")
        guard out.status == 0 else { throw OracleFailure(message: out.stderr) }
        var answers: [String: Answer] = [:]
        for line in out.stdout.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 5 else { throw OracleFailure(message: "bad oracle line: \(line)") }
            func opt(_ s: String) -> String? { s == "-" ? nil : s }
            answers[f[0]] = Answer(prefix: Int(f[1]), continent: opt(f[2]), country: opt(f[3]),
                                   subdivisions: f[4] == "-" ? [] : f[4].split(separator: ",").map(String.init))
        }
        return answers
    }

    struct OracleFailure: Error, CustomStringConvertible { var message: String; var description: String { message } }

    /// Random IPv4 addresses (xorshift32 from `seed`).
    static func randomIPv4(_ count: Int, seed: UInt32) -> [UInt32] {
        var rng = XorShift32(state: seed)
        return (0..<count).map { _ in rng.next() }
    }

    /// Random IPv6 addresses: a quarter anywhere in 2000::/3, the rest under the /16s that
    /// GeoLite2-City covers best (GeoLite2's IPv6 space is sparse: ~3% of 2000::/3 has data,
    /// 10-25% of these /16s).
    static func randomIPv6(_ count: Int, seed: UInt32) -> [UInt128] {
        var rng = XorShift32(state: seed)
        let allocated: [UInt128] = [0x2001, 0x2a01, 0x2400, 0x2a06, 0x2a07, 0x2a02, 0x2a05, 0x2a00, 0x2a04,
                                    0x2800, 0x2a0a, 0x2401, 0x2600, 0x2804]
        return (0..<count).map { i in
            let random = rng.next128()
            if i % 4 == 0 { return (random & (~UInt128(0) >> 3)) | (UInt128(1) << 125) }
            let top = allocated[Int(rng.next() % UInt32(allocated.count))]
            return (top << 112) | (random & (~UInt128(0) >> 16))
        }
    }
}
