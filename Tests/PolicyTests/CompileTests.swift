import DNSWire
import Foundation
import Testing
@testable import Policy

/// Compiling without a database: explicit networks, zones, names, record forms, sharing.
@Suite struct CompileTests {
    static let overridesPolicy = """
    regions:
      office:  { networks: [203.0.113.0/24, "2001:db8:1::/48"] }
      lab:     { networks: [10.0.0.0/8] }
      lab-net: { networks: [10.1.0.0/16] }
      europe:  { continents: [EU] }
    pools:
      office-web: { A: 192.0.2.100 }
      lab-web:    { A: 192.0.2.110, AAAA: "2001:db8::110" }
      lab2-web:   { A: 192.0.2.111 }
      global:     { A: 192.0.2.1, AAAA: "2001:db8::1" }
      same-as-global: { A: 192.0.2.1 }
      cdn:        { CNAME: cdn.example.net. }
    zones:
      example.com:
        soa: { mname: ns1, rname: hostmaster@example.com, serial: 7, minimum: 60, ttl: 1h }
        ns: { ttl: 1d, names: [ns1, ns2.example.com.] }
        ttl: 120
        records:
          "@": { MX: "10 mx", TXT: v=spf1 -all }
          ns1: { A: 192.0.2.53 }
          ns2: { A: [192.0.2.54] }
          a.b.c: { TXT: [[part one, part two], single], ttl: 5m }
          "*.dyn": { A: 192.0.2.77 }
          _sip._udp: { SRV: [10, 60, 5060, sip] }
          srv2: { SRV: ["1 2 3 t1.example.net.", [4, 5, 6, t2]] }
          alias: { CNAME: www }
          ptr: { PTR: host.example.net. }
          deleg: { NS: [ns.other.net.] }
        steer:
          www:
            ttl: 30
            regions: { office: [office-web, global], lab: [lab-web], lab-net: [lab2-web, lab-web], europe: [cdn] }
            default: global
          "*.svc": { regions: { office: [office-web] }, default: same-as-global, fallback: notimp }
          same1: { regions: { office: [office-web] }, default: global }
          same2: { regions: { office: [office-web] }, default: global }

    """

    @Test func settingsDefaults() throws {
        let catalog = try load(basePolicy)
        let s = catalog.settings
        #expect(s.listen.map(\.description) == ["127.0.0.1:5353"])
        #expect(s.ecs.enabled && s.ecs.maxSourceV4 == 24 && s.ecs.maxSourceV6 == 56)
        #expect(s.udpPayloadSize == 1232 && s.tcpIdleTimeoutSeconds == 10)
        #expect(s.databasePath == nil)
    }

    @Test func serverSettingsParse() throws {
        let catalog = try PolicyLoader.load(yaml: """
        server:
          listen: ["127.0.0.1:5353", "[::1]:5354"]
          geoip: db/x.mmdb
          ecs: { enabled: false, max_source_v4: 20, max_source_v6: 48 }
          udp_payload_size: 4096
          tcp: { idle_timeout: 2m, max_connections: 10, max_queries_per_connection: 5 }

        """ + basePolicy, path: "/etc/geodns/config.yaml", database: nil)
        let s = catalog.settings
        #expect(s.listen == [.init(host: "127.0.0.1", port: 5353), .init(host: "::1", port: 5354)])
        #expect(s.listen[1].description == "[::1]:5354")
        #expect(s.databasePath == "/etc/geodns/db/x.mmdb")
        #expect(!s.ecs.enabled && s.ecs.maxSourceV4 == 20 && s.ecs.maxSourceV6 == 48)
        #expect(s.udpPayloadSize == 4096 && s.tcpIdleTimeoutSeconds == 120)
        #expect(s.tcpMaxConnections == 10 && s.tcpMaxQueriesPerConnection == 5)
    }

    @Test("server.tcp.max_queries_per_connection: no cap by default, `unlimited` says so, 0 is an error at its line")
    func tcpQueryCap() throws {
        #expect(try PolicyLoader.load(yaml: basePolicy, path: "/x/config.yaml", database: nil).settings.tcpMaxQueriesPerConnection == nil)
        let unlimited = try PolicyLoader.load(yaml: "server:\n  tcp: { max_queries_per_connection: unlimited }\n" + basePolicy,
                                              path: "/x/config.yaml", database: nil)
        #expect(unlimited.settings.tcpMaxQueriesPerConnection == nil)
        #expect(throws: PolicyError.self) {
            try PolicyLoader.load(yaml: "server:\n  tcp: { max_queries_per_connection: 0 }\n" + basePolicy, path: "/x/config.yaml", database: nil)
        }
        do {
            _ = try PolicyLoader.load(yaml: "server:\n  tcp: { max_queries_per_connection: 0 }\n" + basePolicy, path: "/x/config.yaml", database: nil)
        } catch {
            #expect("\(error)".contains("config.yaml:2:"), "\(error)")
            #expect("\(error)".contains("or unlimited"), "\(error)")
        }
    }

    @Test func zoneNodesRecordsAndEmptyNonTerminals() throws {
        let catalog = try load(Self.overridesPolicy)
        let zone = try #require(catalog.zone(for: name("x.example.com.")))
        #expect(zone.apex == name("example.com."))
        #expect(zone.negativeTTL == 60)
        #expect(zone.soa.ttl == 3600)
        guard case .soa(let soa) = zone.soa.rdata else { Issue.record("no SOA"); return }
        #expect(soa.rname.description == "hostmaster.example.com." && soa.mname.description == "ns1.example.com.")
        #expect(soa.serial == 7 && soa.minimum == 60 && soa.refresh == 7200)
        let apex = try #require(zone.nodes[name("example.com.")])
        #expect(apex.rrsets[.ns]?.ttl == 86400)
        #expect(apex.rrsets[.ns]?.rdata == [.ns(name("ns1.example.com.")), .ns(name("ns2.example.com."))])
        #expect(apex.rrsets[.soa] != nil)
        #expect(apex.rrsets[.mx]?.rdata == [.mx(preference: 10, exchange: name("mx.example.com."))])
        #expect(apex.rrsets[.txt]?.rdata == [.txt([Array("v=spf1 -all".utf8)])])
        #expect(apex.rrsets[.txt]?.ttl == 120)
        // a.b.c: data, and b.c + c are empty non-terminals (exist, hold nothing).
        let abc = try #require(zone.nodes[name("a.b.c.example.com.")])
        #expect(abc.rrsets[.txt]?.ttl == 300)
        #expect(abc.rrsets[.txt]?.rdata == [.txt([Array("part one".utf8), Array("part two".utf8)]), .txt([Array("single".utf8)])])
        #expect(zone.nodes[name("b.c.example.com.")]?.isEmpty == true)
        #expect(zone.nodes[name("c.example.com.")]?.isEmpty == true)
        // Wildcards are literal owners; their parents exist.
        #expect(zone.nodes[name("*.dyn.example.com.")]?.rrsets[.a]?.rdata == [.a(IPv4Address(rawValue: 0xC000_024D))])
        #expect(zone.nodes[name("dyn.example.com.")]?.isEmpty == true)
        #expect(zone.nodes[name("*.svc.example.com.")]?.steering?.fallback == .notimp)
        #expect(zone.nodes[name("svc.example.com.")]?.isEmpty == true)
        // _sip._udp: SRV, and _udp is an empty non-terminal.
        #expect(zone.nodes[name("_sip._udp.example.com.")]?.rrsets[.srv]?.rdata == [.srv(priority: 10, weight: 60, port: 5060, target: name("sip.example.com."))])
        #expect(zone.nodes[name("_udp.example.com.")]?.isEmpty == true)
        #expect(zone.nodes[name("srv2.example.com.")]?.rrsets[.srv]?.rdata == [
            .srv(priority: 1, weight: 2, port: 3, target: name("t1.example.net.")),
            .srv(priority: 4, weight: 5, port: 6, target: name("t2.example.com."))])
        #expect(zone.nodes[name("alias.example.com.")]?.rrsets[.cname]?.rdata == [.cname(name("www.example.com."))])
        #expect(zone.nodes[name("ptr.example.com.")]?.rrsets[.ptr]?.rdata == [.ptr(name("host.example.net."))])
        #expect(zone.nodes[name("deleg.example.com.")]?.rrsets[.ns]?.rdata == [.ns(name("ns.other.net."))])
        // Nodes are keyed by lowercased names, whatever the spelling in YAML.
        for key in zone.nodes.keys { #expect(key.description == key.description.lowercased()) }
        #expect(zone.nodes.count == 19)
    }

    @Test func keysAreLowercasedAndCaseIsKeptNowhereElse() throws {
        let catalog = try load(basePolicy.replacingOccurrences(of: "      ns1: {", with: "      NS1.Sub: {"))
        let zone = try #require(catalog.zones.first)
        #expect(zone.nodes.keys.contains { $0.description == "ns1.sub.example.com." })
        #expect(zone.nodes.keys.contains { $0.description == "sub.example.com." })
    }

    @Test func overridesClassifyWithoutADatabase() throws {
        let catalog = try load(Self.overridesPolicy)
        let zone = try #require(catalog.zones.first)
        let www = try #require(zone.nodes[name("www.example.com.")]?.steering)
        let a = try #require(www.decision(for: .a))
        func answer(_ text: String, _ d: SteeredDecision) -> (String, UInt8) {
            let (ans, scope) = d.answer(for: ClientAddress(text) ?? .v4(0))
            switch ans {
            case .records(let pool, _): return (pool, scope)
            case .cname(let pool, _): return (pool, scope)
            case .noData: return ("-", scope)
            }
        }
        #expect(answer("203.0.113.9", a) == ("office-web", 24))
        #expect(answer("10.1.2.3", a) == ("lab2-web", 16))        // the longer override wins
        #expect(answer("10.2.0.1", a) == ("lab-web", 15))          // 10.2/15 lies inside 10/8 outside 10.1/16
        #expect(answer("10.0.0.1", a) == ("lab-web", 16))
        #expect(answer("192.0.2.1", a) == ("global", 5))           // 192.0.0.0/5: the widest block with no override
        #expect(answer("8.8.8.8", a) == ("global", 7))             // 8.0.0.0/7 stops short of 10/8
        // AAAA: lab-net has no AAAA and falls to lab-web; office has no AAAA and falls to global.
        let aaaa = try #require(www.decision(for: .aaaa))
        #expect(answer("10.1.2.3", aaaa) == ("lab-web", 8))       // lab and lab-net now agree: one /8
        #expect(answer("203.0.113.9", aaaa).0 == "global")
        #expect(answer("2001:db8:1::5", aaaa).0 == "global")
        #expect(answer("2001:db8:1::5", a).0 == "office-web")
        #expect(answer("2001:db8:1::5", a).1 == 48)
        // Europe is a continent: without a database nobody is in it, so its CNAME pool answers
        // nobody: the CNAME decision exists but gives NODATA everywhere, with scope 0.
        let cname = try #require(www.decision(for: .cname))
        #expect(answer("8.8.8.8", cname) == ("-", 0))
        #expect(answer("10.1.2.3", try #require(www.decision(for: .mx))) == ("-", 0))
        #expect(www.ttl == 30)
        // The rule as written, for explain.
        #expect(www.regionPools == [0: ["office-web", "global"], 1: ["lab-web"], 2: ["lab2-web", "lab-web"], 3: ["cdn"]])
        #expect(www.defaultPools == ["global"])
    }

    @Test func decisionsWithOneAnswerHaveScopeZeroAndIdenticalMappingsShareATable() throws {
        let catalog = try load(Self.overridesPolicy)
        let zone = try #require(catalog.zones.first)
        // *.svc: office-web vs same-as-global for A: two answers; AAAA: nobody has AAAA except none -> missing.
        let svc = try #require(zone.nodes[name("*.svc.example.com.")]?.steering)
        #expect(svc.decision(for: .aaaa) == nil)
        // same1/same2 have the same mapping: the same table storage.
        let s1 = try #require(zone.nodes[name("same1.example.com.")]?.steering?.decision(for: .aaaa))
        let s2 = try #require(zone.nodes[name("same2.example.com.")]?.steering?.decision(for: .aaaa))
        #expect(s1.answers.count == 1)
        #expect(s1.answer(for: .v4(0x0A00_0001)).scope == 0)
        #expect(s2.answer(for: .v6(1)).scope == 0)
        let report = try #require(catalog.report)
        // www: A (5 answers), AAAA (3), CNAME and other types (2, one shape); *.svc A (2);
        // same1/same2: A (the same shape as *.svc A) and AAAA (one answer: constant, no table).
        #expect(report.decisions == 9)
        #expect(report.distinctTables == 4)
        #expect(report.databaseNetworks == 0)
    }

    @Test func warningsDoNotStopLoading() throws {
        let catalog = try load(basePolicy
            .replacingOccurrences(of: "pools:\n", with: "  unused: { networks: [192.0.2.0/24] }\npools:\n")
            .replacingOccurrences(of: "europe: [eu] }", with: "europe: [cdn, eu] }"))
        #expect(catalog.warnings.map(\.description) == [
            "t.yaml:2:3: warning: region 'europe' matches on the database (continents, countries, subdivisions, asns) but no server.geoip database is loaded: only its networks: match",
            "t.yaml:3:3: warning: region 'unused' is not used by any steered name",
            "t.yaml:15:39: warning: pool 'eu' in steer www.example.com. region europe is never used: CNAME pool 'cdn' before it answers every type",
        ])
    }

    @Test func warnsAboutOccludedNamesAndCNAMELoops() throws {
        let catalog = try load(basePolicy.replacingOccurrences(of: "    records:\n", with: """
            records:
              sub: { NS: ns.other.net. }
              a.sub: { A: 192.0.2.9 }
              x: { CNAME: y }
              y: { CNAME: x.example.com. }

        """))
        #expect(catalog.warnings.map(\.description).contains("t.yaml:13:7: warning: a.sub.example.com. is below the delegation at sub.example.com. (NS records there) and will never be served"))
        #expect(catalog.warnings.map(\.description).contains("t.yaml:14:7: warning: CNAME loop: x.example.com. -> y.example.com. -> x.example.com."))
        #expect(catalog.warnings.filter { $0.message.contains("CNAME loop") }.count == 1)
    }

    @Test func warnsAboutARelativeNameThatRepeatsTheZone() throws {
        let catalog = try load(basePolicy.replacingOccurrences(of: "ns: [ns1]", with: "ns: [ns1.example.com]"))
        #expect(catalog.warnings.map(\.description).contains(
            "t.yaml:10:10: warning: NS name 'ns1.example.com' is relative, so it means ns1.example.com.example.com.; write 'ns1.example.com.' if you meant the name itself"))
    }

    /// A relative target that expands to a name of the zone with no records goes nowhere: a
    /// warning with the expanded name and the final dot; targets that exist (or a wildcard
    /// answers) and absolute ones are quiet.
    @Test func warnsAboutRelativeTargetsThatGoNowhere() throws {
        let yaml = basePolicy.replacingOccurrences(of: "      ns1: { A: 192.0.2.53 }\n", with: """
              ns1: { A: 192.0.2.53 }
              a: { CNAME: cdn.example.net }
              b: { CNAME: ns1 }
              c: { CNAME: x.dyn }
              "*.dyn": { A: 192.0.2.7 }
              d: { CNAME: cdn.example.net. }
              "@": { MX: [[10, mail.example.net]] }
              _s._tcp: { SRV: [[0, 0, 443, nowhere]] }

        """)
        let warnings = try load(yaml).warnings.map(\.description)
        #expect(warnings.contains("t.yaml:13:19: warning: 'cdn.example.net' (target in CNAME at a.example.com.) is relative: it expands to cdn.example.net.example.com., which has no records in example.com.; write 'cdn.example.net.' (final dot) if you mean that absolute name"), "\(warnings)")
        #expect(warnings.contains { $0.contains("'mail.example.net' (exchange in MX at example.com.) is relative: it expands to mail.example.net.example.com.") }, "\(warnings)")
        #expect(warnings.contains { $0.contains("'nowhere' (target in SRV at _s._tcp.example.com.) is relative: it expands to nowhere.example.com., which has no records in example.com.; define it in records:") }, "\(warnings)")
        #expect(warnings.filter { $0.contains("is relative: it expands") }.count == 3, "\(warnings)")
    }

    @Test func identicalDataFromTwoPoolsIsOneAnswer() throws {
        // "global" and "same-as-global" give the same A RRset: one answer, so one run.
        let yaml = basePolicy.replacingOccurrences(of: "  europe: { continents: [EU] }", with: "  europe: { networks: [0.0.0.0/1] }")
            .replacingOccurrences(of: "  eu: { A: 192.0.2.10 }", with: "  eu: { A: 192.0.2.1 }")
        let catalog = try load(yaml)
        let d = try #require(catalog.zones.first?.nodes[name("www.example.com.")]?.steering?.decision(for: .a))
        #expect(d.answers.count == 1)
        #expect(d.answer(for: .v4(1)).scope == 0)
    }

    @Test func relativeAbsoluteAndApexNames() throws {
        let yaml = basePolicy.replacingOccurrences(of: "    records:\n", with: """
            records:
              "@": { TXT: apex }
              abs.example.com.: { A: 192.0.2.2 }
              rel: { CNAME: "@" }

        """)
        let zone = try #require(try load(yaml).zones.first)
        #expect(zone.nodes[name("example.com.")]?.rrsets[.txt] != nil)
        #expect(zone.nodes[name("abs.example.com.")]?.rrsets[.a] != nil)
        #expect(zone.nodes[name("rel.example.com.")]?.rrsets[.cname]?.rdata == [.cname(name("example.com."))])
    }

    @Test func severalZonesMostSpecificFirst() throws {
        let yaml = basePolicy + """
          sub.example.com:
            soa: { mname: ns1.example.com., rname: hostmaster.example.com. }
            ns: [ns1.example.com.]
            records: { www: { A: 192.0.2.9 } }
          example.org:
            soa: { mname: ns1.example.com., rname: hostmaster.example.com. }
            ns: ns1.example.com.

        """
        let catalog = try load(yaml)
        #expect(catalog.zones.count == 3)
        #expect(catalog.zone(for: name("www.sub.example.com."))?.apex == name("sub.example.com."))
        #expect(catalog.zone(for: name("www.example.com."))?.apex == name("example.com."))
        #expect(catalog.zone(for: name("a.example.org."))?.apex == name("example.org."))
        #expect(catalog.zone(for: name("example.net.")) == nil)
    }

    @Test func policyTestsParse() throws {
        let catalog = try load(basePolicy + """
        tests:
          - { query: www.example.com A, subnet: 81.2.69.0/24, expect: [192.0.2.10], scope: 16 }
          - { query: "www.example.com AAAA", expect: "2001:db8::1" }

        """)
        #expect(catalog.tests.count == 2)
        #expect(catalog.tests[0] == PolicyTest(name: name("www.example.com."), type: .a, subnet: "81.2.69.0/24",
                                               expect: ["192.0.2.10"], expectScope: 16, line: 16))
        #expect(catalog.tests[1].type == .aaaa && catalog.tests[1].subnet == nil && catalog.tests[1].expect == ["2001:db8::1"])
    }

    @Test func ipv4OverridesCoverMappedAddresses() throws {
        let catalog = try load(Self.overridesPolicy)
        let www = try #require(catalog.zones.first?.nodes[name("www.example.com.")]?.steering?.decision(for: .a))
        let mapped = ClientAddress.v6(UInt128(0xFFFF) << 32 | 0xCB00_7105)   // ::ffff:203.0.113.5
        guard case .records(let pool, _) = www.answer(for: mapped).answer else { Issue.record("no answer"); return }
        #expect(pool == "office-web")
        #expect(www.answer(for: mapped).scope == 120)
        let m = catalog.classify(mapped)
        #expect(m.regionName == "office" && m.compiledRegion == m.region)
        #expect(m.rule == "networks 203.0.113.0/24 (override)")
    }

    @Test func classifyExplainsOverrides() throws {
        let catalog = try load(Self.overridesPolicy)
        let m = catalog.classify(.v4(0x0A01_0203))   // 10.1.2.3
        #expect(m.regionName == "lab-net")
        #expect(m.rule == "networks 10.1.0.0/16 (override)")
        #expect(m.compiledRegion == m.region)
        let none = catalog.classify(.v4(0x0808_0808))
        #expect(none.regionName == nil && none.region == catalog.regions.count)
        #expect(none.rule.contains("-> default"))
    }

    @Test func loadsFromAFileAndReportsUnreadableOnes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("config.yaml").path
        try basePolicy.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try PolicyLoader.load(path: file).zones.count == 1)
        // A geoip path that does not exist: an error at the geoip: value.
        try ("server:\n  geoip: missing.mmdb\n" + basePolicy).write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try PolicyLoader.load(path: file)
            Issue.record("loaded a policy whose database is missing")
        } catch {
            #expect(error.description.hasPrefix("\(file):2:10: cannot open the GeoIP database"), "\(error)")
        }
        do {
            _ = try PolicyLoader.load(path: dir.appendingPathComponent("nope.yaml").path)
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.description.contains("cannot read the policy file"))
        }
    }

    @Test func topLevelConfigLoadsWithoutItsDatabase() throws {
        let text = try String(contentsOfFile: repositoryRoot + "/config.yaml", encoding: .utf8)
        let catalog = try PolicyLoader.load(yaml: text, path: repositoryRoot + "/config.yaml", database: nil)
        #expect(catalog.settings.listen.map(\.description) == ["127.0.0.1:5353"])
        #expect(catalog.settings.databasePath == repositoryRoot + "/data/geodns-demo.mmdb")
        #expect(catalog.tests.count >= 9)
        let zone = try #require(catalog.zones.first)
        #expect(zone.soa.ttl == 3600 && zone.negativeTTL == 300)
        #expect(zone.nodes[name("example.com.")]?.rrsets[.ns]?.ttl == 86400)
        #expect(zone.nodes[name("ns1.example.com.")]?.rrsets[.a]?.ttl == 86400)
        #expect(zone.nodes[name("mail.example.com.")]?.rrsets[.mx]?.ttl == 3600)
        // Without a database nobody is in a continent: everyone gets the default.
        let www = try #require(zone.nodes[name("www.example.com.")]?.steering)
        guard case .records(let pool, let rrset) = www.decision(for: .a)?.answer(for: .v4(0x5102_4500)).answer else {
            Issue.record("no www A"); return
        }
        #expect(pool == "global-web" && rrset.ttl == 60)
    }
}
