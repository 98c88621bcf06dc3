import DNSWire
import Policy
import Testing
@testable import Authority

/// DNS Cookies in the engine (Authority+Cookies.swift): every reply to a query with a client
/// cookie carries our server cookie, on the express tier and the general engine alike, over UDP
/// and TCP; a cookie-only query (QDCOUNT=0) gets NOERROR with the cookie; a malformed option
/// gets FORMERR.
@Suite struct CookieEngineTests {
    static let secret = CookieSecret(k0: 0x0123_4567_89ab_cdef, k1: 0xfedc_ba98_7654_3210)
    static let old = CookieSecret(k0: 42, k1: 43)
    static let now: UInt32 = 1_765_000_000
    static let cookies = Authority.Cookies(secrets: CookieSecrets(current: secret, previous: old), now: now)
    static let client: [UInt8] = [0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57]
    static let source = ClientAddress.v4(0xC633_6464)

    /// A query for `qname` `type` with OPT carrying `cookie` (and ECS when given).
    static func query(_ qname: String = "www.example.com.", _ type: RRType = .a, cookie: [UInt8]?,
                      subnet: ClientSubnet? = nil, qd: Bool = true, id: UInt16 = 0x1234) -> [UInt8] {
        var header = Header(id: id, recursionDesired: true)
        header.questionCount = qd ? 1 : 0
        var m = Message(header: header, questions: qd ? [Question(name: (try? DomainName(qname)) ?? .root, type: type)] : [])
        m.edns = EDNS(udpPayloadSize: 1232, options: cookie.map { [EDNSOption(code: 10, data: $0)] } ?? [], clientSubnet: subnet)
        return m.encode()
    }

    /// The server cookie the engine hands `address` at `at` with `secret`.
    static func serverCookie(for address: DNSCookie.Address, secret: CookieSecret = secret, at: UInt32 = now) -> [UInt8] {
        DNSCookie.respond(to: client, address: address, secrets: CookieSecrets(current: secret), now: at).data
    }

    static func ask(_ bytes: [UInt8], transport: Transport = .udp, source: ClientAddress = source)
        throws -> (Message, DNSCookie.Status?) {
        let r = try #require(Authority.respond(to: bytes, source: source, transport: transport,
                                               catalog: Fixture.catalog(), cookies: cookies))
        return (try Message(decoding: r.reply), r.cookie)
    }

    @Test(arguments: [Transport.udp, .tcp])
    func aClientCookieGetsAServerCookie(_ transport: Transport) throws {
        let (m, status) = try Self.ask(Self.query(cookie: Self.client), transport: transport)
        #expect(m.rcode == .noError)
        #expect(m.answerData.count == 1)
        let cookie = try #require(m.edns?.cookie)
        #expect(cookie == Self.serverCookie(for: .v4(0xC633_6464)))
        #expect(Array(cookie.prefix(8)) == Self.client)
        #expect(Array(cookie[8..<12]) == [1, 0, 0, 0])          // version 1, reserved 0
        #expect(status == .clientOnly)
    }

    @Test func ourServerCookieIsValidAndReused() throws {
        let ours = Self.serverCookie(for: .v4(0xC633_6464), at: Self.now - 100)
        let (m, status) = try Self.ask(Self.query(cookie: ours))
        #expect(status == .valid)
        #expect(m.edns?.cookie == ours)
    }

    @Test func aCookieOfThePreviousSecretIsValidAndReplaced() throws {
        let before = Self.serverCookie(for: .v4(0xC633_6464), secret: Self.old, at: Self.now - 100)
        let (m, status) = try Self.ask(Self.query(cookie: before))
        #expect(status == .valid)
        #expect(m.edns?.cookie == Self.serverCookie(for: .v4(0xC633_6464)))
    }

    @Test func anotherAddressesCookieIsInvalidButAnswered() throws {
        let theirs = Self.serverCookie(for: .v4(0x0808_0808))
        let (m, status) = try Self.ask(Self.query(cookie: theirs))
        #expect(status == .invalid)
        #expect(m.rcode == .noError && m.answerData.count == 1)
        #expect(m.edns?.cookie == Self.serverCookie(for: .v4(0xC633_6464)))
    }

    @Test func theCookieIsBoundToThePacketSourceNotTheECSAddress() throws {
        let (m, _) = try Self.ask(Self.query(cookie: Self.client, subnet: .v4("81.2.69.0", 24)))
        #expect(m.answerData == ["198.51.100.10"])
        #expect(m.scope == 16)        // the table's block around 81.2.69.0: 81.2.0.0/16
        #expect(m.edns?.cookie == Self.serverCookie(for: .v4(0xC633_6464)))
    }

    /// Every kind of reply the engine builds carries the cookie.
    static let outcomes: [(String, RRType, RCode)] = [
        ("www.example.org.", .a, .refused), ("nope.example.com.", .a, .nxDomain), ("www.example.com.", .mx, .noError),
        ("www.example.com.", .any, .noError), ("example.com.", .axfr, .notImp), ("big.example.com.", .a, .noError),
    ]

    @Test(arguments: outcomes)
    func everyReplyCarriesTheCookie(_ qname: String, _ type: RRType, _ rcode: RCode) throws {
        let (m, _) = try Self.ask(Self.query(qname, type, cookie: Self.client))
        #expect(m.rcode == rcode)
        #expect(m.edns?.cookie == Self.serverCookie(for: .v4(0xC633_6464)), "\(qname) \(type)")
    }

    @Test func aCookieOnlyQueryGetsNOERRORAndTheCookie() throws {
        let (m, status) = try Self.ask(Self.query(cookie: Self.client, qd: false))
        #expect(m.rcode == .noError)
        #expect(m.questions.isEmpty && m.header.questionCount == 0)
        #expect(m.answers.isEmpty && m.authorities.isEmpty)
        #expect(!m.header.authoritative)
        #expect(m.header.id == 0x1234 && m.header.isResponse)
        #expect(m.edns?.cookie == Self.serverCookie(for: .v4(0xC633_6464)))
        #expect(status == .clientOnly)
    }

    @Test func aMalformedCookieIsFORMERRWithoutACookie() throws {
        let (m, status) = try Self.ask(Self.query(cookie: Array(Self.client.prefix(5))))
        #expect(m.rcode == .formErr)
        #expect(m.edns != nil && m.edns?.cookie == nil)
        #expect(status == nil)
    }

    @Test func withoutCookiesContextTheClientCookieIsIgnored() throws {
        let reply = try #require(Authority.respond(to: Self.query(cookie: Self.client), source: Self.source,
                                                   transport: .udp, catalog: Fixture.catalog()))
        let m = try Message(decoding: reply)
        #expect(m.rcode == .noError && m.edns?.cookie == nil)
    }

    @Test func aQueryWithoutACookieGetsNoCookie() throws {
        let (m, status) = try Self.ask(Self.query(cookie: nil))
        #expect(m.edns != nil && m.edns?.cookie == nil && status == nil)
    }

    // MARK: the fast path

    /// Cookie shapes for `address`: client only, ours (fresh, stale, previous secret), another
    /// address's, foreign, and a second (ignored) option.
    static func shapes(for address: DNSCookie.Address) -> [[UInt8]] {
        [client, serverCookie(for: address, at: now - 10), serverCookie(for: address, at: now - 2000),
         serverCookie(for: address, secret: old, at: now - 10), serverCookie(for: .v4(1)),
         client + [1, 0, 0, 0] + Array(repeating: 7, count: 12), client + Array(repeating: 9, count: 24)]
    }

    @Test func theExpressTierWritesTheSameCookieAsTheGeneralEngine() throws {
        let catalog = Fixture.catalog()
        let fast = Authority.FastPath(catalog: catalog)
        var scratch = Authority.FastPathScratch()
        var out = [UInt8](repeating: 0, count: 65536)
        let sources: [ClientAddress] = [.v4(0xC633_6464), .v6(0x2001_0db8 << 96 | 5), .v6(0xFFFF_0000_0000 | 0x0A00_0001)]
        let names = ["www.example.com.", "cdn.example.com.", "mail.example.com.", "nope.example.com.", "x.wild.example.com.",
                     "www.example.org.", "sub.example.com."]
        var express = 0, total = 0
        for source in sources {
            for cookie in Self.shapes(for: Authority.cookieAddress(source)) {
                for name in names {
                    for subnet in [nil, ClientSubnet.v4("81.2.69.0", 24), ClientSubnet.v6("2001:4860::", 48)] {
                        let bytes = Self.query(name, .a, cookie: cookie, subnet: subnet)
                        let general = try #require(Authority.respond(to: bytes, source: source, transport: .udp,
                                                                     catalog: catalog, cookies: Self.cookies))
                        let n = out.withUnsafeMutableBytes { o in
                            bytes.withUnsafeBytes { fast.respond(to: $0, source: source, into: o, scratch: &scratch, cookies: Self.cookies) }
                        }
                        total += 1
                        guard n != Authority.FastPath.askGeneral else { continue }
                        #expect(Array(out.prefix(n)) == general.reply, "\(name) \(source) \(cookie.count)-byte cookie, tier \(scratch.lastTier)")
                        #expect(scratch.validCookie == (general.cookie == .valid))
                        if scratch.lastTier == .express { express += 1 }
                    }
                }
            }
        }
        // Cookies must not push queries off the express tier.
        #expect(express * 10 >= total * 9, "\(express) of \(total) on the express tier")
    }

    @Test func theExpressTierReportsAValidCookie() {
        let fast = Authority.FastPath(catalog: Fixture.catalog())
        var scratch = Authority.FastPathScratch()
        var out = [UInt8](repeating: 0, count: 4096)
        func send(_ cookie: [UInt8]?) -> Int {
            let bytes = Self.query(cookie: cookie)
            return out.withUnsafeMutableBytes { o in
                bytes.withUnsafeBytes { fast.respond(to: $0, source: Self.source, into: o, scratch: &scratch, cookies: Self.cookies) }
            }
        }
        #expect(send(Self.serverCookie(for: .v4(0xC633_6464))) > 0)
        #expect(scratch.lastTier == .express && scratch.validCookie)
        #expect(send(Self.client) > 0)
        #expect(scratch.lastTier == .express && !scratch.validCookie)
        #expect(send(nil) > 0)
        #expect(!scratch.validCookie)
        // Malformed: not the express tier's to answer (FORMERR comes from the general engine).
        #expect(send([1, 2, 3]) == Authority.FastPath.askGeneral)
    }
}
