// The replay side shared by the three libFuzzer targets (fuzz-wire, fuzz-policy, fuzz-message).
// Built without -DFUZZING, each target is a replayer: `fuzz-X FILE|DIR...` runs its `check` on
// every input (a crash file, a corpus directory) outside libFuzzer, to reproduce or bisect.
#if canImport(Glibc)
import Glibc
#endif

public enum FuzzReplay {
    /// Runs `check(path, bytes)` on every file named by the command line (directories: their
    /// files, sorted; hidden files and `.expect` sidecars skipped), then prints one summary line.
    /// With `hexFixtures`, `.hex` files are decoded first ('#' comment lines, hex digits).
    /// Exits 2 on an unreadable file; a broken invariant is the target's own `abort()`.
    public static func main(_ name: String, hexFixtures: Bool = false, note: () -> String = { "" },
                            check: (String, [UInt8]) -> Void) {
        var count = 0
        for arg in CommandLine.arguments.dropFirst() {
            for path in files(arg) {
                guard let raw = readFile(path) else { print("cannot read \(path)"); exit(2) }
                check(path, hexFixtures && path.hasSuffix(".hex") ? decodeHex(raw) : raw)
                count += 1
            }
        }
        print("\(name) replay: \(count) inputs, all invariants held\(note())")
    }

    static func readFile(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// `.hex` fixtures: '#' lines are comments, the rest hex digits.
    static func decodeHex(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var pending: UInt8? = nil
        var comment = false
        for c in text {
            if c == UInt8(ascii: "\n") { comment = false; continue }
            if comment { continue }
            if c == UInt8(ascii: "#") { comment = true; continue }
            let v: UInt8
            switch c {
            case 0x30...0x39: v = c - 0x30
            case 0x61...0x66: v = c - 0x61 + 10
            case 0x41...0x46: v = c - 0x41 + 10
            default: continue
            }
            if let p = pending { out.append(p << 4 | v); pending = nil } else { pending = v }
        }
        return out
    }

    static func files(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [path] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") || name.hasSuffix(".expect") { continue }
            out.append(path + "/" + name)
        }
        return out.sorted()
    }
}
