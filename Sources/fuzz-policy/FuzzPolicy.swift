// fuzz-policy: libFuzzer target for the YAML policy loader (Policy.PolicyLoader). Invariants
// checked on every input:
//  1. nothing traps (the sanitizers watch reads; a stack overflow on deep nesting is a crash);
//  2. the loader either returns a catalog or a PolicyError with at least one diagnostic, each
//     with a 1-based line and column and a non-empty message (an operator must be told where);
//  3. loading is deterministic: the same text gives the same diagnostics (or the same counts);
//     checked on every 8th input (the first replayed input included).
// The input is taken as UTF-8 text (invalid sequences replaced, as a file read would refuse
// them anyway) and compiled against the project's demo database, so region and steering
// compilation is exercised too. A broken invariant calls `abort()` (harness only).
//
// Built with -DFUZZING (mk/hardening.mk) it exports LLVMFuzzerTestOneInput; otherwise it is a
// replayer: `fuzz-policy FILE|DIR...` runs every file through the same checks.
import GeoIP
import FuzzSupport
import Policy
#if canImport(Glibc)
import Glibc
#endif

enum FuzzPolicy {
    /// data/geodns-demo.mmdb of this checkout (from this file's path), opened once.
    static let database: GeoIPDatabase? = {
        var path = #filePath
        for _ in 0..<3 {
            if let slash = path.lastIndex(of: "/") { path = String(path[..<slash]) }
        }
        return try? GeoIPDatabase(path: path + "/data/geodns-demo.mmdb")
    }()

    /// The replayed file, named when an invariant breaks.
    nonisolated(unsafe) static var current = ""

    static func fail(_ what: String) -> Never {
        // stderr, unbuffered: abort() would lose a buffered stdout line.
        let line = "fuzz-policy invariant broken: \(what)\(current.isEmpty ? "" : " (input: \(current))")\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        abort()
    }

    /// "" when it loads (then the zone count), else the diagnostics, one a line.
    static func outcome(_ text: String) -> String {
        do {
            let catalog = try PolicyLoader.load(yaml: text, path: "fuzz.yaml", database: database)
            return "ok zones=\(catalog.zones.count) regions=\(catalog.regions.count) tests=\(catalog.tests.count)"
        } catch {
            if error.diagnostics.isEmpty { fail("a PolicyError without diagnostics") }
            for d in error.diagnostics {
                if d.line < 1 || d.column < 1 { fail("diagnostic without a 1-based position: \(d)") }
                if d.message.isEmpty { fail("diagnostic without a message at \(d.line):\(d.column)") }
            }
            return error.description
        }
    }

    nonisolated(unsafe) static var runs = 0

    static func check(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let first = outcome(text)
        // Determinism on every 8th input only: a second load halves the fuzzer's speed.
        runs &+= 1
        if runs % 8 == 1, outcome(text) != first { fail("loading the same text twice gave different results") }
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTest(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes: [UInt8] = (start != nil && count > 0) ? Array(UnsafeRawBufferPointer(start: start, count: count)) : []
    FuzzPolicy.check(bytes)
    return 0
}
#else
@main struct FuzzPolicyReplay {
    static func main() {
        FuzzReplay.main("fuzz-policy", note: { " (database: \(FuzzPolicy.database == nil ? "missing" : "demo"))" }) { path, bytes in
            FuzzPolicy.current = path
            FuzzPolicy.check(bytes)
        }
    }
}
#endif
