import DNSWire
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// DNS Cookies (RFC 7873, RFC 9018) against the real daemon, run unprivileged, as `dig` shows
/// them: a server cookie the client can send back and have accepted (`COOKIE: ... (good)`),
/// over UDP and TCP; the QDCOUNT=0 cookie query; FORMERR for a malformed option; a secret
/// rotated by a reload without breaking the client's cookie; valid-cookie clients exempt from
/// the error-reply limit.
@Suite("DNS cookies end to end", .serialized)
struct CookieEndToEndTests {
    static func daemon(server extra: String = "") throws -> (PolicyDir, Daemon) {
        let original = try String(contentsOf: Paths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8)
        let yaml = original.replacingOccurrences(of: "  udp_payload_size: 1232\n", with: "  udp_payload_size: 1232\n\(extra)")
        #expect(extra.isEmpty || yaml != original)
        let dir = try PolicyDir(yaml: yaml)
        do {
            return (dir, try Daemon(config: dir.configPath))
        } catch {
            dir.remove()
            throw error
        }
    }

    /// The `; COOKIE: <hex> (good)` line of dig's OPT pseudosection: the hex, when dig says good.
    static func goodCookie(_ r: DigResult) -> String? {
        guard let m = r.raw.firstMatch(of: /; COOKIE: ([0-9a-f]+) \(good\)/) else { return nil }
        return String(m.1)
    }

    @Test("dig +cookie twice, UDP and TCP: the cookie dig got back is sent again and accepted", arguments: [false, true])
    func digTwice(tcp: Bool) throws {
        let (dir, daemon) = try Self.daemon()
        defer { dir.remove() }
        defer { daemon.stop() }
        let transport = tcp ? ["+tcp"] : []
        let first = daemon.dig("www.example.com", "A", ["+cookie"] + transport)
        #expect(first.status == "NOERROR" && first.data("A") == ["198.51.100.1"], "\(first)")
        let cookie = try #require(Self.goodCookie(first), "no good cookie in:\n\(first)")
        #expect(cookie.count == 48, "client 8 + server 16 bytes: \(cookie)")
        #expect(cookie.dropFirst(16).hasPrefix("01000000"), "version 1, reserved 0: \(cookie)")
        let before = daemon.counters()

        let second = daemon.dig("www.example.com", "A", ["+cookie=\(cookie)"] + transport)
        #expect(second.status == "NOERROR" && second.data("A") == ["198.51.100.1"], "\(second)")
        // Fresh (seconds old): our server cookie comes back as sent.
        #expect(Self.goodCookie(second) == cookie, "\(second)")
        let after = daemon.counters()
        #expect((after["geodns_cookies_valid_total"] ?? 0) - (before["geodns_cookies_valid_total"] ?? 0) == 1, "\(after)")

        // Another server cookie (not ours): answered all the same, with a fresh cookie of ours.
        let forged = String(cookie.prefix(16)) + "01000000" + String(cookie.dropFirst(24).prefix(8)) + "0000000000000000"
        let third = daemon.dig("www.example.com", "A", ["+cookie=\(forged)"] + transport)
        #expect(third.status == "NOERROR" && third.data("A") == ["198.51.100.1"], "\(third)")
        let fresh = try #require(Self.goodCookie(third), "\(third)")
        #expect(fresh.hasPrefix(cookie.prefix(16)) && fresh != forged)
        let last = daemon.counters()
        #expect(last["geodns_cookies_valid_total"] == after["geodns_cookies_valid_total"], "\(last)")
    }

    @Test("a QDCOUNT=0 query with a cookie (dig +header-only +cookie): NOERROR, no question, our cookie")
    func cookieOnly() throws {
        let (dir, daemon) = try Self.daemon()
        defer { dir.remove() }
        defer { daemon.stop() }
        func dig(_ options: [String]) -> DigResult {
            DigResult(run("/usr/bin/dig", ["@127.0.0.1", "-p", "\(daemon.port)", "+time=2", "+tries=1"] + options, timeout: 15))
        }
        let r = dig(["+header-only", "+cookie"])
        #expect(r.status == "NOERROR", "\(r)")
        #expect(r.raw.contains("QUERY: 0, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1"), "\(r)")
        #expect(Self.goodCookie(r) != nil, "\(r)")
        // Without a cookie QDCOUNT=0 stays FORMERR.
        let bare = dig(["+header-only", "+nocookie"])
        #expect(bare.status == "FORMERR", "\(bare)")
    }

    @Test("a malformed COOKIE option (2 bytes) gets FORMERR, over UDP and TCP")
    func malformed() throws {
        let (dir, daemon) = try Self.daemon()
        defer { dir.remove() }
        defer { daemon.stop() }
        for transport in [[], ["+tcp"]] {
            let r = daemon.dig("www.example.com", "A", ["+nocookie", "+ednsopt=10:0102"] + transport)
            #expect(r.status == "FORMERR", "\(r)")
            #expect(r.answer.isEmpty && !r.raw.contains("COOKIE:"), "\(r)")
        }
    }

    @Test("a reload that changes server.cookies.secret: the cookie of the old secret stays good and is renewed")
    func rotation() throws {
        let old = "e5e973e5a6b2a43f48e7dc849e37bfcf", new = "445536bcd2513298075a5d379663c962"
        let (dir, daemon) = try Self.daemon(server: "  cookies: { secret: \(old) }\n")
        defer { dir.remove() }
        defer { daemon.stop() }
        let cookie = try #require(Self.goodCookie(daemon.dig("www.example.com", "A", ["+cookie"])))
        #expect(Self.goodCookie(daemon.dig("www.example.com", "A", ["+cookie=\(cookie)"])) == cookie)

        let yaml = try String(contentsOf: URL(fileURLWithPath: dir.configPath), encoding: .utf8)
        try dir.write(yaml.replacingOccurrences(of: old, with: new))
        let reloads = daemon.log.components(separatedBy: "policy reloaded").count
        daemon.signal(SIGHUP)
        #expect(waitFor { daemon.log.components(separatedBy: "policy reloaded").count > reloads }, "\(daemon.log)")
        #expect(daemon.log.contains("DNS cookie secret rotated"), "\(daemon.log)")
        #expect(!daemon.log.contains(old) && !daemon.log.contains(new), "a secret reached the log")

        let before = daemon.counters()
        let renewed = try #require(Self.goodCookie(daemon.dig("www.example.com", "A", ["+cookie=\(cookie)"])))
        #expect(renewed != cookie && renewed.hasPrefix(cookie.prefix(16)), "renewed with the new secret")
        let after = daemon.counters()
        #expect((after["geodns_cookies_valid_total"] ?? 0) - (before["geodns_cookies_valid_total"] ?? 0) == 1, "\(after)")
        // The renewed cookie is good as sent.
        #expect(Self.goodCookie(daemon.dig("www.example.com", "A", ["+cookie=\(renewed)"])) == renewed)
    }

    /// A query for `name` A from the socket, with OPT carrying the COOKIE `data`.
    static func query(_ name: String, cookie data: [UInt8]?, id: UInt16) -> [UInt8] {
        let domain = (try? DomainName(name)) ?? .root
        let options = data.map { [EDNSOption(code: 10, data: $0)] } ?? []
        return Message(header: Header(id: id), questions: [Question(name: domain, type: .a)],
                       edns: EDNS(udpPayloadSize: 1232, options: options)).encode()
    }

    @Test("error replies from a client with a valid server cookie are not limited; without one they are")
    func errorReplyLimitExemption() throws {
        let rate = 5, total = 60
        let (dir, daemon) = try Self.daemon(server: "  error_replies_per_second: \(rate)\n")
        defer { dir.remove() }
        defer { daemon.stop() }
        let withCookie = Loopback.udpSocket(source: 0x7f00_0001)      // 127.0.0.0/24
        let without = Loopback.udpSocket(source: 0x7f00_0101)         // 127.0.1.0/24
        defer { close(withCookie); close(without) }
        #expect(withCookie >= 0 && without >= 0)

        // Learn our server cookie for 127.0.0.1 (an answer: not an error reply).
        Loopback.sendUDP(withCookie, Self.query("www.example.com", cookie: [1, 2, 3, 4, 5, 6, 7, 8], id: 1), port: daemon.port)
        var learned: [UInt8]?
        _ = waitFor(seconds: 5) {
            learned = Loopback.drainUDP(withCookie).compactMap { try? Message(decoding: $0) }.first?.edns?.cookie
            return learned != nil
        }
        let cookie = try #require(learned)
        #expect(cookie.count == 24 && Array(cookie.prefix(8)) == [1, 2, 3, 4, 5, 6, 7, 8])
        let before = daemon.counters()

        // REFUSED (outside every zone) 60 times from each, back to back: far over 5 a second.
        for i in 0..<total {
            Loopback.sendUDP(withCookie, Self.query("www.example.org", cookie: cookie, id: UInt16(100 + i)), port: daemon.port)
            Loopback.sendUDP(without, Self.query("www.example.org", cookie: nil, id: UInt16(100 + i)), port: daemon.port)
        }
        usleep(500_000)
        let exempt = Loopback.drainUDP(withCookie).compactMap { try? Message(decoding: $0) }
        let limited = Loopback.drainUDP(without).compactMap { try? Message(decoding: $0) }
        let after = daemon.counters()
        func delta(_ n: String) -> Int { (after["geodns_\(n)"] ?? 0) - (before["geodns_\(n)"] ?? 0) }
        print("cookies: \(total) REFUSED queries each: \(exempt.count) answered with a valid cookie, \(limited.count) without")

        #expect(exempt.count == total, "with a valid cookie: \(exempt.count)/\(total)")
        #expect(exempt.allSatisfy { $0.header.rcode == .refused && $0.edns?.cookie == cookie })
        #expect(limited.count >= rate - 1 && limited.count <= rate * 3, "without: \(limited.count)/\(total)")
        #expect(delta("cookies_valid_total") == total, "\(after)")
        #expect(delta("error_replies_limited_total") == total - limited.count, "\(after)")
    }
}
