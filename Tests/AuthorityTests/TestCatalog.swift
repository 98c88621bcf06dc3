import DNSWire
import Policy
@testable import Authority

/// Builds small catalogs by hand (no YAML, no database) and sends queries through the engine the
/// way the server does, decoding replies as a dig user would read them.
enum Fixture {
    static func name(_ text: String) -> DomainName {
        (try? DomainName(text)) ?? .root
    }
    static func v4(_ text: String) -> IPv4Address { IPv4Address(text) ?? IPv4Address(rawValue: 0) }
    static func v6(_ text: String) -> IPv6Address { IPv6Address(text) ?? IPv6Address(rawValue: 0) }

    /// Regions of the hand-built catalog: networks standing in for the continents of scenario.md.
    static let europe = 0, northAmerica = 1, asia = 2, noRegion = 3
    static let v4Regions: [PrefixMap<UInt32>.Network] = [
        .init(address: v4("81.2.0.0").rawValue, prefixLength: 16, value: europe),
        .init(address: v4("82.69.80.0").rawValue, prefixLength: 20, value: europe),
        .init(address: v4("8.8.0.0").rawValue, prefixLength: 13, value: northAmerica),
        .init(address: v4("1.0.16.0").rawValue, prefixLength: 20, value: asia),
    ]
    static let v6Regions: [PrefixMap<UInt128>.Network] = [
        .init(address: v6("2a02:2600::").rawValue, prefixLength: 23, value: europe),
        .init(address: v6("2001:4860::").rawValue, prefixLength: 32, value: northAmerica),
        .init(address: v6("2001:200::").rawValue, prefixLength: 23, value: asia),
    ]
    static let regionTable = DecisionTable(v4: PrefixMap(base: v4Regions, defaultValue: noRegion),
                                           v6: PrefixMap(base: v6Regions, defaultValue: noRegion))

    /// A decision: region id -> answer, as the compiler builds it (re-labelled region table).
    static func decision(_ perRegion: [Int: SteeredAnswer], default fallback: SteeredAnswer) -> SteeredDecision {
        var answers: [SteeredAnswer] = []
        var index: [Int: Int] = [:]
        for region in 0...noRegion {
            let a = perRegion[region] ?? fallback
            if let i = answers.firstIndex(of: a) { index[region] = i } else { index[region] = answers.count; answers.append(a) }
        }
        return SteeredDecision(table: regionTable.mapValues { index[$0] ?? 0 }, answers: answers)
    }

    static func records(_ pool: String, ttl: UInt32, _ rdata: RData...) -> SteeredAnswer {
        .records(pool: pool, rrset: RRSet(type: rdata.first?.type ?? .a, ttl: ttl, rdata: rdata))
    }

    static let soa = SOAData(mname: name("ns1.example.com."), rname: name("hostmaster.example.com."),
                             serial: 2026112601, refresh: 7200, retry: 3600, expire: 1209600, minimum: 300)

    /// scenario.md's zone plus rows the wire table needs (wildcard, ENT, delegation, chains, big RRset).
    static func catalog(ecs: ServerSettings.ECS = ServerSettings.ECS(), udpPayloadSize: UInt16 = 1232) -> Catalog {
        var data: [(String, RRSet)] = [
            ("example.com.", RRSet(type: .ns, ttl: 86400, rdata: [.ns(name("ns1.example.com.")), .ns(name("ns2.example.com."))])),
            ("ns1.example.com.", RRSet(type: .a, ttl: 86400, rdata: [.a(v4("192.0.2.53"))])),
            ("ns2.example.com.", RRSet(type: .a, ttl: 86400, rdata: [.a(v4("192.0.2.54"))])),
            ("mail.example.com.", RRSet(type: .mx, ttl: 3600, rdata: [.mx(preference: 10, exchange: name("mx.example.com."))])),
            ("mx.example.com.", RRSet(type: .a, ttl: 3600, rdata: [.a(v4("192.0.2.25"))])),
            ("txt.example.com.", RRSet(type: .txt, ttl: 3600, rdata: [.txt(text: "v=spf1 -all")])),
            ("_sip._udp.example.com.", RRSet(type: .srv, ttl: 3600,
                                             rdata: [.srv(priority: 10, weight: 60, port: 5060, target: name("sip.example.com."))])),
            ("sip.example.com.", RRSet(type: .a, ttl: 3600, rdata: [.a(v4("192.0.2.60"))])),
            // RFC 4592: *.wild synthesizes; x.deep.wild makes deep.wild an empty non-terminal.
            ("*.wild.example.com.", RRSet(type: .a, ttl: 120, rdata: [.a(v4("192.0.2.80"))])),
            ("x.deep.wild.example.com.", RRSet(type: .a, ttl: 120, rdata: [.a(v4("192.0.2.81"))])),
            ("*.alias.example.com.", RRSet(type: .cname, ttl: 120, rdata: [.cname(name("mx.example.com."))])),
            // Static CNAMEs: into the zone, to a steered name, out of our zones, a loop.
            ("smtp.example.com.", RRSet(type: .cname, ttl: 600, rdata: [.cname(name("mx.example.com."))])),
            ("web.example.com.", RRSet(type: .cname, ttl: 600, rdata: [.cname(name("www.example.com."))])),
            ("out.example.com.", RRSet(type: .cname, ttl: 600, rdata: [.cname(name("target.example.net."))])),
            ("dangling.example.com.", RRSet(type: .cname, ttl: 600, rdata: [.cname(name("gone.example.com."))])),
            ("loop1.example.com.", RRSet(type: .cname, ttl: 600, rdata: [.cname(name("loop2.example.com."))])),
            ("loop2.example.com.", RRSet(type: .cname, ttl: 600, rdata: [.cname(name("loop1.example.com."))])),
            // A delegation with glue.
            ("sub.example.com.", RRSet(type: .ns, ttl: 3600, rdata: [.ns(name("ns.sub.example.com."))])),
            ("ns.sub.example.com.", RRSet(type: .a, ttl: 3600, rdata: [.a(v4("192.0.2.99"))])),
            // 40 addresses: more than 512 bytes.
            ("big.example.com.", RRSet(type: .a, ttl: 60, rdata: (1...40).map { .a(IPv4Address(rawValue: 0xC633_6400 + UInt32($0))) })),
        ]
        data.append(("example.com.", RRSet(type: .soa, ttl: 3600, rdata: [.soa(soa)])))

        let wwwA = decision([europe: records("eu-web", ttl: 60, .a(v4("198.51.100.10"))),
                             northAmerica: records("na-web", ttl: 60, .a(v4("198.51.100.20"))),
                             asia: records("as-web", ttl: 60, .a(v4("198.51.100.30")))],
                            default: records("global", ttl: 60, .a(v4("198.51.100.1"))))
        let wwwAAAA = decision([europe: records("eu-web", ttl: 60, .aaaa(v6("2001:db8:e::10"))),
                                northAmerica: records("na-web", ttl: 60, .aaaa(v6("2001:db8:a::20"))),
                                asia: records("as-web", ttl: 60, .aaaa(v6("2001:db8:f::30")))],
                               default: records("global", ttl: 60, .aaaa(v6("2001:db8::1"))))
        let www = Steering(ttl: 60, fallback: .soa, decisions: [.a: wwwA, .aaaa: wwwAAAA])

        let cdnAnswer = decision([europe: .cname(pool: "eu-cdn", target: name("eu.cdn.example.net.")),
                                  northAmerica: .cname(pool: "na-cdn", target: name("na.cdn.example.net."))],
                                 default: .cname(pool: "global-cdn", target: name("global.cdn.example.net.")))
        let cdn = Steering(ttl: 300, fallback: .soa, decisions: [.a: cdnAnswer, .aaaa: cdnAnswer, .cname: cdnAnswer, .any: cdnAnswer])

        // Steered with fallback notimp: A only.
        let tcpA = decision([:], default: records("global", ttl: 30, .a(v4("198.51.100.1"))))
        let tcp = Steering(ttl: 30, fallback: .notimp, decisions: [.a: tcpA])

        // Location-dependent NODATA: only Europe has IPv6.
        let v6euA = decision([:], default: records("global", ttl: 60, .a(v4("198.51.100.1"))))
        let v6euAAAA = decision([europe: records("eu-web", ttl: 60, .aaaa(v6("2001:db8:e::10")))], default: .noData)
        let v6eu = Steering(ttl: 60, fallback: .soa, decisions: [.a: v6euA, .aaaa: v6euAAAA])

        var nodes: [DomainName: Node] = [:]
        let apex = name("example.com.")
        func ensure(_ n: DomainName) {
            var cur: DomainName? = n
            while let c = cur, c.isSubdomain(of: apex) {
                if nodes[c.lowercased()] == nil { nodes[c.lowercased()] = Node() }
                if c == apex { break }
                cur = c.parent()
            }
        }
        for (owner, rrset) in data {
            let n = name(owner).lowercased()
            ensure(n)
            nodes[n]?.rrsets[rrset.type] = rrset
        }
        for (owner, steering) in [("www.example.com.", www), ("cdn.example.com.", cdn), ("tcp.example.com.", tcp),
                                  ("v6eu.example.com.", v6eu), ("*.geo.example.com.", www)] {
            let n = name(owner).lowercased()
            ensure(n)
            nodes[n]?.steering = steering
        }
        let zone = Zone(apex: apex, soa: ResourceRecord(name: apex, ttl: 3600, rdata: .soa(soa)),
                        negativeTTL: min(3600, soa.minimum), nodes: nodes)

        // A second zone nested under the first's space (most labels first must win) and one more.
        let netApex = name("cdn.example.net.")
        let netSOA = SOAData(mname: name("ns1.example.com."), rname: name("hostmaster.example.com."),
                             serial: 1, refresh: 7200, retry: 3600, expire: 1209600, minimum: 60)
        var netNodes: [DomainName: Node] = [
            netApex: Node(rrsets: [.soa: RRSet(type: .soa, ttl: 3600, rdata: [.soa(netSOA)]),
                                   .ns: RRSet(type: .ns, ttl: 3600, rdata: [.ns(name("ns1.example.com."))])]),
        ]
        netNodes[name("eu.cdn.example.net.")] = Node(rrsets: [.a: RRSet(type: .a, ttl: 300, rdata: [.a(v4("203.0.113.10"))])])
        let netZone = Zone(apex: netApex, soa: ResourceRecord(name: netApex, ttl: 3600, rdata: .soa(netSOA)),
                           negativeTTL: 60, nodes: netNodes)

        var settings = ServerSettings()
        settings.ecs = ecs
        settings.udpPayloadSize = udpPayloadSize
        let tests = [
            PolicyTest(name: name("www.example.com."), type: .a, subnet: "81.2.69.0/24", expect: ["198.51.100.10"], expectScope: 16, line: 10),
            PolicyTest(name: name("www.example.com."), type: .aaaa, subnet: "2001:218::/48", expect: ["2001:DB8:F:0::30"], expectScope: nil, line: 11),
            PolicyTest(name: name("www.example.com."), type: .a, subnet: nil, expect: ["198.51.100.1"], expectScope: nil, line: 12),
            PolicyTest(name: name("cdn.example.com."), type: .cname, subnet: "8.8.8.0/24", expect: ["na.cdn.example.net"], expectScope: 13, line: 13),
            PolicyTest(name: name("nx.example.com."), type: .a, subnet: nil, expect: ["NXDOMAIN"], expectScope: nil, line: 14),
            PolicyTest(name: name("www.example.com."), type: .txt, subnet: nil, expect: ["nodata"], expectScope: nil, line: 15),
            PolicyTest(name: name("txt.example.com."), type: .txt, subnet: nil, expect: ["v=spf1 -all"], expectScope: nil, line: 16),
            // These two must fail.
            PolicyTest(name: name("www.example.com."), type: .a, subnet: "81.2.69.0/24", expect: ["198.51.100.1"], expectScope: nil, line: 17),
            PolicyTest(name: name("www.example.com."), type: .a, subnet: "81.2.69.0/24", expect: ["198.51.100.10"], expectScope: 24, line: 18),
        ]
        return Catalog(settings: settings, zones: [netZone, zone], regions: [], tests: tests,
                       sourcePath: "hand-built", database: nil)
    }
}

/// A query on the wire and the decoded reply.
struct Exchange {
    var catalog: Catalog
    var source: ClientAddress = .v4(0x7F00_0001)
    var transport: Transport = .udp

    /// Encodes a query, runs `Authority.respond`, decodes the reply (nil when dropped).
    func ask(_ qname: String, _ type: RRType, subnet: ClientSubnet? = nil, edns: Bool? = nil,
             payload: UInt16 = 1232, rd: Bool = true, id: UInt16 = 0x1234, rrClass: RRClass = .in) throws -> Message? {
        var header = Header(id: id, recursionDesired: rd)
        header.questionCount = 1
        var query = Message(header: header, questions: [Question(name: try DomainName(qname), type: type, rrClass: rrClass)])
        if edns ?? (subnet != nil) {
            query.edns = EDNS(udpPayloadSize: payload, clientSubnet: subnet)
        }
        return try send(query.encode())
    }

    func send(_ bytes: [UInt8]) throws -> Message? {
        guard let reply = Authority.respond(to: bytes, source: source, transport: transport, catalog: catalog) else {
            return nil
        }
        return try Message(decoding: reply)
    }
}

extension ClientSubnet {
    static func v4(_ text: String, _ prefix: UInt8) -> ClientSubnet {
        ClientSubnet(ipv4: Fixture.v4(text), sourcePrefix: prefix)
    }
    static func v6(_ text: String, _ prefix: UInt8) -> ClientSubnet {
        ClientSubnet(ipv6: Fixture.v6(text), sourcePrefix: prefix)
    }
}

extension Message {
    /// Answer data in presentation form, in order.
    var answerData: [String] { answers.map { $0.rdata.presentationText } }
    var scope: UInt8? { edns?.clientSubnet?.scopePrefix }
}
