import DNSWire
import Testing

/// SipHash-2-4 against the reference implementation's vectors, RFC 9018 server cookies against
/// its Appendix A, and the COOKIE option's parsing (RFC 7873 §5.2.2, §5.4).
@Suite struct CookieTests {
    // MARK: SipHash-2-4

    /// The reference `vectors_sip64`: key 00 01 .. 0f, message 00 01 .. (n-1).
    static let sipVectors: [(Int, UInt64)] = [
        (0, 0x726f_db47_dd0e_0e31), (1, 0x74f8_39c5_93dc_67fd), (2, 0x0d6c_8009_d9a9_4f5a),
        (3, 0x8567_6696_d7fb_7e2d), (4, 0xcf27_94e0_2771_87b7), (5, 0x1876_5564_cd99_a68d),
        (6, 0xcbc9_466e_58fe_e3ce), (7, 0xab02_00f5_8b01_d137), (8, 0x93f5_f579_9a93_2462),
        (9, 0x9e00_82df_0ba9_e4b0), (15, 0xa129_ca61_49be_45e5), (16, 0x3f2a_cc7f_57c2_9bdb),
        (17, 0x699a_e9f5_2cbe_4794), (32, 0x7127_512f_72f2_7cce),
    ]

    @Test(arguments: sipVectors)
    func sipHashMatchesReferenceVectors(_ length: Int, _ expected: UInt64) {
        let key = (0..<16).map { UInt8($0) }
        let message = (0..<length).map { UInt8($0) }
        #expect(SipHash24.hash(key: key, message) == expected)
    }

    @Test func sipHashRefusesAKeyThatIsNot16Bytes() {
        #expect(SipHash24.hash(key: [1, 2, 3], []) == nil)
    }

    // MARK: RFC 9018 Appendix A

    static let secretA = CookieSecret(hex: "e5e973e5a6b2a43f48e7dc849e37bfcf")!
    static let v4Client = DNSCookie.Address.v4(0xC633_6464)            // 198.51.100.100
    static let v4Other = DNSCookie.Address.v4(0xCB00_71CB)             // 203.0.113.203
    static let v6Client = DNSCookie.Address.v6(0x2001_0db8_0220_0001_59de_d0f4_8769_82b8)

    static func respond(_ option: String, _ address: DNSCookie.Address, _ secrets: CookieSecrets, now: UInt32)
        -> (String, DNSCookie.Status) {
        let (data, status) = DNSCookie.respond(to: Hex.bytes(option), address: address, secrets: secrets, now: now)
        return (Hex.string(data), status)
    }

    @Test func a1LearningANewServerCookie() {
        let (reply, status) = Self.respond("2464c4abcf10c957", Self.v4Client, CookieSecrets(current: Self.secretA), now: 1_559_731_985)
        #expect(reply == "2464c4abcf10c957" + "010000005cf79f111f8130c3eee29480")
        #expect(status == .clientOnly)
    }

    @Test func a2SameClientRenewedAfterHalfAnHour() {
        // 40 minutes after A.1: still valid, older than half an hour, so a fresh one.
        let (reply, status) = Self.respond("2464c4abcf10c957010000005cf79f111f8130c3eee29480", Self.v4Client,
                                           CookieSecrets(current: Self.secretA), now: 1_559_734_385)
        #expect(reply == "2464c4abcf10c957" + "010000005cf7a871d4a564a1442aca77")
        #expect(status == .valid)
    }

    @Test func a3AnotherClientWithAnExpiredCookieGetsAFreshOne() {
        // The query's cookie is 1h52m old: invalid, answered as a client-only query.
        let (reply, status) = Self.respond("fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", Self.v4Other,
                                           CookieSecrets(current: Self.secretA), now: 1_559_734_700)
        #expect(reply == "fc93fc62807ddb86" + "010000005cf7a9acf73a7810aca2381e")
        #expect(status == .invalid)
    }

    @Test func a3CookieWithReservedBytesIsValidWhenFreshAndReusedAsSent() {
        // The reserved bytes the client sent (ab cd ef) are part of the hash (RFC 9018 §4.4).
        let sent = "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5"
        let (reply, status) = Self.respond(sent, Self.v4Other, CookieSecrets(current: Self.secretA), now: 0x5cf7_8f71 + 60)
        #expect(status == .valid)
        #expect(reply == sent)
    }

    @Test func a4IPv6CookieOfThePreviousSecretIsValidAndReplaced() {
        let old = CookieSecret(hex: "dd3bdf9344b678b185a6f5cb60fca715")!
        let new = CookieSecret(hex: "445536bcd2513298075a5d379663c962")!
        let sent = "22681ab97d52c298010000005cf7c57926556bd0934c72f8"
        let (reply, status) = Self.respond(sent, Self.v6Client, CookieSecrets(current: new, previous: old), now: 1_559_741_961)
        #expect(reply == "22681ab97d52c298" + "010000005cf7c609a6bb79d16625507a")
        #expect(status == .valid)
        // Without the previous secret the same cookie is not ours: the same fresh cookie, invalid.
        let (again, verdict) = Self.respond(sent, Self.v6Client, CookieSecrets(current: new), now: 1_559_741_961)
        #expect(again == reply)
        #expect(verdict == .invalid)
    }

    // MARK: lifetime (RFC 9018 §4.3)

    static let issued: UInt32 = 1_559_731_985
    static let a1Cookie = "2464c4abcf10c957010000005cf79f111f8130c3eee29480"

    /// (seconds after the cookie was issued, status, reused as sent)
    static let ages: [(Int64, DNSCookie.Status, Bool)] = [
        (0, .valid, true), (1800, .valid, true), (1801, .valid, false), (3600, .valid, false),
        (3601, .invalid, false), (-300, .valid, true), (-301, .invalid, false), (100_000, .invalid, false),
    ]

    @Test(arguments: ages)
    func lifetimeWindow(_ age: Int64, _ expected: DNSCookie.Status, _ reused: Bool) {
        let now = UInt32(truncatingIfNeeded: Int64(Self.issued) + age)
        let (reply, status) = Self.respond(Self.a1Cookie, Self.v4Client, CookieSecrets(current: Self.secretA), now: now)
        #expect(status == expected)
        #expect((reply == Self.a1Cookie) == reused)
        #expect(reply.hasPrefix("2464c4abcf10c957010000"))
    }

    @Test func timestampsCompareAcrossTheWrap() {
        // A cookie stamped just before 2^32 and checked just after: 1000 s old, not 4 billion.
        let secrets = CookieSecrets(current: Self.secretA)
        let (fresh, _) = DNSCookie.respond(to: Hex.bytes("2464c4abcf10c957"), address: Self.v4Client, secrets: secrets, now: UInt32.max - 499)
        let (_, status) = DNSCookie.respond(to: fresh, address: Self.v4Client, secrets: secrets, now: 500)
        #expect(status == .valid)
    }

    @Test func aCookieIsBoundToTheAddressItWasMadeFor() {
        let (_, status) = Self.respond(Self.a1Cookie, Self.v4Other, CookieSecrets(current: Self.secretA), now: Self.issued)
        #expect(status == .invalid)
        let (_, v6) = Self.respond(Self.a1Cookie, .v6(0xC633_6464), CookieSecrets(current: Self.secretA), now: Self.issued)
        #expect(v6 == .invalid)
    }

    /// Server cookies that are not ours by shape: another version, or not 16 bytes.
    static let foreign = [
        "2464c4abcf10c957020000005cf79f111f8130c3eee29480",         // version 2
        "2464c4abcf10c9570102030405060708",                         // 8 bytes
        "2464c4abcf10c957010000005cf79f111f8130c3eee2948000",       // 17 bytes
        "2464c4abcf10c957" + String(repeating: "ab", count: 32),    // 32 bytes
        "2464c4abcf10c957010000005cf79f111f8130c3eee29481",         // one bit of the hash
    ]

    @Test(arguments: foreign)
    func foreignServerCookiesAreInvalidAndReplaced(_ option: String) {
        let (reply, status) = Self.respond(option, Self.v4Client, CookieSecrets(current: Self.secretA), now: Self.issued)
        #expect(status == .invalid)
        #expect(reply == "2464c4abcf10c957" + "010000005cf79f111f8130c3eee29480")
    }

    // MARK: secrets

    @Test func secretsParseFrom32HexDigitsOnly() {
        #expect(CookieSecret(hex: "E5E973E5A6B2A43F48E7DC849E37BFCF") == Self.secretA)
        #expect(CookieSecret(hex: "e5e973e5a6b2a43f48e7dc849e37bfc") == nil)
        #expect(CookieSecret(hex: "e5e973e5a6b2a43f48e7dc849e37bfcf00") == nil)
        #expect(CookieSecret(hex: "g5e973e5a6b2a43f48e7dc849e37bfcf") == nil)
        #expect(CookieSecret(bytes: Array(repeating: 1, count: 15)) == nil)
    }

    @Test func secretsNeverShowInText() {
        let text = "\(Self.secretA) \(String(reflecting: Self.secretA)) \(CookieSecrets(current: Self.secretA))"
        #expect(!text.lowercased().contains("e5e973e5"))
        #expect(!text.contains(String(Self.secretA.k0)) && !text.contains(String(Self.secretA.k0, radix: 16)))
    }

    @Test func randomSecretsDiffer() {
        #expect(CookieSecret.random() != CookieSecret.random())
    }

    // MARK: the option in a query (RFC 7873 §5.2.2)

    static func query(qd: UInt16 = 1, options: [UInt8], version: UInt8 = 0) -> [UInt8] {
        var q: [UInt8] = [0x42, 0x42, 0x01, 0x00, 0x00, UInt8(qd), 0, 0, 0, 0, 0, 1]
        if qd == 1 { q += [3, 0x77, 0x77, 0x77, 7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 1, 0, 1] }
        q += [0, 0, 41, 0x04, 0xd0, 0, version, 0, 0, UInt8(options.count >> 8), UInt8(options.count & 0xff)] + options
        return q
    }

    static func cookieOption(_ n: Int) -> [UInt8] { [0, 10, 0, UInt8(n)] + (0..<n).map { UInt8($0) } }

    @Test(arguments: 0...41)
    func optionLengthTable(_ n: Int) {
        let wellFormed = n == 8 || (16...40).contains(n)
        #expect(DNSCookie.isWellFormed(length: n) == wellFormed)
        var q = Query()
        switch Query.parse(Self.query(options: Self.cookieOption(n)), into: &q) {
        case .success:
            #expect(wellFormed, "\(n) bytes parsed")
            #expect(q.edns?.cookie == (0..<n).map { UInt8($0) })
        case .failure(let e):
            #expect(!wellFormed, "\(n) bytes: \(e)")
            #expect(e == .badCookie(length: n))
            #expect(e.disposition == .formErr)
        }
    }

    @Test func malformedCookieGetsFORMERRWithOPTAndNoCookie() throws {
        guard case .reply(let bytes) = Query.parse(Self.query(options: Self.cookieOption(12))) else {
            Issue.record("no reply"); return
        }
        let m = try Message(decoding: bytes)
        #expect(m.rcode == .formErr)
        #expect(m.edns != nil)
        #expect(m.edns?.cookie == nil)
    }

    @Test func onlyTheFirstCookieCounts() {
        var q = Query()
        let good = Self.cookieOption(8), bad = Self.cookieOption(3)
        #expect((try? Query.parse(Self.query(options: good + bad), into: &q).get()) != nil)
        #expect(q.edns?.cookie == Array(good.dropFirst(4)))
        if case .success = Query.parse(Self.query(options: bad + good), into: &q) { Issue.record("a malformed first cookie parsed") }
    }

    @Test func qdcountZeroWithACookieIsACookieOnlyQuery() {
        var q = Query()
        #expect((try? Query.parse(Self.query(qd: 0, options: Self.cookieOption(8)), into: &q).get()) != nil)
        #expect(q.isCookieOnly)
        // Parsing a normal query into the same storage clears the flag.
        #expect((try? Query.parse(Self.query(options: Self.cookieOption(8)), into: &q).get()) != nil)
        #expect(!q.isCookieOnly)
        #expect(q.question.name.description.lowercased() == "www.example.com.")
        // Without a cookie QDCOUNT 0 stays FORMERR.
        if case .success = Query.parse(Self.query(qd: 0, options: []), into: &q) { Issue.record("QDCOUNT 0 without cookie parsed") }
    }
}
