import Foundation
import Testing

/// The scenario of ../shared/lab/scenario.md: every client subnet, asked the way an operator
/// does (`dig +subnet=...` over UDP, `kdig +tcp`), against the real daemon serving the
/// project's config.yaml — with the demo database in data/ and with GeoLite2-City.
struct ScenarioRow: Sendable, CustomStringConvertible {
    var subnet: String?
    var wwwA: String
    var wwwAAAA: String
    var cdn: String
    var description: String { subnet ?? "no ECS" }
}

let scenarioRows: [ScenarioRow] = [
    .init(subnet: "81.2.69.0/24", wwwA: "198.51.100.10", wwwAAAA: "2001:db8:e::10", cdn: "eu.cdn.example.net."),
    .init(subnet: "8.8.8.0/24", wwwA: "198.51.100.20", wwwAAAA: "2001:db8:a::20", cdn: "na.cdn.example.net."),
    .init(subnet: "1.0.16.0/24", wwwA: "198.51.100.30", wwwAAAA: "2001:db8:f::30", cdn: "global.cdn.example.net."),
    .init(subnet: "200.160.0.0/24", wwwA: "198.51.100.1", wwwAAAA: "2001:db8::1", cdn: "global.cdn.example.net."),
    .init(subnet: "203.2.218.0/24", wwwA: "198.51.100.1", wwwAAAA: "2001:db8::1", cdn: "global.cdn.example.net."),
    .init(subnet: "2a02:26f0::/48", wwwA: "198.51.100.10", wwwAAAA: "2001:db8:e::10", cdn: "eu.cdn.example.net."),
    .init(subnet: "2001:218::/48", wwwA: "198.51.100.30", wwwAAAA: "2001:db8:f::30", cdn: "global.cdn.example.net."),
    .init(subnet: "2001:4860::/48", wwwA: "198.51.100.20", wwwAAAA: "2001:db8:a::20", cdn: "na.cdn.example.net."),
    .init(subnet: nil, wwwA: "198.51.100.1", wwwAAAA: "2001:db8::1", cdn: "global.cdn.example.net."),
]

/// The project's config.yaml with its `geoip:` line pointed at another database.
func configUsing(database: String) throws -> PolicyDir {
    let text = try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8)
    let replaced = text.replacing(#/(?m)^(\s*geoip:\s*)\S+/#) { "\($0.1)\(database)" }
    return try PolicyDir(yaml: replaced)
}

/// Checks every scenario row over UDP (dig) and TCP (kdig) against a running daemon.
func checkScenario(_ daemon: Daemon) {
    for row in scenarioRows {
        for tcp in [false, true] {
            let via = tcp ? "kdig +tcp" : "dig"
            let ask = { (name: String, type: String) -> DigResult in
                tcp ? daemon.kdig(name, type, subnet: row.subnet, tcp: true) : daemon.dig(name, type, subnet: row.subnet)
            }
            let a = ask("www.example.com", "A")
            #expect(a.status == "NOERROR", "\(via) \(row) www A: \(a)")
            #expect(a.data("A") == [row.wwwA], "\(via) \(row) www A: \(a)")
            #expect(a.answer.first?.ttl == 60, "\(via) \(row) www A TTL: \(a)")
            #expect(a.flags.contains("aa"), "\(via) \(row) www A must be authoritative: \(a)")
            if let subnet = row.subnet {
                // ECS echoed with the client's family, source prefix and address, and a scope.
                #expect(a.ecsSubnet == subnet, "\(via) \(row) ECS echo: \(a)")
                #expect((a.ecsScope ?? 0) > 0, "\(via) \(row) steered answer needs a scope: \(a)")
            } else {
                #expect(a.ecsSubnet == nil, "\(via) no ECS in the query, none in the reply: \(a)")
            }
            let aaaa = ask("www.example.com", "AAAA")
            #expect(aaaa.data("AAAA") == [row.wwwAAAA], "\(via) \(row) www AAAA: \(aaaa)")
            let cname = ask("cdn.example.com", "CNAME")
            #expect(cname.data("CNAME") == [row.cdn], "\(via) \(row) cdn CNAME: \(cname)")
            #expect(cname.answer.first?.ttl == 300, "\(via) \(row) cdn TTL: \(cname)")
            // An A query at a CNAME name gets the CNAME (its target is not ours).
            let cdnA = ask("cdn.example.com", "A")
            #expect(cdnA.data("CNAME") == [row.cdn] && cdnA.data("A").isEmpty, "\(via) \(row) cdn A: \(cdnA)")
        }
    }
}

@Suite("scenario end to end", .serialized)
struct ScenarioEndToEndTests {
    @Test("demo database: every scenario subnet over UDP and TCP")
    func demoDatabase() throws {
        let daemon = try Daemon(config: Paths.packageRoot.appendingPathComponent("config.yaml").path)
        defer { daemon.stop() }
        checkScenario(daemon)
        // Static names answer with scope 0 even when the query carries ECS.
        let mx = daemon.dig("mail.example.com", "MX", subnet: "81.2.69.0/24")
        #expect(mx.data("MX") == ["10 mx.example.com."], "\(mx)")
        #expect(mx.ecsSubnet == "81.2.69.0/24" && mx.ecsScope == 0, "\(mx)")
        #expect(daemon.stop() == 0, "SIGTERM stops cleanly:\n\(daemon.log)")
    }

    @Test("GeoLite2-City: every scenario subnet over UDP and TCP; scopes never cover a different answer")
    func geoLite2City() throws {
        let database = try #require(Paths.geoLite2City, "GeoLite2-City (pip maxminddb-geolite2) is installed by make deps")
        let dir = try configUsing(database: database)
        defer { dir.remove() }
        // Compiling GeoLite2-City takes seconds in a debug build, minutes under ThreadSanitizer.
        let daemon = try Daemon(config: dir.configPath, readyTimeout: 300)
        defer { daemon.stop() }
        checkScenario(daemon)
        // The scope returned must not cover a client that gets another answer: ask for the first
        // and last /24 (/56) of every returned scope block and compare.
        for row in scenarioRows {
            guard let subnet = row.subnet else { continue }
            let reply = daemon.dig("www.example.com", "A", subnet: subnet)
            guard let scope = reply.ecsScope, let block = ScopeBlock(subnet: subnet, scope: scope) else {
                Issue.record("no scope for \(subnet): \(reply)")
                continue
            }
            for probe in block.probes {
                let other = daemon.dig("www.example.com", "A", subnet: probe)
                #expect(other.data("A") == reply.data("A"),
                        "\(subnet) got scope /\(scope), but \(probe) inside it is answered \(other.data("A")) not \(reply.data("A"))")
            }
        }
    }
}

/// The first and last source-sized networks of a scope block around a subnet.
struct ScopeBlock {
    var probes: [String]
    init?(subnet: String, scope: Int) {
        let parts = subnet.split(separator: "/")
        guard parts.count == 2, let source = Int(parts[1]) else { return nil }
        let isV6 = parts[0].contains(":")
        let width = isV6 ? 128 : 32
        guard let value = ScopeBlock.parse(String(parts[0]), v6: isV6), scope <= width else { return nil }
        let full: UInt128 = isV6 ? .max : UInt128(UInt32.max)
        let netmask = { (p: Int) -> UInt128 in (full << (width - p)) & full }   // overshift gives 0
        let first = value & netmask(min(scope, source))
        let last = first | (~netmask(min(scope, source)) & full)
        let lastNet = last & netmask(source)
        probes = [first, lastNet].map { ScopeBlock.format($0, v6: isV6) + "/\(source)" }
    }
    static func parse(_ text: String, v6: Bool) -> UInt128? {
        var a = in6_addr()
        if v6 {
            guard inet_pton(AF_INET6, text, &a) == 1 else { return nil }
            return withUnsafeBytes(of: a) { $0.reduce(UInt128(0)) { $0 << 8 | UInt128($1) } }
        }
        var v4 = in_addr()
        guard inet_pton(AF_INET, text, &v4) == 1 else { return nil }
        return UInt128(UInt32(bigEndian: v4.s_addr))
    }
    static func format(_ value: UInt128, v6: Bool) -> String {
        if v6 {
            var bytes = (0..<16).map { UInt8(truncatingIfNeeded: value >> (8 * (15 - $0))) }
            var out = [CChar](repeating: 0, count: 64)
            _ = inet_ntop(AF_INET6, &bytes, &out, 64)
            return String(cString: out)
        }
        let v = UInt32(truncatingIfNeeded: value)
        return "\(v >> 24).\(v >> 16 & 255).\(v >> 8 & 255).\(v & 255)"
    }
}
