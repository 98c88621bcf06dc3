import Foundation
import Testing

/// Issue 17, as an operator sees it: the real daemon with GeoLite2-City queried with `dig`, and
/// the `geodns` commands run as CI runs them.
@Suite(.serialized) struct PolicySemanticsTests {
    static func policy(geoip: String) -> String {
        """
        server: { geoip: \(geoip) }
        regions:
          asia:   { continents: [AS] }
          korea:  { countries: [KR] }
          europe: { continents: [EU] }
          office: { networks: [81.2.69.0/24] }
        pools:
          as-web:     { A: 198.51.100.30 }
          kr-web:     { A: 198.51.100.31 }
          eu-web:     { A: 198.51.100.10 }
          office-web: { A: 198.51.100.99 }
          global-web: { A: 198.51.100.1 }
        zones:
          example.com:
            soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 1, minimum: 300 }
            ns: [ns1.example.com.]
            records:
              "@":  { ttl: 3600, MX: [[10, mx.example.com.]], TXT: ["v=spf1 mx -all"] }
              ns1:  { A: 192.0.2.53 }
              mx:   { A: 192.0.2.25 }
            steer:
              "@": { ttl: 60, regions: { asia: [as-web], europe: [eu-web] }, default: global-web }
              www: { ttl: 60, regions: { asia: [as-web], europe: [eu-web] }, default: global-web }
              cdn: { ttl: 60, regions: { korea: [kr-web], asia: [as-web], office: [office-web] }, default: global-web }

        """
    }

    /// The Korean client of `www` gets asia's pool while `cdn` uses korea's; the office network
    /// listed by `cdn` only leaves `www` on europe; the steered apex answers its MX and TXT.
    @Test(.enabled(if: Paths.geoLite2City != nil, "GeoLite2-City (PyPI maxminddb-geolite2) is not installed"))
    func geoLite2RegionFallThroughAndApexRecordsOverDNS() throws {
        let dir = try PolicyDir(yaml: Self.policy(geoip: try #require(Paths.geoLite2City)))
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath, readyTimeout: 240)
        defer { daemon.stop() }
        let www = daemon.dig("www.example.com", "A", subnet: "1.11.0.0/24")
        #expect(www.data("A") == ["198.51.100.30"], "\(www)")
        #expect((www.ecsScope ?? 0) > 0 && (www.ecsScope ?? 99) <= 24, "\(www)")
        let cdn = daemon.dig("cdn.example.com", "A", subnet: "1.11.0.0/24")
        #expect(cdn.data("A") == ["198.51.100.31"], "\(cdn)")
        #expect(daemon.dig("www.example.com", "A", subnet: "81.2.69.0/24").data("A") == ["198.51.100.10"])
        let office = daemon.dig("cdn.example.com", "A", subnet: "81.2.69.0/24")
        #expect(office.data("A") == ["198.51.100.99"] && office.ecsScope == 24, "\(office)")
        // Outside the office, in Europe: cdn lists no European region, so its default.
        #expect(daemon.dig("cdn.example.com", "A", subnet: "81.2.70.0/24").data("A") == ["198.51.100.1"])

        let mx = daemon.dig("example.com", "MX", subnet: "1.11.0.0/24")
        #expect(mx.status == "NOERROR" && mx.flags.contains("aa") && mx.data("MX") == ["10 mx.example.com."], "\(mx)")
        #expect(mx.ecsScope == 0, "static data does not depend on the client: \(mx)")
        let txt = daemon.dig("example.com", "TXT")
        #expect(txt.data("TXT") == ["\"v=spf1 mx -all\""], "\(txt)")
        #expect(daemon.dig("example.com", "A", subnet: "1.11.0.0/24").data("A") == ["198.51.100.30"])
        #expect(daemon.dig("example.com", "SOA").answer.count == 1)

        // explain shows the chain it walked.
        let explain = run(Paths.geodns, ["explain", "--config", dir.configPath, "www.example.com", "A", "--subnet", "1.11.0.0/24"], timeout: 240)
        #expect(explain.status == 0, "\(explain.stderr)")
        #expect(explain.stdout.contains("region chain: korea (country KR) -> asia (continent AS)"), "\(explain.stdout)")
        #expect(explain.stdout.contains("regions walked: korea (not listed) -> asia (listed)"), "\(explain.stdout)")
        #expect(explain.stdout.contains("-> pool as-web"), "\(explain.stdout)")
    }

    /// `order: rotate`: 100 dig queries (random IDs) see every rotation of the pool, each with
    /// all its addresses; a fixed pool keeps its written order every time.
    @Test func rotationObservedOver100Queries() throws {
        let dir = try PolicyDir(yaml: """
        server: { geoip: data/geodns-demo.mmdb }
        regions:
          europe: { continents: [EU] }
        pools:
          eu-web: { A: [198.51.100.10, 198.51.100.11, 198.51.100.12], order: rotate }
          fixed:  { A: [192.0.2.3, 192.0.2.1, 192.0.2.2], order: fixed }
        zones:
          example.com:
            soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 1 }
            ns: [ns1.example.com.]
            records: { ns1: { A: 192.0.2.53 } }
            steer:
              www: { regions: { europe: [eu-web] }, default: fixed }

        """)
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        var orders: [[String]: Int] = [:]
        for i in 0..<100 {
            let r = daemon.dig("www.example.com", "A", subnet: "81.2.69.0/24", i % 2 == 0 ? [] : ["+tcp"])
            let order = r.answer.filter { $0.type == "A" }.map(\.data)
            #expect(order.sorted() == ["198.51.100.10", "198.51.100.11", "198.51.100.12"], "\(r)")
            orders[order, default: 0] += 1
        }
        #expect(Set(orders.keys) == [["198.51.100.10", "198.51.100.11", "198.51.100.12"],
                                     ["198.51.100.11", "198.51.100.12", "198.51.100.10"],
                                     ["198.51.100.12", "198.51.100.10", "198.51.100.11"]], "\(orders)")
        for _ in 0..<10 {
            let r = daemon.dig("www.example.com", "A", subnet: "8.8.8.0/24")
            #expect(r.answer.map(\.data) == ["192.0.2.3", "192.0.2.1", "192.0.2.2"], "\(r)")
        }
        // The database's metadata is logged at load and at every swap.
        let summary = "type GeoDNS-City, IPv6 tree"
        #expect(daemon.log.components(separatedBy: summary).count - 1 == 1, "\(daemon.log)")
        daemon.signal(SIGHUP)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !daemon.log.contains("policy reloaded") { usleep(50_000) }
        usleep(200_000)
        let log = daemon.log
        #expect(log.components(separatedBy: summary).count - 1 == 2, "\(log)")
        #expect(log.contains("built 2025-11-26T00:00:00Z") && log.contains("nodes (record size"), "\(log)")
    }

    /// `asns:` steering with GeoLite2-City plus an ASN database built from a `network,asn` CSV
    /// by `geodns mmdb build`; without the ASN database `check` says why asns: cannot match.
    @Test(.enabled(if: Paths.geoLite2City != nil, "GeoLite2-City (PyPI maxminddb-geolite2) is not installed"))
    func geoLite2PlusASNDatabaseBuiltFromCSV() throws {
        let city = try #require(Paths.geoLite2City)
        let dir = try PolicyDir(yaml: "")
        defer { dir.remove() }
        let csv = dir.url.appendingPathComponent("asn.csv").path
        try "# build_epoch: 1764115200\nnetwork,asn\n1.11.0.0/16,AS4766\n8.8.8.0/24,15169\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let asn = dir.url.appendingPathComponent("asn.mmdb").path
        let build = run(Paths.geodns, ["mmdb", "build", csv, "-o", asn, "--database-type", "GeoDNS-ASN"])
        #expect(build.status == 0, "\(build.stderr)")
        _ = run("/bin/chmod", ["a+r", asn])
        let yaml = { (geoip: String) in """
            server: { geoip: \(geoip) }
            regions:
              asia: { continents: [AS] }
              kt:   { asns: [4766] }
            pools:
              as-web: { A: 198.51.100.30 }
              kt-web: { A: 198.51.100.40 }
              global: { A: 198.51.100.1 }
            zones:
              example.com:
                soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 1 }
                ns: [ns1.example.com.]
                records: { ns1: { A: 192.0.2.53 } }
                steer:
                  www: { regions: { kt: [kt-web], asia: [as-web] }, default: global }

            """ }
        try dir.write(yaml(city))
        let noASN = run(Paths.geodns, ["check", dir.configPath], timeout: 240)
        #expect(noASN.status != 0 && noASN.stderr.contains("config.yaml:4:18: region 'kt': asns (AS4766) can never match: the database (GeoLite2-City) has no ASN data"), "\(noASN.stderr)")
        try dir.write(yaml("{ location: \(city), asn: asn.mmdb }"))
        let ok = run(Paths.geodns, ["check", "--strict", dir.configPath], timeout: 240)
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        let daemon = try Daemon(config: dir.configPath, readyTimeout: 240)
        defer { daemon.stop() }
        let kt = daemon.dig("www.example.com", "A", subnet: "1.11.0.0/24")
        #expect(kt.data("A") == ["198.51.100.40"] && kt.ecsScope == 16, "\(kt)")
        let asia = daemon.dig("www.example.com", "A", subnet: "1.0.16.0/24")
        #expect(asia.data("A") == ["198.51.100.30"], "\(asia)")
        #expect(daemon.log.contains("type GeoLite2-City") && daemon.log.contains("type GeoDNS-ASN"), "\(daemon.log)")
    }

    static let relativeTargets = """
    pools:
      web: { A: 192.0.2.1 }
    zones:
      example.com:
        soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 1 }
        ns: [ns1]
        records:
          ns1:   { A: 192.0.2.53 }
          alias: { CNAME: cdn.example.net }
        steer:
          www: { default: web }
    tests:
      - { query: www.example.com A, expect: [192.0.2.1] }

    """

    /// A relative target that goes nowhere is a warning with the expanded name and the fix;
    /// `--strict` makes it fail; every command takes the policy as FILE or --config FILE.
    @Test func relativeTargetWarningStrictAndBothPolicyForms() throws {
        let dir = try PolicyDir(yaml: Self.relativeTargets)
        defer { dir.remove() }
        let path = dir.configPath
        let plain = run(Paths.geodns, ["check", path])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stderr.contains("config.yaml:9:23: warning: 'cdn.example.net' (target in CNAME at alias.example.com.) is relative: it expands to cdn.example.net.example.com., which has no records in example.com.; write 'cdn.example.net.' (final dot) if you mean that absolute name"), "\(plain.stderr)")
        let strict = run(Paths.geodns, ["check", "--strict", path])
        #expect(strict.status != 0, "\(strict.stdout)")
        #expect(strict.stderr.contains("1 warning(s), and --strict makes warnings fail"), "\(strict.stderr)")
        #expect(run(Paths.geodns, ["check", "--strict", "--config", path]).status != 0)
        let viaOption = run(Paths.geodns, ["check", "--config", path])
        #expect(viaOption.status == 0 && viaOption.stdout.split(separator: "\n").first == plain.stdout.split(separator: "\n").first, "\(viaOption.stdout)")
        // Fixed: --strict passes.
        try dir.write(Self.relativeTargets.replacingOccurrences(of: "CNAME: cdn.example.net }", with: "CNAME: cdn.example.net. }"))
        let fixed = run(Paths.geodns, ["check", "--strict", path])
        #expect(fixed.status == 0 && !fixed.stderr.contains("warning"), "\(fixed.stderr)")
        for args in [["test", path], ["test", "--config", path], ["test", "-c", path]] {
            let r = run(Paths.geodns, args)
            #expect(r.status == 0 && r.stdout.contains("1 passed, 0 failed"), "\(args): \(r.stdout)\(r.stderr)")
        }
        for args in [["explain", "www.example.com", "A", path, "--subnet", "192.0.2.0/24"],
                     ["explain", "www.example.com", path, "--subnet", "192.0.2.0/24"],
                     ["explain", "--config", path, "www.example.com", "--subnet", "192.0.2.0/24"]] {
            let r = run(Paths.geodns, args)
            #expect(r.status == 0 && r.stdout.contains("www.example.com. 60 IN A 192.0.2.1"), "\(args): \(r.stdout)\(r.stderr)")
        }
        let twice = run(Paths.geodns, ["check", "--config", path, "/elsewhere.yaml"])
        #expect(twice.status != 0 && twice.stderr.contains("the policy is given twice"), "\(twice.stderr)")
    }
}
