// `make bench-geoip`: lookups per second on GeoLite2-City for random IPv4 addresses, through
// the Swift wrapper (GeoIPDatabase.lookup(ipv4:) -> GeoRecord) and through the same loop
// written in C against libmaxminddb (bench/geoip_c.c, gcc -O2), in one run, alternating
// rounds, with the ratio. Both sides use xorshift32 from the same seed and compute the same
// checksum, so equal checksums show they answered identically.
//
// usage: bench-geoip --db GeoLite2-City.mmdb --c-loop PATH [--count 5000000] [--rounds 3]
import Foundation
import GeoIP

func printError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

struct Options {
    var database = ""
    var cLoop = ""
    var count = 5_000_000
    var rounds = 3

    init(_ arguments: [String]) {
        var i = 1
        while i < arguments.count {
            let value = i + 1 < arguments.count ? arguments[i + 1] : ""
            switch arguments[i] {
            case "--db": database = value
            case "--c-loop": cLoop = value
            case "--count": count = Int(value) ?? count
            case "--rounds": rounds = Int(value) ?? rounds
            default: printError("unknown argument \(arguments[i])\n"); exit(2)
            }
            i += 2
        }
    }
}

struct XorShift32 {
    var state: UInt32 = 2_463_534_242
    @inline(__always) mutating func next() -> UInt32 {
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return state
    }
}

/// The Swift loop: what a GeoDNS query costs in the wrapper (tree walk + record decode).
func swiftLoop(_ db: GeoIPDatabase, count: Int) -> (rate: Double, checksum: UInt64) {
    var rng = XorShift32()
    var checksum: UInt64 = 0
    let clock = ContinuousClock()
    let elapsed = clock.measure {
        for _ in 0..<count {
            let result = db.lookup(ipv4: rng.next())
            checksum &+= UInt64(result.prefixLength)
            guard let r = result.record else { continue }
            if let c = r.continent?.utf8.first { checksum &+= UInt64(c) }
            if let c = r.country?.utf8.first { checksum &+= UInt64(c) }
            checksum &+= UInt64(min(r.subdivisions.count, 2))
            if r.latitude != nil { checksum &+= 3 }
            if r.longitude != nil { checksum &+= 5 }
            if let asn = r.asn { checksum &+= UInt64(asn) }
        }
    }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (Double(count) / seconds, checksum)
}

func cLoop(_ program: String, database: String, count: Int, mode: [String] = []) -> (rate: Double, checksum: UInt64)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = [database, String(count)] + mode
    let pipe = Pipe()
    process.standardOutput = pipe
    do { try process.run() } catch { printError("cannot run \(program): \(error)\n"); return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let fields = String(decoding: data, as: UTF8.self).split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    guard process.terminationStatus == 0, fields.count == 2, let rate = Double(fields[0]), let checksum = UInt64(fields[1]) else { return nil }
    return (rate, checksum)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

func millions(_ rate: Double) -> String { String(format: "%.2f M/s", rate / 1e6) }

let options = Options(CommandLine.arguments)
guard !options.database.isEmpty else {
    printError("usage: bench-geoip --db GeoLite2-City.mmdb --c-loop PATH [--count N] [--rounds R]\n")
    exit(2)
}
let db: GeoIPDatabase
do { db = try GeoIPDatabase(path: options.database) } catch { printError("\(error)\n"); exit(1) }
print("bench-geoip: \(db.metadata.databaseType) (\(db.metadata.nodeCount) nodes), \(options.count) random IPv4 per round, \(options.rounds) rounds alternating C/Swift")

var swiftRates: [Double] = [], cRates: [Double] = [], cTreeRates: [Double] = []
var swiftSum: UInt64 = 0, cSum: UInt64 = 0
for round in 1...options.rounds {
    if !options.cLoop.isEmpty {
        guard let c = cLoop(options.cLoop, database: options.database, count: options.count) else {
            printError("the C loop failed\n"); exit(1)
        }
        cRates.append(c.rate); cSum = c.checksum
        if let tree = cLoop(options.cLoop, database: options.database, count: options.count, mode: ["tree"]) { cTreeRates.append(tree.rate) }
    }
    let s = swiftLoop(db, count: options.count)
    swiftRates.append(s.rate); swiftSum = s.checksum
    print("  round \(round): C \(cRates.last.map(millions) ?? "-")  Swift \(millions(s.rate))")
}
print("Swift  GeoIPDatabase.lookup(ipv4:) -> GeoRecord:   median \(millions(median(swiftRates)))  checksum \(swiftSum)")
if !options.cLoop.isEmpty {
    print("C      MMDB_lookup_sockaddr + 7x MMDB_aget_value: median \(millions(median(cRates)))  checksum \(cSum)")
    print("C      MMDB_lookup_sockaddr only (tree walk):      median \(millions(median(cTreeRates)))")
    let ratio = median(cRates) / median(swiftRates)
    print(String(format: "ratio  Swift time / C time = %.2fx (target <= 1.20x)%@", ratio, swiftSum == cSum ? "" : "  CHECKSUMS DIFFER"))
    if swiftSum != cSum { exit(1) }
}
