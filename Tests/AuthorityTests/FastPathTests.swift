import DNSWire
import GeoIP
import Policy
import Testing
@testable import Authority

/// The UDP fast path (`Authority.FastPath`) must say exactly what the general engine says:
/// thousands of generated queries per catalog, both paths, replies compared byte for byte.
/// Queries the fast path hands back (`.general`) are counted; a floor on the share it answers
/// itself keeps the plan from silently degrading into "always general".
@Suite struct FastPathTests {
    /// Deterministic generator (SplitMix64).
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
        mutating func pick<T>(_ list: [T]) -> T { list[below(list.count)] }
    }

    struct Tally: CustomStringConvertible {
        var total = 0, express = 0, templated = 0, general = 0, dropped = 0, mismatches = 0
        var firstMismatch: String?
        var fast: Int { express + templated }
        var description: String {
            "\(total) queries: \(express) express, \(templated) templated, \(general) general, \(dropped) dropped, \(mismatches) mismatches"
        }
    }

    static let types: [RRType] = [.a, .a, .a, .aaaa, .aaaa, .cname, .cname, .mx, .txt, .ns, .soa, .srv, .ptr, .ds,
                                  .hinfo, .caa, .https, RRType(rawValue: 65280), RRType(rawValue: 999), .any, .axfr]

    /// Random 0x20 case, as resolvers send it.
    static func mixCase(_ text: String, _ g: inout Generator) -> String {
        String(text.map { c in g.chance(50) ? Character(c.uppercased()) : c })
    }

    static func randomLabel(_ g: inout Generator) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789-")
        return String((0..<(1 + g.below(12))).map { _ in letters[g.below(letters.count)] })
    }

    /// A query packet: names from `names` (and below them), random type, EDNS/ECS/flags/case.
    static func query(_ names: [String], _ g: inout Generator) -> [UInt8] {
        var qname = g.pick(names)
        switch g.below(10) {
        case 0, 1: qname = randomLabel(&g) + "." + qname                       // NXDOMAIN, wildcard, referral...
        case 2: qname = randomLabel(&g) + "." + randomLabel(&g) + "." + qname  // two labels below
        default: break
        }
        qname = mixCase(qname, &g)
        var type = g.pick(types)
        if g.chance(2) { type = RRType(rawValue: UInt16(truncatingIfNeeded: g.next())) }
        let rrClass: RRClass = g.chance(3) ? .ch : (g.chance(3) ? .any : .in)
        var header = Header(id: UInt16(truncatingIfNeeded: g.next()), recursionDesired: g.chance(50),
                            checkingDisabled: g.chance(10))
        header.questionCount = 1
        var message = Message(header: header, questions: [Question(name: (try? DomainName(qname)) ?? .root, type: type, rrClass: rrClass)])
        if !g.chance(15) {   // 15%: no EDNS at all
            var edns = EDNS(udpPayloadSize: g.pick([512, 1232, 1232, 4096, 100, 65535]), dnssecOK: g.chance(20))
            switch g.below(10) {
            case 0, 1: break                                                   // EDNS without ECS
            case 2: edns.clientSubnet = ClientSubnet(ipv4: IPv4Address(rawValue: 0), sourcePrefix: 0)   // /0
            case 3, 4, 5:
                let p = UInt8(g.below(129))
                edns.clientSubnet = ClientSubnet(ipv6: IPv6Address(rawValue: UInt128(g.next()) << 64 | UInt128(g.next())), sourcePrefix: p)
            default:
                let p = UInt8(g.pick([24, 24, 24, 32, 16, 8, 20, 1, 31]))
                edns.clientSubnet = ClientSubnet(ipv4: IPv4Address(rawValue: UInt32(truncatingIfNeeded: g.next())), sourcePrefix: p)
            }
            if g.chance(10) { edns.options.append(EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])) }   // a cookie
            if g.chance(4) { edns.options.append(EDNSOption(code: 3, data: [])) }                             // NSID
            if g.chance(4) { edns.options.append(EDNSOption(code: 11, data: g.chance(25) ? [0, 9] : [])) }    // keepalive
            message.edns = edns
        }
        var bytes = message.encode()
        switch g.below(200) {
        case 0: bytes.removeLast(min(bytes.count, 1 + g.below(6)))            // truncated: FORMERR or drop
        case 1: if bytes.count > 2 { bytes[2] |= 0x80 }                      // QR=1: drop
        case 2: bytes = Array(bytes.prefix(g.below(12)))                      // shorter than a header
        case 3: if bytes.count > 2 { bytes[2] |= 0x28 }                       // opcode 5: NOTIMP
        default: break
        }
        return bytes
    }

    static func source(_ g: inout Generator) -> ClientAddress {
        switch g.below(4) {
        case 0: return .v6(UInt128(g.next()) << 64 | UInt128(g.next()))
        case 1: return .v6(0xFFFF_0000_0000 | UInt128(UInt32(truncatingIfNeeded: g.next())))   // v4-mapped
        default: return .v4(UInt32(truncatingIfNeeded: g.next()))
        }
    }

    /// Random byte flips, insertions and cuts of generated queries: whatever the express tier
    /// accepts from mangled input, it must answer exactly as `Authority.respond` (or drop what it
    /// drops); it must never trap.
    @Test func mangledPacketsMatchGeneralPath() {
        let catalog = Fixture.catalog()
        let fast = Authority.FastPath(catalog: catalog)
        var scratch = Authority.FastPathScratch()
        var g = Generator(state: 14)
        var out = [UInt8](repeating: 0, count: 65536)
        var mismatches = 0, answered = 0
        var first: String?
        for _ in 0..<80000 {
            var bytes = FastPathTests.query(FastPathTests.fixtureNames, &g)
            for _ in 0..<(1 + g.below(3)) where !bytes.isEmpty {
                switch g.below(6) {
                case 0, 1, 2: bytes[g.below(bytes.count)] ^= UInt8(1 << g.below(8))
                case 3: bytes[g.below(bytes.count)] = UInt8(truncatingIfNeeded: g.next())
                case 4: bytes.insert(UInt8(truncatingIfNeeded: g.next()), at: g.below(bytes.count + 1))
                default: bytes.removeLast(min(bytes.count, 1 + g.below(4)))
                }
            }
            let from = FastPathTests.source(&g)
            let expected = Authority.respond(to: bytes, source: from, transport: .udp, catalog: catalog)
            let n = out.withUnsafeMutableBytes { o in
                bytes.withUnsafeBytes { fast.respond(to: $0, source: from, into: o, scratch: &scratch) }
            }
            if n == Authority.FastPath.askGeneral { continue }
            answered += 1
            let got: [UInt8]? = n == Authority.FastPath.drop ? nil : Array(out.prefix(n))
            if got != expected {
                mismatches += 1
                if first == nil { first = "tier \(scratch.lastTier) packet \(bytes)\n general \(expected ?? [])\n fast    \(got ?? [])" }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(answered)\n\(first ?? "")")
        #expect(answered > 8000)
    }

    /// Runs `count` generated queries through both paths (with `express: false`, the templated
    /// tier answers what the express tier would have).
    static func compare(_ catalog: Catalog, names: [String], count: Int, seed: UInt64, express: Bool = true) -> Tally {
        let fast = Authority.FastPath(catalog: catalog)
        var scratch = Authority.FastPathScratch()
        var g = Generator(state: seed)
        var tally = Tally()
        var out = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<count {
            let bytes = query(names, &g)
            let from = source(&g)
            let expected = Authority.respond(to: bytes, source: from, transport: .udp, catalog: catalog)
            let n = out.withUnsafeMutableBytes { o in
                bytes.withUnsafeBytes { fast.respond(to: $0, source: from, into: o, scratch: &scratch, through: .encode, express: express) }
            }
            tally.total += 1
            let got: [UInt8]?
            switch n {
            case Authority.FastPath.askGeneral:
                tally.general += 1
                continue
            case Authority.FastPath.drop:
                tally.dropped += 1
                got = nil
            default:
                if scratch.lastTier == .express { tally.express += 1 } else { tally.templated += 1 }
                got = Array(out.prefix(n))
            }
            if got != expected {
                tally.mismatches += 1
                if tally.firstMismatch == nil {
                    let q = (try? Message(decoding: bytes)).map { "\($0.questions) edns \(String(describing: $0.edns))" } ?? "\(bytes)"
                    let a = expected.flatMap { try? Message(decoding: $0) }.map { "\($0)" } ?? "nil"
                    let b = got.flatMap { try? Message(decoding: $0) }.map { "\($0)" } ?? "nil"
                    tally.firstMismatch = "tier \(scratch.lastTier) query \(q) from \(from)\n general: \(a)\n fast:    \(b)\n bytes general \(expected ?? [])\n bytes fast    \(got ?? [])"
                }
            }
        }
        print("FastPathTests seed \(seed): \(tally)")
        return tally
    }

    static let fixtureNames = [
        "example.com.", "www.example.com.", "cdn.example.com.", "tcp.example.com.", "v6eu.example.com.",
        "ns1.example.com.", "ns2.example.com.", "mail.example.com.", "mx.example.com.", "txt.example.com.",
        "_sip._udp.example.com.", "_udp.example.com.", "sip.example.com.", "wild.example.com.", "x.wild.example.com.",
        "deep.wild.example.com.", "x.deep.wild.example.com.", "*.wild.example.com.", "a.alias.example.com.",
        "smtp.example.com.", "web.example.com.", "out.example.com.", "dangling.example.com.", "loop1.example.com.",
        "sub.example.com.", "ns.sub.example.com.", "big.example.com.", "x.geo.example.com.", "geo.example.com.",
        "cdn.example.net.", "eu.cdn.example.net.", "example.net.", "example.org.", "com.", ".",
        "hostmaster.example.com.", "ns1.sub.example.com.", "EXAMPLE.COM.",
    ]

    @Test func handBuiltCatalogMatchesGeneralPath() {
        let tally = FastPathTests.compare(Fixture.catalog(), names: FastPathTests.fixtureNames, count: 20000, seed: 1)
        #expect(tally.mismatches == 0, "\(tally)\n\(tally.firstMismatch ?? "")")
        #expect(tally.fast * 100 >= tally.total * 70, "\(tally)")
    }

    @Test func templatedTierMatchesGeneralPath() {
        let tally = FastPathTests.compare(Fixture.catalog(), names: FastPathTests.fixtureNames, count: 10000, seed: 11,
                                          express: false)
        #expect(tally.mismatches == 0, "\(tally)\n\(tally.firstMismatch ?? "")")
        #expect(tally.express == 0 && tally.templated * 100 >= tally.total * 70, "\(tally)")
    }

    @Test func smallPayloadTruncatesTheSame() {
        let tally = FastPathTests.compare(Fixture.catalog(udpPayloadSize: 512), names: FastPathTests.fixtureNames,
                                          count: 5000, seed: 2)
        #expect(tally.mismatches == 0, "\(tally)\n\(tally.firstMismatch ?? "")")
    }

    @Test func ecsDisabledMatchesGeneralPath() {
        var ecs = ServerSettings.ECS()
        ecs.enabled = false
        let tally = FastPathTests.compare(Fixture.catalog(ecs: ecs), names: FastPathTests.fixtureNames, count: 5000, seed: 3)
        #expect(tally.mismatches == 0, "\(tally)\n\(tally.firstMismatch ?? "")")
    }

    @Test func narrowECSLimitsMatchGeneralPath() {
        var ecs = ServerSettings.ECS()
        ecs.maxSourceV4 = 16
        ecs.maxSourceV6 = 0
        let tally = FastPathTests.compare(Fixture.catalog(ecs: ecs), names: FastPathTests.fixtureNames, count: 5000, seed: 4)
        #expect(tally.mismatches == 0, "\(tally)\n\(tally.firstMismatch ?? "")")
    }

    @Test func yamlScenarioWithDemoDatabaseMatchesGeneralPath() throws {
        let catalog = try PolicyLoader.load(yaml: YAMLScenarioTests.policy, path: "scenario.yaml",
                                            database: try YAMLScenarioTests.database())
        let tally = FastPathTests.compare(catalog, names: FastPathTests.fixtureNames, count: 20000, seed: 5)
        #expect(tally.mismatches == 0, "\(tally)\n\(tally.firstMismatch ?? "")")
        #expect(tally.fast * 100 >= tally.total * 70, "\(tally)")
    }

    @Test func projectConfigMatchesGeneralPath() throws {
        let catalog = try PolicyLoader.load(path: YAMLScenarioTests.repository + "/config.yaml")
        let tally = FastPathTests.compare(catalog, names: FastPathTests.fixtureNames, count: 20000, seed: 6)
        #expect(tally.mismatches == 0, "\(tally)\n\(tally.firstMismatch ?? "")")
        #expect(tally.fast * 100 >= tally.total * 70, "\(tally)")
    }

    @Test(.enabled(if: GeoLite2.path != nil, "GeoLite2-City (PyPI maxminddb-geolite2) is not installed"))
    func geoLite2MatchesGeneralPath() throws {
        let catalog = try #require(GeoLite2ScopeTests.catalog)
        let tally = FastPathTests.compare(catalog, names: FastPathTests.fixtureNames, count: 30000, seed: 7)
        #expect(tally.mismatches == 0, "\(tally)\n\(tally.firstMismatch ?? "")")
        #expect(tally.fast * 100 >= tally.total * 70, "\(tally)")
    }

    /// Steered names: every reply the general engine gives (answer, NODATA, CNAME) through the
    /// fast path's table lookup, with the scope — for subnets spread over both address spaces.
    @Test func steeredNamesAreAnsweredByTheExpressTier() {
        let catalog = Fixture.catalog()
        let fast = Authority.FastPath(catalog: catalog)
        var scratch = Authority.FastPathScratch()
        var out = [UInt8](repeating: 0, count: 65536)
        var g = Generator(state: 8)
        for name in ["www.example.com.", "cdn.example.com.", "v6eu.example.com.", "x.geo.example.com.", "WwW.ExAmple.COM."] {
            for type in [RRType.a, .aaaa, .cname] {
                for _ in 0..<200 {
                    let subnet = g.chance(50)
                        ? ClientSubnet(ipv4: IPv4Address(rawValue: UInt32(truncatingIfNeeded: g.next())), sourcePrefix: 24)
                        : ClientSubnet(ipv6: IPv6Address(rawValue: UInt128(g.next()) << 64), sourcePrefix: 48)
                    var header = Header(id: 7)
                    header.questionCount = 1
                    let m = Message(header: header, questions: [Question(name: Fixture.name(name), type: type)],
                                    edns: EDNS(clientSubnet: subnet))
                    let bytes = m.encode()
                    let n = out.withUnsafeMutableBytes { o in
                        bytes.withUnsafeBytes { fast.respond(to: $0, source: .v4(0x7F00_0001), into: o, scratch: &scratch) }
                    }
                    #expect(scratch.lastTier == .express, "\(name) \(type)")
                    #expect(n > 0 && Array(out.prefix(n)) == Authority.respond(to: bytes, source: .v4(0x7F00_0001), transport: .udp, catalog: catalog))
                }
            }
        }
    }

    /// Many steered names of one shape share their plans (reload time at 100,000 names); a
    /// name a body writes below itself (the CNAME pool's target under s1) must not.
    @Test func namesOfOneShapeSharePlansAndStillMatch() throws {
        var yaml = """
        regions:
          europe: { continents: [EU] }
          asia:   { continents: [AS] }
        pools:
          eu:     { A: 198.51.100.10, AAAA: "2001:db8:e::10" }
          as:     { CNAME: a.s1.example.com. }
          global: { A: 198.51.100.1 }
        zones:
          example.com:
            soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 1, minimum: 300 }
            ns: [ns1.example.com.]
            records: { ns1: { A: 192.0.2.53 }, a.s1: { A: 192.0.2.99 } }
            steer:

        """
        var names: [String] = []
        for i in 0..<60 {
            yaml += i == 0 ? "      s\(i): { ttl: 60, regions: &r { europe: [eu], asia: [as] }, default: global }\n"
                           : "      s\(i): { ttl: 60, regions: *r, default: global }\n"
            names.append("s\(i).example.com.")
        }
        let catalog = try PolicyLoader.load(yaml: yaml, path: "shapes.yaml", database: try YAMLScenarioTests.database())
        let fast = Authority.FastPath(catalog: catalog)
        #expect(fast.statistics.sharedPlanSets >= 50, "\(fast.statistics)")
        let tally = FastPathTests.compare(catalog, names: names + ["a.s1.example.com.", "example.com."], count: 10000, seed: 13)
        #expect(tally.mismatches == 0, "\(tally)\n\(tally.firstMismatch ?? "")")
        #expect(tally.express * 100 >= tally.total * 60, "\(tally)")
    }

    /// The first-level /16 index over large IPv4 tables gives exactly `PrefixMap.lookup`'s value
    /// and scope: random addresses and every run boundary.
    @Test(.enabled(if: GeoLite2.path != nil, "GeoLite2-City (PyPI maxminddb-geolite2) is not installed"))
    func indexedIPv4LookupEqualsTableLookup() throws {
        let catalog = try #require(GeoLite2ScopeTests.catalog)
        let fast = Authority.FastPath(catalog: catalog)
        #expect(fast.statistics.v4Indexes > 0)
        var g = Generator(state: 12)
        var checked = 0, mismatches = 0
        for s in fast.steered where s.v4Index >= 0 {
            var addresses: [UInt32] = (0..<20000).map { _ in UInt32(truncatingIfNeeded: g.next()) }
            for start in s.table.v4.starts { addresses.append(start); addresses.append(start &- 1) }
            addresses.append(contentsOf: [0, .max, 0xFFFF_0000, 0x0001_0000, 0x0000_FFFF])
            for a in addresses {
                let x = fast.decide(s, .v4(a)), y = s.table.lookup(.v4(a))
                checked += 1
                if x.value != y.value || x.scope != y.scope { mismatches += 1 }
            }
        }
        #expect(checked > 0 && mismatches == 0, "\(mismatches) of \(checked)")
    }

    @Test func planCoversEveryName() {
        let fast = Authority.FastPath(catalog: Fixture.catalog())
        #expect(fast.statistics.unsafeZones == 0)
        #expect(fast.statistics.names >= 30)
    }

    /// A zone whose empty non-terminals are missing (a hand-built catalog breaking `Zone.nodes`'
    /// promise) is left to the general engine, and still answered the same.
    @Test func zoneWithoutEmptyNonTerminalsFallsBack() {
        var catalog = Fixture.catalog()
        if let zi = catalog.zones.firstIndex(where: { $0.apex == Fixture.name("example.com.") }) {
            catalog.zones[zi].nodes[Fixture.name("deep.wild.example.com.")] = nil
        }
        let fast = Authority.FastPath(catalog: catalog)
        #expect(fast.statistics.unsafeZones == 1)
        let tally = FastPathTests.compare(catalog, names: FastPathTests.fixtureNames, count: 3000, seed: 9)
        #expect(tally.mismatches == 0, "\(tally)\n\(tally.firstMismatch ?? "")")
    }
}
