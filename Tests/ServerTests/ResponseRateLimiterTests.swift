import DNSWire
import Policy
@testable import Server
import Testing

@Suite("response rate limiter table")
struct ResponseRateLimiterTests {
    @Test("under the rate every reply is sent; a new second starts a new allowance")
    func underRate() {
        let table = ResponseRateLimiter(capacity: 1024)
        for _ in 0..<10 { #expect(table.decide(key: 42, now: 100, rate: 10, slip: 2) == .send) }
        #expect(table.decide(key: 42, now: 100, rate: 10, slip: 2) != .send)
        #expect(table.decide(key: 42, now: 101, rate: 10, slip: 2) == .send)
    }

    @Test("over the rate, slip N: every Nth limited reply slips, the others drop", arguments: [0, 1, 2, 3, 5])
    func slipRatio(slip: Int) {
        let table = ResponseRateLimiter(capacity: 4096)
        let rate = 20
        var verdicts: [ResponseRateLimiter.Verdict] = []
        for _ in 0..<(rate + 60) { verdicts.append(table.decide(key: 0xfeed_beef_0000_0001, now: 7, rate: rate, slip: slip)) }
        #expect(verdicts.prefix(rate).allSatisfy { $0 == .send })
        let limited = verdicts.dropFirst(rate)
        let slipped = limited.filter { $0 == .slip }.count
        let dropped = limited.filter { $0 == .drop }.count
        #expect(slipped + dropped == 60)
        #expect(slipped == (slip == 0 ? 0 : 60 / slip), "slip \(slip): \(slipped) slipped, \(dropped) dropped")
    }

    @Test("keys are independent; rate 0 means no limit")
    func independentKeys() {
        let table = ResponseRateLimiter(capacity: 1 << 16)
        for _ in 0..<5 { _ = table.decide(key: ResponseRateLimiter.mix(1), now: 1, rate: 5, slip: 0) }
        #expect(table.decide(key: ResponseRateLimiter.mix(1), now: 1, rate: 5, slip: 0) == .drop)
        #expect(table.decide(key: ResponseRateLimiter.mix(2), now: 1, rate: 5, slip: 0) == .send)
        for _ in 0..<100 { #expect(table.decide(key: 9, now: 1, rate: 0, slip: 0) == .send) }
    }

    @Test("the table never grows: a million distinct keys fit in the same buckets")
    func fixedSize() {
        let table = ResponseRateLimiter(capacity: 1000)
        #expect(table.capacity == 1024)
        var sent = 0
        for k in 0..<1_000_000 where table.decide(key: ResponseRateLimiter.mix(UInt64(k)), now: 3, rate: 1, slip: 0) == .send {
            sent += 1
        }
        #expect(sent > 990_000)   // collisions replace (the newer key wins) rather than limit
        #expect(table.capacity == 1024)
    }

    @Test("prefix keys: one /24 (or /56) shares a key, neighbours do not")
    func prefixes() {
        let a = ResponseRateLimiter.prefixKey(.v4(0xC000_0201), v4: 24, v6: 56)
        #expect(a == ResponseRateLimiter.prefixKey(.v4(0xC000_02FE), v4: 24, v6: 56))
        #expect(a != ResponseRateLimiter.prefixKey(.v4(0xC000_0301), v4: 24, v6: 56))
        let v6a: UInt128 = 0x2001_0db8_0000_0100 << 64 | 1
        let v6b: UInt128 = 0x2001_0db8_0000_01ff << 64 | 0xffff
        let v6c: UInt128 = 0x2001_0db8_0000_0200 << 64 | 1
        #expect(ResponseRateLimiter.prefixKey(.v6(v6a), v4: 24, v6: 56) == ResponseRateLimiter.prefixKey(.v6(v6b), v4: 24, v6: 56))
        #expect(ResponseRateLimiter.prefixKey(.v6(v6a), v4: 24, v6: 56) != ResponseRateLimiter.prefixKey(.v6(v6c), v4: 24, v6: 56))
        #expect(ResponseRateLimiter.prefixKey(.v4(1), v4: 32, v6: 56) != ResponseRateLimiter.prefixKey(.v4(2), v4: 32, v6: 56))
    }
}

/// Replies built with DNSWire, summarised as the limiter sees them.
@Suite("reply summary")
struct ReplySummaryTests {
    func reply(_ name: String, rcode: RCode, aa: Bool = true, answers: [ResourceRecord] = [],
               authority: [ResourceRecord] = []) throws -> [UInt8] {
        let question = Question(name: try DomainName(name), type: .a)
        var header = Header(id: 7, isResponse: true, authoritative: aa)
        header.rcode = rcode
        return Message(header: header, questions: [question], answers: answers, authorities: authority).encode()
    }

    func summary(_ bytes: [UInt8]) -> ReplySummary? { bytes.withUnsafeBytes { ReplySummary($0) } }

    @Test("classes: answer, NXDOMAIN, NODATA, referral, error")
    func classes() throws {
        let apex = try DomainName("example.com")
        let soa = ResourceRecord(name: apex, ttl: 300, rdata: .soa(SOAData(mname: apex, rname: apex, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1)))
        let ns = ResourceRecord(name: try DomainName("sub.example.com"), ttl: 300, rdata: .ns(apex))
        let a = ResourceRecord(name: try DomainName("www.example.com"), ttl: 60, rdata: .a(IPv4Address(rawValue: 0xC000_0201)))
        #expect(summary(try reply("www.example.com", rcode: .noError, answers: [a]))?.responseClass == .answer)
        let nx1 = try #require(summary(try reply("x1.example.com", rcode: .nxDomain, authority: [soa])))
        let nx2 = try #require(summary(try reply("X2.EXAMPLE.com", rcode: .nxDomain, authority: [soa])))
        #expect(nx1.responseClass == .nxdomain)
        #expect(nx1.nameHash == nx2.nameHash, "NXDOMAIN is keyed on the zone, not the random name")
        #expect(summary(try reply("www.example.com", rcode: .noError, authority: [soa]))?.responseClass == .nodata)
        #expect(summary(try reply("a.sub.example.com", rcode: .noError, aa: false, authority: [ns]))?.responseClass == .referral)
        #expect(summary(try reply("example.org", rcode: .refused, aa: false))?.responseClass == .error)
        #expect(summary(try reply("example.com", rcode: .formErr, aa: false))?.responseClass == .error)
        let www = try #require(summary(try reply("WWW.example.com", rcode: .noError, answers: [a])))
        #expect(www.nameHash == summary(try reply("www.example.com", rcode: .noError, answers: [a]))?.nameHash, "names hash case-insensitively")
        #expect(www.questionEnd == 12 + 17 + 4)
    }

    @Test("names: pointer loops, forward pointers, pointers into the header and truncation give nil, not a hang")
    func hostileNames() {
        let loop: [UInt8] = [0xc0, 0x00]
        let forward: [UInt8] = [0xc0, 0x05, 0, 0, 0, 1, 0x61, 0]
        let long: [UInt8] = [63] + [UInt8](repeating: 0x61, count: 10)
        for bytes in [loop, forward, long, [], [0x03, 0x61]] {
            #expect(bytes.withUnsafeBytes { ReplySummary.hashName($0, at: 0) } == nil, "\(bytes)")
        }
        let self12: [UInt8] = [UInt8](repeating: 0, count: 12) + [0xc0, 12]
        #expect(self12.withUnsafeBytes { ReplySummary.hashName($0, at: 12) } == nil)
        // Into the header (RFC 1035 §4.1.4): header byte 0 would read as the root name otherwise.
        for k in 0..<12 {
            let intoHeader: [UInt8] = [UInt8](repeating: 0, count: 12) + [0xc0, UInt8(k)]
            #expect(intoHeader.withUnsafeBytes { ReplySummary.hashName($0, at: 12) } == nil, "offset \(k)")
        }
        #expect([UInt8](repeating: 0xff, count: 11).withUnsafeBytes { ReplySummary($0) } == nil)
    }
}

@Suite("reply limits")
struct ReplyLimitsTests {
    func settings(rrl: Bool, rate: Int = 5, slip: Int = 2, dryRun: Bool = false, errors: Int = 100) -> ServerSettings {
        var s = ServerSettings()
        s.rrl.enabled = rrl
        s.rrl.responsesPerSecond = rate
        s.rrl.slip = slip
        s.rrl.dryRun = dryRun
        s.errorRepliesPerSecond = errors
        return s
    }

    func answer(_ id: UInt16 = 1, rcode: RCode = .noError) throws -> [UInt8] {
        let name = try DomainName("www.example.com")
        var header = Header(id: id, isResponse: true, authoritative: true)
        header.rcode = rcode
        let answers = rcode == .noError ? [ResourceRecord(name: name, ttl: 60, rdata: .a(IPv4Address(rawValue: 0xC000_0201)))] : []
        return Message(header: header, questions: [Question(name: name, type: .a)], answers: answers,
                       edns: EDNS(udpPayloadSize: 1232)).encode()
    }

    /// Sizes `apply` returns for `count` copies of `reply` from `client` in one second.
    func run(_ limits: ReplyLimits, _ reply: [UInt8], client: ClientAddress = .v4(0xC633_6401), count: Int) -> [Int] {
        (0..<count).map { _ in
            var copy = reply
            return copy.withUnsafeMutableBytes { limits.apply(reply: $0, size: reply.count, client: client, now: 50) }
        }
    }

    @Test("defaults: RRL off, error replies limited to 100/s per /24")
    func defaults() throws {
        let s = ServerSettings()
        #expect(!s.rrl.enabled && s.rrl.responsesPerSecond == 200 && s.rrl.slip == 2)
        #expect(s.rrl.ipv4Prefix == 24 && s.rrl.ipv6Prefix == 56 && s.errorRepliesPerSecond == 100)
        let metrics = ServerMetrics()
        let limits = ReplyLimits(settings: s, metrics: metrics)
        let ok = try answer()
        #expect(run(limits, ok, count: 1000).allSatisfy { $0 == ok.count })
        let refused = try answer(rcode: .refused)
        let sizes = run(limits, refused, count: 150)
        #expect(sizes.filter { $0 == refused.count }.count == 100)
        #expect(sizes.filter { $0 == 0 }.count == 50)
        #expect(metrics.errorRepliesLimited.load(ordering: .relaxed) == 50)
        // Another /24 has its own allowance.
        #expect(run(limits, refused, client: .v4(0xC633_6501), count: 1) == [refused.count])
    }

    @Test("BADVERS (NOERROR in the header, no records) counts as an error reply; NXDOMAIN does not")
    func badversIsAnError() throws {
        let metrics = ServerMetrics()
        let limits = ReplyLimits(settings: settings(rrl: false, errors: 10), metrics: metrics)
        let name = try DomainName("www.example.com")
        let badvers = Message(header: Header(id: 3, isResponse: true), questions: [Question(name: name, type: .a)],
                              edns: EDNS(extendedRCode: 1)).encode()
        #expect(run(limits, badvers, count: 30).filter { $0 == 0 }.count == 20)
        var nx = Header(id: 4, isResponse: true, authoritative: true)
        nx.rcode = .nxDomain
        let nxReply = Message(header: nx, questions: [Question(name: name, type: .a)]).encode()
        #expect(run(limits, nxReply, count: 30).allSatisfy { $0 == nxReply.count })
    }

    @Test("RRL: over the rate, slip 2 sends every second limited reply as TC=1 with the question only")
    func slipRewrite() throws {
        let metrics = ServerMetrics()
        let limits = ReplyLimits(settings: settings(rrl: true), metrics: metrics)
        let reply = try answer()
        var slippedBytes: [UInt8] = []
        var sizes: [Int] = []
        for _ in 0..<25 {
            var copy = reply
            let size = copy.withUnsafeMutableBytes { limits.apply(reply: $0, size: reply.count, client: .v4(0x0A00_0001), now: 9) }
            sizes.append(size)
            if size > 0, size < reply.count { slippedBytes = Array(copy[0..<size]) }
        }
        #expect(sizes.prefix(5).allSatisfy { $0 == reply.count })
        #expect(sizes.dropFirst(5).filter { $0 == 0 }.count == 10)
        #expect(metrics.rrlSlipped.load(ordering: .relaxed) == 10 && metrics.rrlDropped.load(ordering: .relaxed) == 10)
        let slipped = try Message(decoding: slippedBytes)
        #expect(slipped.header.truncated && slipped.answers.isEmpty && slipped.edns == nil)
        #expect(slipped.questions.first?.name == (try DomainName("www.example.com")))
        #expect(slipped.header.id == 1)
    }

    @Test("RRL dry run counts and sends everything; reload reconfigures")
    func dryRunAndReload() throws {
        let metrics = ServerMetrics()
        let limits = ReplyLimits(settings: settings(rrl: true, dryRun: true), metrics: metrics)
        let reply = try answer()
        #expect(run(limits, reply, count: 20).allSatisfy { $0 == reply.count })
        #expect(metrics.rrlDryRun.load(ordering: .relaxed) == 15)
        limits.configure(settings(rrl: false))
        #expect(run(limits, reply, count: 20).allSatisfy { $0 == reply.count })
        #expect(metrics.rrlDryRun.load(ordering: .relaxed) == 15)
    }
}
