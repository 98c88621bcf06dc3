import DNSWire
import Foundation
import Testing
@testable import Policy

/// One test per kind of mistake: the exact `file:line:column` and the words that say what is wrong.
@Suite struct LoaderValidationTests {
    /// `position` is "line:column", or `@needle` / `@needle#n`: where the n-th occurrence of
    /// the needle starts in the YAML (columns counted in Unicode scalars, like libyaml).
    func expectError(_ yaml: String, _ where: String, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let position = Self.resolve(`where`, in: yaml)
        let found = diagnostics(yaml)
        let hit = found.contains { $0.hasPrefix("t.yaml:\(position): ") && $0.contains(fragment) }
        #expect(hit, "wanted t.yaml:\(position): …\(fragment)…, got:\n\(found.joined(separator: "\n"))", sourceLocation: sourceLocation)
    }

    static func resolve(_ spec: String, in yaml: String) -> String {
        guard spec.hasPrefix("@") else { return spec }
        var needle = String(spec.dropFirst())
        var occurrence = 1
        if let hash = needle.lastIndex(of: "#"), let n = Int(needle[needle.index(after: hash)...]) {
            occurrence = n
            needle = String(needle[..<hash])
        }
        var seen = 0
        let n = Array(needle.unicodeScalars)
        for (i, line) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = Array(line.unicodeScalars)
            var c = 0
            while c + n.count <= l.count {
                if Array(l[c..<(c + n.count)]) == n {
                    seen += 1
                    if seen == occurrence { return "\(i + 1):\(c + 1)" }
                }
                c += 1
            }
        }
        return "needle \(needle) not found"
    }

    @Test func basePolicyLoads() throws {
        let catalog = try load(basePolicy)
        #expect(catalog.zones.count == 1)
        #expect(catalog.regions.map(\.name) == ["europe"])
    }

    @Test func unknownKeySuggestsTheClosest() {
        expectError(basePolicy.replacingOccurrences(of: "    soa:", with: "    sao:"), "9:5", "unknown key 'sao' in zone example.com.; did you mean 'soa'?")
        expectError("servr: {}\n" + basePolicy, "1:1", "did you mean 'server'?")
        expectError(basePolicy.replacingOccurrences(of: "default: web", with: "defualt: web"), "@defualt", "did you mean 'default'?")
        expectError(basePolicy.replacingOccurrences(of: "{ continents: [EU] }", with: "{ continent: [EU] }"), "2:13", "did you mean 'continents'?")
    }

    @Test func badAddress() {
        expectError(basePolicy.replacingOccurrences(of: "A: 192.0.2.10", with: "A: 192.0.2.300"), "4:12", "'192.0.2.300' is not an IPv4 address")
        expectError(basePolicy.replacingOccurrences(of: "\"2001:db8::1\"", with: "\"2001:db8:::1\""), "5:30", "not an IPv6 address")
        expectError(basePolicy.replacingOccurrences(of: "ns1: { A: 192.0.2.53 }", with: "ns1: { A: [192.0.2.53, 10.0.0] }"), "@10.0.0]", "'10.0.0' is not an IPv4 address")
    }

    @Test func badName() {
        expectError(basePolicy.replacingOccurrences(of: "ns: [ns1]", with: "ns: [\"ns 1\"]"), "10:10", "has a character DNS names do not use: ' '")
        expectError(basePolicy.replacingOccurrences(of: "cdn.example.net.", with: "cdn..example.net."), "6:17", "is not a valid domain name")
        expectError(basePolicy.replacingOccurrences(of: "      ns1: {", with: "      a*b: {"), "12:7", "'*' is only allowed as the whole leftmost label")
    }

    @Test func badCIDR() {
        let yaml = basePolicy.replacingOccurrences(of: "{ continents: [EU] }", with: "{ networks: [203.0.113.7/24, 10.0.0.0/33, nonsense/8] }")
        expectError(yaml, "@203.0.113.7", "bits set past the prefix length; did you mean 203.0.113.0/24?")
        expectError(yaml, "@10.0.0.0/33", "prefix length '33' is not in 0...32")
        expectError(yaml, "@nonsense", "'nonsense' is not an IPv4 or IPv6 address")
    }

    @Test func badTTL() {
        expectError(basePolicy.replacingOccurrences(of: "www: {", with: "www: { ttl: -5,"), "14:19", "ttl must be a TTL in seconds")
        expectError(basePolicy.replacingOccurrences(of: "ns1: { A", with: "ns1: { ttl: 4294967296, A"), "12:19", "must be a TTL in seconds (0...2147483647")
        expectError(basePolicy.replacingOccurrences(of: "serial: 1", with: "serial: 1, minimum: 5x"), "@5x", "soa minimum must be a TTL")
    }

    @Test func undefinedPoolAndRegion() {
        expectError(basePolicy.replacingOccurrences(of: "[eu]", with: "[eu-web]"), "14:34", "undefined pool 'eu-web' in steer www.example.com. region europe; did you mean 'eu'?")
        expectError(basePolicy.replacingOccurrences(of: "{ europe: [eu] }", with: "{ europa: [eu] }"), "14:25", "undefined region 'europa' in steer www.example.com.; did you mean 'europe'?")
        expectError(basePolicy.replacingOccurrences(of: "default: web", with: "default: [web, nowhere]"), "@nowhere", "undefined pool 'nowhere'")
    }

    @Test func cnameBesideOtherData() {
        expectError(basePolicy.replacingOccurrences(of: "ns1: { A: 192.0.2.53 }", with: "ns1: { A: 192.0.2.53, CNAME: x.example.net. }"),
                    "12:29", "CNAME at ns1.example.com. beside other data (A)")
        expectError(basePolicy.replacingOccurrences(of: "  cdn: { CNAME: cdn.example.net. }", with: "  cdn: { CNAME: cdn.example.net., A: 192.0.2.9 }"),
                    "6:10", "pool 'cdn' has a CNAME beside A/AAAA data")
        // A CNAME pool steering the apex would put a CNAME beside the SOA and NS.
        expectError(basePolicy + "      \"@\": { default: cdn }\n", "@cdn }", "a CNAME pool cannot steer the zone apex")
        expectError(basePolicy.replacingOccurrences(of: "    records:\n", with: "    records:\n      \"@\": { CNAME: x.example.net. }\n"),
                    "12:14", "a CNAME at the zone apex")
    }

    @Test func nameOutsideItsZone() {
        expectError(basePolicy.replacingOccurrences(of: "      ns1: {", with: "      ns1.example.org.: {"), "12:7", "record name ns1.example.org. is outside zone example.com.")
        expectError(basePolicy.replacingOccurrences(of: "      www: {", with: "      www.example.net.: {"), "14:7", "steered name www.example.net. is outside zone example.com.")
    }

    @Test func nameInsideAMoreSpecificZone() {
        let yaml = basePolicy.replacingOccurrences(of: "      ns1: {", with: "      x.sub: {") + """
          sub.example.com:
            soa: { mname: ns1.example.com., rname: hostmaster.example.com. }
            ns: [ns1.example.com.]

        """
        expectError(yaml, "12:7", "record name x.sub.example.com. belongs to zone sub.example.com., not example.com.")
    }

    @Test func duplicateYAMLKeyPointsAtTheSecondOne() {
        let yaml = basePolicy.replacingOccurrences(of: "      ns1: { A: 192.0.2.53 }\n", with: "      ns1: { A: 192.0.2.53 }\n      ns1: { A: 192.0.2.54 }\n")
        expectError(yaml, "13:7", "duplicate key 'ns1' (first defined at 12:7)")
        expectError(basePolicy.replacingOccurrences(of: "{ A: 192.0.2.10 }", with: "{ A: 192.0.2.10, A: 192.0.2.11 }"), "@A: 192.0.2.11", "duplicate key 'A' (first defined at 4:9)")
    }

    @Test func duplicateDefinitionsInOtherSpellings() {
        expectError(basePolicy.replacingOccurrences(of: "      ns1: { A: 192.0.2.53 }\n", with: "      ns1: { A: 192.0.2.53 }\n      NS1.example.com.: { A: 192.0.2.54 }\n"),
                    "13:7", "ns1.example.com. is defined twice in zone example.com. records (first at 12:7)")
        expectError(basePolicy + "  Example.COM.:\n    soa: { mname: a, rname: b }\n    ns: [a]\n", "15:3", "zone example.com. is defined twice (first at 8:3)")
        expectError(basePolicy.replacingOccurrences(of: "pools:\n", with: "  more: { continents: [eu] }\npools:\n"), "@eu]", "continent EU is already in region 'europe'")
        expectError(basePolicy.replacingOccurrences(of: "A: 192.0.2.10", with: "A: [192.0.2.10, 192.0.2.10]"), "@192.0.2.10]", "192.0.2.10 is listed twice in pool 'eu' A")
    }

    @Test func missingSOAAndNS() {
        let noSOA = basePolicy.replacingOccurrences(of: "    soa: { mname: ns1, rname: hostmaster, serial: 1 }\n", with: "")
        expectError(noSOA, "8:3", "zone example.com. has no soa:")
        expectError(basePolicy.replacingOccurrences(of: "    ns: [ns1]\n", with: ""), "8:3", "zone example.com. has no ns:")
        expectError(basePolicy.replacingOccurrences(of: "mname: ns1, ", with: ""), "9:10", "soa needs mname:")
    }

    @Test func nameBothStaticAndSteered() {
        expectError(basePolicy + "      ns1: { default: web }\n", "15:7", "ns1.example.com. is steered and also has static A (records: at 12:7)")
    }

    @Test func testsWithBadTypesAndSubnets() {
        let yaml = basePolicy + """
        tests:
          - { query: www.example.com AX, expect: [192.0.2.1] }
          - { query: www.example.com A, subnet: 10.0.0.1/8, expect: [192.0.2.1] }
          - { query: www.example.com A, subnet: 10.0.0.0/8, scope: 40, expect: [192.0.2.1] }
          - { query: www.example.com A }

        """
        expectError(yaml, "16:14", "unknown type 'AX'")
        expectError(yaml, "17:41", "did you mean 10.0.0.0/8?")
        expectError(yaml, "18:60", "tests scope must be an integer in 0...32")
        expectError(yaml, "19:5", "a test needs expect:")
    }

    @Test func yamlSyntaxErrorHasItsPosition() {
        let found = diagnostics("zones:\n  example.com: { soa: [1, 2\n")
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("t.yaml:3:1: YAML syntax error") == true, "\(found)")
        expectError("zones: [\n", "2:1", "YAML syntax error")
        expectError("", "1:1", "the policy is empty")
    }

    @Test func badServerSettings() {
        let yaml = """
        server:
          listen: ["127.0.0.1", "[::1]:99999", "0.0.0.0:53", "0.0.0.0:53"]
          ecs: { max_source_v4: 33, enabled: maybe }
          udp_payload_size: 100
          tcp: { idle_timeout: forever }

        """ + basePolicy
        expectError(yaml, "2:12", "listen address '127.0.0.1' must be IP:PORT")
        expectError(yaml, "2:25", "listen address '[::1]:99999'")
        expectError(yaml, "@\"0.0.0.0:53#2", "listed twice (first at 2:40)")
        expectError(yaml, "@33", "server.ecs.max_source_v4 must be an integer in 0...32")
        expectError(yaml, "@maybe", "server.ecs.enabled must be true or false")
        expectError(yaml, "@100", "server.udp_payload_size must be an integer in 512...65535")
        expectError(yaml, "@forever", "server.tcp.idle_timeout must be a duration")
    }

    @Test func wrongShapes() {
        expectError(basePolicy.replacingOccurrences(of: "ns: [ns1]", with: "ns: { ns1: yes }"), "@ns1: yes", "unknown key 'ns1' in zone example.com. ns")
        expectError("zones: [a, b]\n", "1:8", "zones must be a mapping (key: value), found a list")
        expectError(basePolicy.replacingOccurrences(of: "MX", with: "MX").replacingOccurrences(of: "ns1: { A: 192.0.2.53 }", with: "ns1: { MX: [[10]] }"),
                    "12:19", "must be [preference, exchange], found 1 field")
    }

    @Test func severalErrorsInOneRun() {
        let yaml = basePolicy
            .replacingOccurrences(of: "A: 192.0.2.10", with: "A: 1.2.3")
            .replacingOccurrences(of: "[eu]", with: "[nope]")
            .replacingOccurrences(of: "ns: [ns1]", with: "nss: [ns1]")
        let found = diagnostics(yaml)
        #expect(found.count >= 3, "\(found)")
        // In file order.
        let lines = found.compactMap { Int($0.split(separator: ":")[1]) }
        #expect(lines == lines.sorted())
    }

    @Test func billionLaughsIsAnErrorNotAHang() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 { yaml += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        yaml += "zones: *a9\n"
        do {
            _ = try PolicyLoader.load(yaml: yaml, path: "t.yaml", database: nil, openDatabase: false, nodeLimit: 100_000)
            Issue.record("loaded a billion laughs")
        } catch {
            #expect(error.description == "t.yaml:1:1: the policy expands to more than 100000 YAML nodes (aliases?)")
        }
    }

    @Test func aliasKeysAreRefusedBeforeYamsHashesThem() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 { yaml += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        expectError(yaml + "zones: { ? *a9 : 1 }\n", "11:12", "an alias (*a9) cannot be a mapping key")
        expectError(yaml + "zones:\n  *a9 : 1\n", "12:3", "an alias (*a9) cannot be a mapping key")
        expectError(yaml + "zones: {*a9: 1}\n", "11:9", "an alias (*a9) cannot be a mapping key")
        // The usual cause: an unquoted wildcard name.
        expectError(basePolicy.replacingOccurrences(of: "      ns1: {", with: "      *.dyn: {"), "12:7",
                    "an alias (*.dyn) cannot be a mapping key; a wildcard name must be quoted: \"*.dyn\"")
        // Aliases as values, quoted or commented stars are fine.
        #expect(PolicyLoader.aliasKey(in: "a: &x 1\nb: *x\nc: \"*x: 1\"\nd: '*y: 2' # *z: 3\ne: [*x, *x]\n") == nil)
    }

    @Test func hostileScalarsNeverTrap() {
        for value in ["99999999999999999999999999", "-1", "1e400", "0x10", "", "~", "[[[[]]]]", "{a: {b: {c: d}}}", "\"\\u0000\"", "*.", "@", "..", "\\999"] {
            for key in ["serial", "minimum"] {
                _ = diagnostics(basePolicy.replacingOccurrences(of: "serial: 1", with: "\(key): \(value)"))
            }
            _ = diagnostics(basePolicy.replacingOccurrences(of: "ns: [ns1]", with: "ns: [\(value)]"))
            _ = diagnostics(basePolicy.replacingOccurrences(of: "A: 192.0.2.10", with: "A: \(value)"))
            _ = diagnostics(basePolicy.replacingOccurrences(of: "continents: [EU]", with: "networks: \(value)"))
            _ = diagnostics(basePolicy.replacingOccurrences(of: "www:", with: "\(value):"))
        }
    }
}
