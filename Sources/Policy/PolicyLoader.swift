import DNSWire
import Foundation
import GeoIP
import Yams

/// Reads `config.yaml` into a validated, compiled `Catalog`.
///
/// The YAML is composed into a node tree (`Yams.compose`) and walked by hand rather than
/// decoded with Codable, so that every diagnostic names `file:line:column` of the node at
/// fault, and several problems are reported in one run. Nothing here traps on input: a
/// hostile file gives a `PolicyError`.
public enum PolicyLoader {
    /// Reads the file, opens `server.geoip` (relative to the file's folder) and compiles.
    public static func load(path: String) throws(PolicyError) -> Catalog {
        let text: String
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let s = String(data: data, encoding: .utf8) else {
                throw PolicyError(file: path, "the file is not valid UTF-8")
            }
            text = s
        } catch let e as PolicyError {
            throw e
        } catch {
            throw PolicyError(file: path, "cannot read the policy file: \(error.localizedDescription)")
        }
        return try load(yaml: text, path: path, database: nil, openDatabase: true)
    }

    /// Compiles YAML text (for tests and `geodns check` on stdin). `path` names the file in
    /// messages and anchors relative paths; `database` is used as is (`server.geoip` is not opened).
    public static func load(yaml: String, path: String, database: GeoIPDatabase?) throws(PolicyError) -> Catalog {
        try load(yaml: yaml, path: path, database: database, openDatabase: false)
    }

    /// Most YAML nodes a policy may expand to (aliases are shared in the tree, so a small file
    /// can stand for a huge one: the "billion laughs").
    static let nodeLimit = 5_000_000

    static func load(yaml: String, path: String, database given: GeoIPDatabase?, openDatabase: Bool,
                     nodeLimit: Int = nodeLimit) throws(PolicyError) -> Catalog {
        let reader = YAMLReader(file: path)
        // Yams hashes every mapping key while composing; an alias key standing for a huge
        // (billion-laughs) tree would take forever there, before our node budget can act.
        if let key = aliasKey(in: yaml) {
            var message = "an alias (\(key.token)) cannot be a mapping key"
            if key.token.hasPrefix("*.") || key.token == "*" {
                message += "; a wildcard name must be quoted: \"\(key.token)\""
            }
            throw PolicyError(file: path, line: key.line, column: key.column, message)
        }
        let root: YNode
        do {
            // `.basic`: no YAML 1.1 type guessing (we read scalar text only), and no regex per scalar.
            guard let node = try Yams.compose(yaml: yaml, .basic) else {
                throw PolicyError(file: path, "the policy is empty (expected server:, regions:, pools:, zones:)")
            }
            root = node
        } catch let e as PolicyError {
            throw e
        } catch {
            throw PolicyError([yamlDiagnostic(error, file: path, text: yaml)])
        }
        guard countNodes(root, limit: nodeLimit) else {
            throw PolicyError(file: path, "the policy expands to more than \(nodeLimit) YAML nodes (aliases?)")
        }

        var spec = PolicySpec()
        guard let top = reader.fields(root, "the policy", known: ["server", "regions", "pools", "zones", "tests"]) else {
            throw PolicyError(reader.diagnostics)
        }
        parseServer(top["server"], reader: reader, configPath: path, into: &spec)
        if let node = top["regions"] { parseRegions(node, reader: reader, into: &spec) }
        if let node = top["pools"] { parsePools(node, reader: reader, into: &spec) }
        if let node = top["zones"] {
            parseZones(node, reader: reader, into: &spec)
        } else {
            reader.error(root.mark, "the policy has no zones: (at least one zone with soa: and ns: is needed)")
        }
        if let node = top["tests"] { parseTests(node, reader: reader, into: &spec) }

        var database = given
        var sources: [GeoSource] = []
        if openDatabase, !reader.hasErrors {
            for source in spec.settings.databases {
                do {
                    sources.append(GeoSource(database: try GeoIPDatabase(path: source.path), fields: source.fields))
                } catch {
                    reader.error(spec.geoipMark, "cannot open the GeoIP database: \(error)")
                }
            }
            database = sources.first?.database
        }
        guard !reader.hasErrors else {
            throw PolicyError(reader.diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        if database == nil {
            for (i, region) in spec.regions.enumerated()
            where !(region.continents.isEmpty && region.countries.isEmpty && region.subdivisions.isEmpty && region.asns.isEmpty) {
                reader.warn(spec.regionPositions[i], "region '\(region.name)' matches on the database (continents, countries, subdivisions, asns) but no server.geoip database is loaded: only its networks: match")
            }
        }
        var used = Set<RegionID>()
        for zone in spec.zones { for steer in zone.steers { used.formUnion(steer.regionPools.keys) } }
        for (i, region) in spec.regions.enumerated() where !used.contains(i) {
            reader.warn(spec.regionPositions[i], "region '\(region.name)' is not used by any steered name")
        }
        var usedPools = Set<Int>()
        for zone in spec.zones { for steer in zone.steers { usedPools.formUnion(steer.defaultPools); for l in steer.regionPools.values { usedPools.formUnion(l) } } }
        for (i, pool) in spec.pools.enumerated() where !usedPools.contains(i) {
            reader.warn(spec.poolPositions[i], "pool '\(pool.name)' is not used by any steered name; list it in a steer's regions: or default:, or remove it")
        }
        let facts = DatabaseFacts(regions: spec.regions)
        var catalog = Compiler.compile(spec, database: database, sourcePath: path, facts: facts, sources: sources)
        if let database, catalog.report?.databaseNetworks ?? 0 > 0 {
            checkMatchable(spec, facts: facts, metadata: database.metadata, reader: reader)
            if reader.hasErrors { throw PolicyError(reader.diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) }) }
        }
        catalog.warnings = reader.warnings.sorted { ($0.line, $0.column) < ($1.line, $1.column) }
        return catalog
    }

    // MARK: YAML errors

    static func yamlDiagnostic(_ error: Error, file: String, text: String) -> Diagnostic {
        func d(_ mark: SourcePosition, _ message: String) -> Diagnostic {
            Diagnostic(file: file, line: mark.line, column: mark.column, message: message)
        }
        guard let y = error as? YamlError else {
            return Diagnostic(file: file, line: 1, column: 1, message: "YAML error: \(error)")
        }
        switch y {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "YAML syntax error: \(problem)"
            if let c = context { message += " (\(c.text) at \(c.mark.line):\(c.mark.column))" }
            if let hint = syntaxHint(at: SourcePosition(mark), in: text) { message += "; " + hint }
            return d(SourcePosition(mark), message)
        case .reader(let problem, let offset, _, _):
            let (line, column) = position(ofUTF8Offset: offset ?? 0, in: text)
            return Diagnostic(file: file, line: line, column: column, message: "cannot read the YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams reports the first occurrence; point at the second one, which is the one to remove.
            let key = duplicates.first ?? "?"
            let first = SourcePosition(context.mark)
            let second = nextOccurrence(ofKey: key, after: first, in: text) ?? first
            var message = "duplicate key '\(key)'"
            if second.line != first.line || second.column != first.column {
                message += " (first defined at \(first.line):\(first.column))"
            }
            if duplicates.count > 1 { message += "; also duplicated: " + duplicates.dropFirst().map { "'\($0)'" }.joined(separator: ", ") }
            message += "; a key appears once per mapping: rename this one, or merge the two"
            return d(second, message)
        default:
            return Diagnostic(file: file, line: 1, column: 1, message: "YAML error: \(y)")
        }
    }

    /// What to do about a libyaml syntax error at `mark`: a tab (YAML indents with spaces
    /// only), or an indentation that matches none of the enclosing blocks above it.
    static func syntaxHint(at mark: SourcePosition, in text: String) -> String? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard mark.line >= 1, mark.line <= lines.count else { return nil }
        let line = Array(lines[mark.line - 1].unicodeScalars)
        if let tab = line.firstIndex(of: "\t"), !line[..<tab].contains(where: { $0 != " " }) || tab == mark.column - 1 {
            return "a tab at \(mark.line):\(tab + 1): YAML indents with spaces only, replace the tab with spaces"
        }
        func indent(_ l: [Unicode.Scalar]) -> Int? {
            guard let first = l.firstIndex(where: { $0 != " " }), l[first] != "#" else { return nil }
            return first + 1
        }
        guard let here = indent(line) else { return nil }
        // The enclosing blocks: walking up, each line less indented than all below it so far.
        var levels: [(column: Int, line: Int)] = []
        var limit = Int.max
        for index in stride(from: mark.line - 2, through: max(0, mark.line - 200), by: -1) {
            let above = Array(lines[index].unicodeScalars)
            guard let column = indent(above) else { continue }
            if column == here { return nil }            // aligned with a sibling: not an indentation problem
            if column < limit {
                // A line ending in ':' opens a nested block: deeper lines under it are fine.
                if levels.isEmpty, column < here, above.last == ":" { return nil }
                levels.append((column, index + 1)); limit = column
            }
            if column == 1 { break }
        }
        guard !levels.contains(where: { $0.column == here }), let nearest = levels.min(by: { abs($0.column - here) < abs($1.column - here) }) else { return nil }
        return "wrong indentation? this line starts in column \(here), no block above starts there: indent it like line \(nearest.line) (column \(nearest.column)), with spaces"
    }

    static func position(ofUTF8Offset offset: Int, in text: String) -> (Int, Int) {
        var line = 1, column = 1, seen = 0
        for scalar in text.unicodeScalars {
            if seen >= offset { break }
            seen += scalar.utf8.count
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    /// Where `key` appears again as a mapping key after `mark` (same column in block style, or
    /// anywhere on a later position in flow style). Best effort: nil when not found.
    static func nextOccurrence(ofKey key: String, after mark: SourcePosition, in text: String) -> SourcePosition? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard mark.line >= 1, mark.line <= lines.count else { return nil }
        let candidates = [key, "\"\(key)\"", "'\(key)'"]
        for index in (mark.line - 1)..<lines.count {
            let scalars = Array(lines[index].unicodeScalars)
            let startColumn = index == mark.line - 1 ? mark.column : 0   // 0-based: skip the first key
            var c = startColumn
            while c < scalars.count {
                for k in candidates {
                    let ks = Array(k.unicodeScalars)
                    guard c + ks.count <= scalars.count, Array(scalars[c..<(c + ks.count)]) == ks else { continue }
                    // Must start a token and be followed by optional spaces and ':'.
                    if c > 0, !" \t{,-".unicodeScalars.contains(scalars[c - 1]) { continue }
                    var e = c + ks.count
                    while e < scalars.count, scalars[e] == " " || scalars[e] == "\t" { e += 1 }
                    if e < scalars.count, scalars[e] == ":" { return SourcePosition(line: index + 1, column: c + 1) }
                }
                c += 1
            }
        }
        return nil
    }

    /// The first alias written where a mapping key goes (`*x: ...`, `? *x`, `{*x: ...}`), found
    /// by a line scanner that skips quoted text and comments. Plain scalars never start with
    /// `*`, so outside quotes such a token is an alias.
    static func aliasKey(in text: String) -> (line: Int, column: Int, token: String)? {
        let delimiters: Set<Unicode.Scalar> = [" ", "\t", "[", "{", ",", "?", "-"]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let c = Array(line.unicodeScalars)
            var i = 0
            scan: while i < c.count {
                let atTokenStart = i == 0 || delimiters.contains(c[i - 1]) || c[i - 1] == ":"
                switch c[i] {
                case "#" where i == 0 || c[i - 1] == " " || c[i - 1] == "\t":
                    break scan                                    // comment
                case "\"" where atTokenStart, "'" where atTokenStart:
                    let quote = c[i]
                    i += 1
                    while i < c.count {
                        if quote == "\"", c[i] == "\\" { i += 2; continue }
                        if c[i] == quote {
                            if quote == "'", i + 1 < c.count, c[i + 1] == "'" { i += 2; continue }
                            break
                        }
                        i += 1
                    }
                    if i >= c.count { break scan }               // runs on: not ours to judge
                case "*" where atTokenStart:
                    var e = i + 1
                    while e < c.count, !" \t,[]{}".unicodeScalars.contains(c[e]) { e += 1 }
                    let token = String(String.UnicodeScalarView(c[i..<e]))
                    // `? *x` is a key; so is `*x :` / `*x:` followed by a space, the end or a flow delimiter.
                    var before = i - 1
                    while before >= 0, c[before] == " " || c[before] == "\t" { before -= 1 }
                    if before >= 0, c[before] == "?" { return (index + 1, i + 1, token) }
                    var after = e
                    while after < c.count, c[after] == " " || c[after] == "\t" { after += 1 }
                    let tokenEndsInColon = token.count > 1 && token.hasSuffix(":")
                    if tokenEndsInColon || (after < c.count && c[after] == ":" &&
                        (after + 1 == c.count || " \t,}]".unicodeScalars.contains(c[after + 1]))) {
                        return (index + 1, i + 1, tokenEndsInColon ? String(token.dropLast()) : token)
                    }
                    i = e
                    continue scan
                default:
                    break
                }
                i += 1
            }
        }
        return nil
    }

    /// False when the tree (aliases expanded) has more than `limit` nodes.
    static func countNodes(_ root: YNode, limit: Int) -> Bool {
        var stack = [root]
        var count = 0
        while let node = stack.popLast() {
            count += 1
            if count > limit { return false }
            switch node {
            case .mapping(let m):
                for pair in m { stack.append(pair.key); stack.append(pair.value) }
            case .sequence(let s):
                stack.append(contentsOf: s)
            case .scalar, .alias:
                break
            }
        }
        return true
    }
}
