import DNSWire
import Yams

/// A YAML node (Yams), not to be confused with the catalog's `Node`.
typealias YNode = Yams.Node

/// Walks a composed YAML tree (`Yams.compose`) and collects diagnostics with the position of
/// the node at fault, instead of stopping at the first one: `geodns check` shows every problem
/// it can find in one run. Only the scalar *text* is ever read (never Yams' YAML 1.1 type
/// guessing), so `NO` stays Norway and `010` stays a string until we parse it ourselves.
final class YAMLReader {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    /// Things that load but are probably not what the author meant (`geodns check` prints them).
    private(set) var warnings: [Diagnostic] = []

    /// Targets written relative (no final dot) in the zone being read, checked once its names
    /// are known (`PolicyLoader.warnRelativeTargets`).
    var relativeTargets: [(name: DomainName, text: String, what: String, at: SourcePosition)] = []

    var hasErrors: Bool { !diagnostics.isEmpty }

    func warn(_ node: YNode, _ message: String) { warn(SourcePosition(node.mark), message) }

    func warn(_ position: SourcePosition, _ message: String) {
        warnings.append(Diagnostic(file: file, line: position.line, column: position.column, message: "warning: " + message))
    }

    func error(_ mark: Mark?, _ message: String) {
        diagnostics.append(Diagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    func error(_ node: YNode, _ message: String) { error(node.mark, message) }

    func error(_ position: SourcePosition, _ message: String) {
        diagnostics.append(Diagnostic(file: file, line: position.line, column: position.column, message: message))
    }

    // MARK: Shapes

    /// A plain `~`, `null` or empty value (`key:` with nothing after it).
    static func isNull(_ node: YNode) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain || s.style == .any else { return false }
        return s.string.isEmpty || s.string == "~" || s.string == "null" || s.string == "Null" || s.string == "NULL"
    }

    static func kind(_ node: YNode) -> String {
        switch node {
        case .scalar: return isNull(node) ? "nothing" : "a single value"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// The key/value pairs of a mapping with scalar keys; `nil` (and a diagnostic) otherwise.
    /// A null value counts as an empty mapping (`records:` with nothing under it).
    func mapping(_ node: YNode, _ what: String) -> [(key: String, keyNode: YNode, value: YNode)]? {
        if YAMLReader.isNull(node) { return [] }
        guard case .mapping(let m) = node else {
            error(node, "\(what) must be a mapping (key: value), found \(YAMLReader.kind(node))")
            return nil
        }
        var out: [(key: String, keyNode: YNode, value: YNode)] = []
        // One allocation at its final size: a 100k-name `steer:` would otherwise peak at ~1.5x
        // while the array doubles (bench/scale/RESULTS.md, memory per steered name).
        out.reserveCapacity(m.count)
        for pair in m {
            guard case .scalar(let k) = pair.key else {
                error(pair.key, "a key in \(what) must be a single value, found \(YAMLReader.kind(pair.key))")
                continue
            }
            out.append((k.string, pair.key, pair.value))
        }
        return out
    }

    /// A mapping whose keys must all be in `known`: unknown keys get a diagnostic naming the
    /// closest known key. Returns the accepted pairs by key.
    func fields(_ node: YNode, _ what: String, known: [String]) -> Fields? {
        guard let pairs = mapping(node, what) else { return nil }
        var fields = Fields(mark: node.mark)
        for p in pairs {
            if known.contains(p.key) {
                fields.values[p.key] = p.value
                fields.keyNodes[p.key] = p.keyNode
            } else {
                error(p.keyNode, YAMLReader.unknownKey(p.key, in: what, known: known))
            }
        }
        return fields
    }

    static func unknownKey(_ key: String, in what: String, known: [String]) -> String {
        var message = "unknown key '\(key)' in \(what)"
        if let best = closest(to: key, in: known) { message += "; did you mean '\(best)'?" }
        else { message += " (known keys: \(known.joined(separator: ", ")))" }
        return message
    }

    /// A list; a single scalar counts as a list of one (`A: 192.0.2.1`), null as an empty list.
    func list(_ node: YNode, _ what: String) -> [YNode]? {
        if YAMLReader.isNull(node) { return [] }
        switch node {
        case .sequence(let s): return Array(s)
        case .scalar: return [node]
        default:
            error(node, "\(what) must be a list or a single value, found \(YAMLReader.kind(node))")
            return nil
        }
    }

    /// The text of a scalar (quoted or not).
    func scalar(_ node: YNode, _ what: String) -> String? {
        guard case .scalar(let s) = node, !YAMLReader.isNull(node) else {
            error(node, "\(what) must be a single value, found \(YAMLReader.kind(node))")
            return nil
        }
        return s.string
    }

    func integer<T: FixedWidthInteger>(_ node: YNode, _ what: String, _ range: ClosedRange<T>) -> T? {
        guard let text = scalar(node, what) else { return nil }
        let digits = String(text.filter { $0 != "_" })
        guard let value = T(digits, radix: 10), range.contains(value) else {
            error(node, "\(what) must be an integer in \(range.lowerBound)...\(range.upperBound), found '\(text)'")
            return nil
        }
        return value
    }

    func bool(_ node: YNode, _ what: String) -> Bool? {
        guard let text = scalar(node, what) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(node, "\(what) must be true or false, found '\(text)'")
            return nil
        }
    }

    /// A TTL in seconds: `300`, or with units `5m`, `1h30m`, `1d`, `1w` (BIND style);
    /// at most 2^31 - 1 (RFC 2181 §8).
    func ttl(_ node: YNode, _ what: String) -> UInt32? {
        guard let text = scalar(node, what) else { return nil }
        guard let seconds = YAMLReader.duration(text), seconds <= 2_147_483_647 else {
            var message = "\(what) must be a TTL in seconds (0...2147483647, or with units like 5m, 1h, 1d), found '\(text)'"
            if let (seconds, compact) = YAMLReader.spelledDuration(text), seconds <= 2_147_483_647 {
                message += "; write \(seconds) or \(compact)"
            }
            error(node, message)
            return nil
        }
        return UInt32(seconds)
    }

    /// A duration spelled in words ("5 minutes", "1 hour 30 mins", "2 days"): its seconds and the
    /// compact form to write instead ("5m"), for the TTL error's hint. Nil when it is not one.
    static func spelledDuration(_ text: String) -> (UInt64, String)? {
        let units: [(words: [String], letter: String, seconds: UInt64)] = [
            (["s", "sec", "secs", "second", "seconds"], "s", 1), (["m", "min", "mins", "minute", "minutes"], "m", 60),
            (["h", "hr", "hrs", "hour", "hours"], "h", 3600), (["d", "day", "days"], "d", 86400),
            (["w", "wk", "week", "weeks"], "w", 604_800),
        ]
        // "5 minutes" -> ["5", "minutes"]; "5minutes" -> ["5", "minutes"].
        var tokens: [String] = []
        for word in text.lowercased().split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }) {
            var digits = "", letters = ""
            for c in word {
                if c.isASCII && c.isNumber {
                    if !letters.isEmpty { tokens += [digits, letters].filter { !$0.isEmpty }; digits = ""; letters = "" }
                    digits.append(c)
                } else { letters.append(c) }
            }
            tokens += [digits, letters].filter { !$0.isEmpty }
        }
        guard !tokens.isEmpty, tokens.count % 2 == 0, tokens.count <= 10 else { return nil }
        var total: UInt64 = 0
        var compact = ""
        for i in stride(from: 0, to: tokens.count, by: 2) {
            guard let n = UInt64(tokens[i]), n <= 1_000_000_000,
                  let unit = units.first(where: { $0.words.contains(tokens[i + 1]) }) else { return nil }
            total += n * unit.seconds
            compact += "\(n)\(unit.letter)"
        }
        return (total, compact)
    }

    /// Seconds from `300`, `300s`, `5m`, `1h30m`, `2d`, `1w`. Nil when malformed or huge.
    static func duration(_ text: String) -> UInt64? {
        let t = text.lowercased()
        guard !t.isEmpty else { return nil }
        if let plain = UInt64(t) { return plain }
        var total: UInt64 = 0
        var number: UInt64? = nil
        for c in t {
            if let d = c.wholeNumberValue, c.isASCII {
                let (m, o1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt64(d))
                guard !o1, !o2 else { return nil }
                number = s
                continue
            }
            let unit: UInt64
            switch c {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            case "w": unit = 604800
            default: return nil
            }
            guard let n = number else { return nil }
            let (p, o1) = n.multipliedReportingOverflow(by: unit)
            let (s, o2) = total.addingReportingOverflow(p)
            guard !o1, !o2 else { return nil }
            total = s
            number = nil
        }
        guard number == nil else { return nil }   // "5m3" has a number without unit
        return total
    }

    // MARK: Suggestions

    /// The known word closest to `word` by edit distance, when close enough to be a typo.
    static func closest(to word: String, in known: [String]) -> String? {
        let w = Array(word.lowercased())
        var best: (String, Int)? = nil
        for k in known {
            let d = editDistance(w, Array(k.lowercased()))
            if best == nil || d < (best?.1 ?? Int.max) { best = (k, d) }
        }
        guard let (k, d) = best else { return nil }
        let limit = max(2, min(w.count, k.count) / 3)
        if d <= limit { return k }
        // "eu-web" for "eu": one is the other plus a suffix or prefix.
        let lower = word.lowercased()
        return known.first { let kl = $0.lowercased(); return kl.count >= 2 && lower.count >= 2 && (lower.hasPrefix(kl) || kl.hasPrefix(lower)) }
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        guard a.count <= 64, b.count <= 64 else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// The accepted keys of a mapping, with their nodes for positions.
struct Fields {
    var mark: Mark?
    var values: [String: YNode] = [:]
    var keyNodes: [String: YNode] = [:]
    subscript(key: String) -> YNode? {
        guard let v = values[key], !YAMLReader.isNull(v) else { return nil }
        return v
    }
    /// Position of the key (for "missing" or whole-entry messages, the mapping itself).
    func mark(of key: String) -> Mark? { keyNodes[key]?.mark ?? mark }
}

/// A 1-based line and column (Yams' `Mark` has no public initialiser).
struct SourcePosition: Hashable, Sendable, CustomStringConvertible {
    var line: Int
    var column: Int
    init(line: Int, column: Int) { self.line = line; self.column = column }
    init(_ mark: Mark?) { line = mark?.line ?? 1; column = mark?.column ?? 1 }
    var description: String { "\(line):\(column)" }
}
