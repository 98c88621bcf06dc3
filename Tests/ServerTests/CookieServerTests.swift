import Authority
import DNSWire
import Policy
@testable import Server
import Testing

/// The Server's side of DNS Cookies: `server.cookies` in the policy, the secrets across reloads
/// (CookieRotation.swift), and the exemption of valid-cookie clients from the UDP reply limits.
@Suite("DNS cookies in the server")
struct CookieServerTests {
    static let zones = """
    zones:
      example.com:
        soa: { mname: ns1, rname: hostmaster, serial: 1 }
        ns: [ns1]
    """
    static let a = "e5e973e5a6b2a43f48e7dc849e37bfcf", b = "445536bcd2513298075a5d379663c962"
    static let c = "dd3bdf9344b678b185a6f5cb60fca715"

    static func catalog(_ cookies: String?) throws(PolicyError) -> Catalog {
        let server = cookies.map { "server:\n  cookies: \($0)\n" } ?? ""
        return try PolicyLoader.load(yaml: server + zones, path: "t.yaml", database: nil)
    }

    static func errors(_ cookies: String) -> [String] {
        do {
            _ = try catalog(cookies)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    @Test("server.cookies: secrets read from 32 hex digits; unset by default")
    func parse() throws {
        let s = try Self.catalog("{ secret: \(Self.a), previous_secret: \(Self.b) }").settings.cookies
        #expect(s.secret == CookieSecret(hex: Self.a) && s.previousSecret == CookieSecret(hex: Self.b))
        let d = try Self.catalog(nil).settings.cookies
        #expect(d.secret == nil && d.previousSecret == nil)
    }

    @Test("bad secrets are errors at their line and column that never repeat the value")
    func badSecrets() {
        let short = Self.errors("{ secret: 0123456789abcdef0123456789abcde }")
        #expect(short.first?.hasPrefix("t.yaml:2:22: server.cookies.secret must be 32 hex digits") == true, "\(short)")
        #expect(short.allSatisfy { !$0.contains("0123456789abcdef") })
        #expect(Self.errors("{ secret: \(Self.a), previous_secret: zz }").first?.contains("server.cookies.previous_secret") == true)
        #expect(Self.errors("{ previous_secret: \(Self.b) }").first?.contains("needs server.cookies.secret") == true)
        #expect(Self.errors("{ secrett: \(Self.a) }").first?.contains("did you mean 'secret'") == true)
    }

    @Test("at start: the configured secret, or a random one")
    func initial() throws {
        let configured = CatalogStore(try Self.catalog("{ secret: \(Self.a) }")).load().cookieSecrets
        #expect(configured == CookieSecrets(current: CookieSecret(hex: Self.a)!))
        let one = CatalogStore(try Self.catalog(nil)).load().cookieSecrets
        let two = CatalogStore(try Self.catalog(nil)).load().cookieSecrets
        #expect(one.current != two.current && one.previous == nil)
    }

    @Test("reloads: a changed secret keeps the old one as previous; an unchanged or generated one stays")
    func rotation() throws {
        let a = CookieSecret(hex: Self.a)!, b = CookieSecret(hex: Self.b)!, c = CookieSecret(hex: Self.c)!
        let store = CatalogStore(try Self.catalog("{ secret: \(Self.a) }"))
        #expect(store.replace(with: try Self.catalog("{ secret: \(Self.a) }")).cookieSecrets == CookieSecrets(current: a))
        #expect(store.replace(with: try Self.catalog("{ secret: \(Self.b) }")).cookieSecrets == CookieSecrets(current: b, previous: a))
        // The same secret again: the previous one stays accepted.
        #expect(store.replace(with: try Self.catalog("{ secret: \(Self.b) }")).cookieSecrets == CookieSecrets(current: b, previous: a))
        // An explicit previous_secret wins.
        #expect(store.replace(with: try Self.catalog("{ secret: \(Self.a), previous_secret: \(Self.c) }")).cookieSecrets
                == CookieSecrets(current: a, previous: c))
        // The configured secret removed: a random one, the removed one still accepted.
        let removed = store.replace(with: try Self.catalog(nil)).cookieSecrets
        #expect(removed.current != a && removed.previous == a)
        // No secret configured before or now: the generated one lives on.
        #expect(store.replace(with: try Self.catalog(nil)).cookieSecrets == removed)
    }

    /// The answerer the UDP engines get: answers with a fixed reply and says whether the query's
    /// cookie was valid.
    static func answerer(_ reply: [UInt8], valid: Bool) -> UDPWorker.Answerer {
        { _, _, _, out in
            reply.withUnsafeBytes { out.copyMemory(from: $0) }
            return (reply.count, valid)
        }
    }

    @Test("error-reply limit and RRL: a client with a valid server cookie is never limited")
    func exemption() throws {
        var s = ServerSettings()
        s.errorRepliesPerSecond = 5
        s.rrl.enabled = true
        s.rrl.responsesPerSecond = 5
        let metrics = ServerMetrics()
        let limits = ReplyLimits(settings: s, metrics: metrics)
        let name = try DomainName("www.example.com")
        var header = Header(id: 1, isResponse: true)
        header.rcode = .refused
        let refused = Message(header: header, questions: [Question(name: name, type: .a)]).encode()
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
        defer { out.deallocate() }
        let query: [UInt8] = [0]
        func send(valid: Bool, from client: ClientAddress) -> [Int] {
            (0..<50).map { _ in
                query.withUnsafeBytes { limits.respond(to: $0, client: client, into: out, now: 7, unixTime: 1,
                                                       answer: Self.answerer(refused, valid: valid)) }
            }
        }
        #expect(send(valid: true, from: .v4(0x0A00_0001)).allSatisfy { $0 == refused.count })
        #expect(metrics.errorRepliesLimited.load(ordering: .relaxed) == 0)
        // The same flood without a valid cookie, from another /24: 5 answered, 45 dropped.
        #expect(send(valid: false, from: .v4(0x0A00_0101)).filter { $0 > 0 }.count == 5)
        #expect(metrics.errorRepliesLimited.load(ordering: .relaxed) == 45)
    }
}
