import Foundation
import Testing

/// README accuracy (issue 10): every `$ command` in the README's ```text blocks is run against
/// the demo policy (config.yaml on a free port; `/tmp/geolite2.yaml` = config.yaml on
/// GeoLite2-City) and its output must be the output shown, up to what changes per run (query
/// id, time, port, dig's version). A line `...` in the README stands for any number of lines.
/// The commands of data/README.md's shell block must run (exit 0).
@Suite("README examples", .serialized)
struct ReadmeExamplesTests {
    struct Example: CustomStringConvertible {
        var command: String
        var expected: [String]
        var line: Int
        var description: String { "README.md:\(line): $ \(command)" }
    }

    /// The `$ ` lines of the ```text blocks and the lines shown after each.
    static func examples(in text: String) -> [Example] {
        var out: [Example] = []
        var inText = false
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).enumerated() {
            if line.hasPrefix("```") {
                inText = !inText && line == "```text"
                continue
            }
            guard inText else { continue }
            if line.hasPrefix("$ ") {
                out.append(Example(command: String(line.dropFirst(2)), expected: [], line: i + 1))
            } else if !out.isEmpty, out[out.count - 1].line < i + 1 {
                out[out.count - 1].expected.append(line)
            }
        }
        return out
    }

    /// What changes from run to run, made equal.
    static func normalize(_ line: String) -> String {
        var l = line
        l = l.replacing(/id: \d+/, with: "id: N")
        l = l.replacing(/Query time: \d+ msec/, with: "Query time: N msec")
        l = l.replacing(/#\d+\(127\.0\.0\.1\)/, with: "#PORT(127.0.0.1)")
        l = l.replacing(/WHEN: .*/, with: "WHEN: T")
        l = l.replacing(/-p \d+/, with: "-p PORT")
        l = l.replacing(/DiG \S+ <<>>/, with: "DiG V <<>>")
        // DNS cookies (RFC 7873) differ per run and per client: the README shows one as an example.
        l = l.replacing(/COOKIE: [0-9a-fA-F]+/, with: "COOKIE: X")
        return l
    }

    /// `expected` (with `...` lines) against `actual`.
    static func matches(_ expected: [String], _ actual: [String]) -> Bool {
        var e = expected.map(normalize), a = actual.map(normalize)
        while e.last == "" { e.removeLast() }
        while a.last == "" { a.removeLast() }
        func go(_ i: Int, _ j: Int) -> Bool {
            if i == e.count { return j == a.count }
            if e[i] == "..." { return (j...a.count).contains { go(i + 1, $0) } }
            return j < a.count && e[i] == a[j] && go(i + 1, j + 1)
        }
        return go(0, 0)
    }

    @Test("README.md: the dig session and geodns explain print what the README shows")
    func readmeSessionsMatch() throws {
        let readme = try String(contentsOf: Paths.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let examples = Self.examples(in: readme)
        // The dig session's three queries and the explain on GeoLite2-City, at least.
        #expect(examples.filter { $0.command.hasPrefix("dig ") }.count >= 3, "\(examples)")
        #expect(examples.contains { $0.command.hasPrefix("geodns explain") }, "\(examples)")
        let database = try #require(Paths.geoLite2City, "GeoLite2-City (pip maxminddb-geolite2) is installed by make deps")
        let geolite = try configUsing(database: database)
        defer { geolite.remove() }
        let daemon = try Daemon(config: Paths.packageRoot.appendingPathComponent("config.yaml").path)
        defer { daemon.stop() }
        for example in examples {
            var command = example.command.replacingOccurrences(of: "-p 5353", with: "-p \(daemon.port)")
                .replacingOccurrences(of: "/tmp/geolite2.yaml", with: geolite.configPath)
            if command.hasPrefix("geodns ") { command = Paths.geodns + command.dropFirst(6) }
            let out = run("/bin/sh", ["-c", "cd '\(Paths.packageRoot.path)' && " + command], timeout: 60)
            let actual = out.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(out.status == 0, "\(example): exit \(out.status)\n\(out.stderr)")
            #expect(Self.matches(example.expected, actual),
                    "\(example)\n--- README shows:\n\(example.expected.joined(separator: "\n"))\n--- the build prints:\n\(out.stdout)")
        }
    }

    @Test("data/README.md: its geodns and mmdblookup commands run")
    func dataReadmeCommandsRun() throws {
        let text = try String(contentsOf: Paths.packageRoot.appendingPathComponent("data/README.md"), encoding: .utf8)
        var inShell = false, commands: [String] = []
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("```") { inShell = !inShell && line == "```sh"; continue }
            // `make` lines rebuild the database (make data runs in CI on its own); the rest run here.
            if inShell, !line.hasPrefix("make ") {
                commands.append(line.split(separator: "#", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? line)
            }
        }
        #expect(commands.count >= 3, "\(commands)")
        for command in commands {
            let resolved = command.hasPrefix("geodns ") ? Paths.geodns + command.dropFirst(6) : command
            let out = run("/bin/sh", ["-c", "cd '\(Paths.packageRoot.path)' && " + resolved], timeout: 30)
            #expect(out.status == 0 && !out.stdout.isEmpty, "data/README.md: \(command)\n\(out.stdout)\(out.stderr)")
        }
    }

    @Test("README.md: every command of the Commands table exists with the options it shows")
    func commandTableMatchesTheCLI() throws {
        let readme = try String(contentsOf: Paths.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| `geodns ") }
        #expect(rows.count >= 6, "\(rows)")
        for row in rows {
            guard let usage = row.firstMatch(of: /\| `(geodns [^`]*)`/)?.1 else { continue }
            let words = usage.split(separator: " ").dropFirst()
            let subcommand = words.prefix { $0.first.map { $0.isLowercase } ?? false }.map(String.init)
            let options = usage.matches(of: /--[a-z][a-z-]*/).map { String($0.0) }
            let help = run(Paths.geodns, subcommand + ["--help"])
            #expect(help.status == 0, "\(usage): \(help.stderr)")
            for option in options where option != "--help" {
                #expect(help.stdout.contains(option), "README shows \(option) for `\(usage)`; geodns \(subcommand.joined(separator: " ")) --help:\n\(help.stdout)")
            }
        }
    }

    @Test func elisionAndNormalisation() {
        #expect(Self.matches(["a", "...", "z"], ["a", "b", "c", "z"]))
        #expect(Self.matches(["a", "...", "z"], ["a", "z"]))
        #expect(!Self.matches(["a", "z"], ["a", "b", "z"]))
        #expect(Self.matches([";; SERVER: 127.0.0.1#5353(127.0.0.1) (UDP)"], [";; SERVER: 127.0.0.1#40123(127.0.0.1) (UDP)"]))
        #expect(!Self.matches(["www.example.com.\t60\tIN\tA\t198.51.100.10"], ["www.example.com.\t60\tIN\tA\t198.51.100.1"]))
    }
}
