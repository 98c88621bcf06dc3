import DNSWire
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 16's "which instance answered" and small wire differences, issue 10's header pointers,
/// as dig and kdig show them against the real (unprivileged) daemon.
@Suite("identity and wire details end to end", .serialized)
struct IdentityAndWireEndToEndTests {
    static func policy(identity: Bool) -> String {
        wirePolicy.replacingOccurrences(of: "  geoip: data/geodns-demo.mmdb\n", with: """
          geoip: data/geodns-demo.mmdb
          tcp: { idle_timeout: 7.5 }

        """ + (identity ? "  identity: edge-1\n  version: \"geodns e2e\"\n" : ""))
    }

    @Test("dig +nsid, CH TXT id.server/hostname.bind/version.bind/version.server; unset: REFUSED")
    func identity() throws {
        let dir = try PolicyDir(yaml: Self.policy(identity: true))
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }

        let nsid = daemon.dig("www.example.com", "A", ["+nsid"])
        #expect(nsid.status == "NOERROR" && nsid.raw.contains("NSID: 65 64 67 65 2d 31 (\"edge-1\")"), "\(nsid)")
        let nsidTCP = daemon.kdig("www.example.com", "A", tcp: true, ["+nsid"])
        #expect(nsidTCP.raw.contains(";; NSID: 656467652D31 \"edge-1\""), "\(nsidTCP)")
        for (name, value) in [("id.server", "edge-1"), ("hostname.bind", "edge-1"),
                              ("version.bind", "geodns e2e"), ("version.server", "geodns e2e")] {
            let r = daemon.dig(name, "TXT", ["-c", "CH"])
            #expect(r.status == "NOERROR" && r.raw.contains("\(name).\t\t0\tCH\tTXT\t\"\(value)\""), "\(r)")
            #expect(!r.flags.contains("aa"), "\(r)")
        }
        #expect(daemon.isRunning, "\(daemon.log)")
    }

    @Test("without server.identity/version: CH TXT REFUSED, no NSID")
    func noIdentity() throws {
        let dir = try PolicyDir(yaml: Self.policy(identity: false))
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        for name in ["id.server", "hostname.bind", "version.bind", "version.server"] {
            let r = daemon.dig(name, "TXT", ["-c", "CH"])
            #expect(r.status == "REFUSED" && r.answer.isEmpty, "\(r)")
        }
        let nsid = daemon.dig("www.example.com", "A", ["+nsid"])
        #expect(nsid.status == "NOERROR" && !nsid.raw.contains("NSID"), "\(nsid)")
    }

    @Test("edns-tcp-keepalive over TCP only; a TIMEOUT from the client is FORMERR")
    func keepalive() throws {
        let dir = try PolicyDir(yaml: Self.policy(identity: false))
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        let tcp = daemon.dig("www.example.com", "A", ["+tcp", "+keepalive"])
        #expect(tcp.status == "NOERROR" && tcp.raw.contains("TCP KEEPALIVE: 7.5 secs"), "\(tcp)")
        let udp = daemon.dig("www.example.com", "A", ["+keepalive"])
        #expect(udp.status == "NOERROR" && !udp.raw.contains("KEEPALIVE"), "\(udp)")
        // kdig 3.2 has no +keepalive: the option by number (11), empty as a client sends it.
        let k = daemon.kdig("www.example.com", "A", tcp: true, ["+ednsopt=11"])
        #expect(k.status == "NOERROR" && k.raw.contains(";; Option (11): 004B"), "\(k)")    // 75 x 100 ms
        let bad = daemon.kdig("www.example.com", "A", tcp: true, ["+ednsopt=11:0064"])
        #expect(bad.status == "FORMERR", "\(bad)")
        let badUDP = daemon.kdig("www.example.com", "A", ["+ednsopt=11:0064"])
        #expect(badUDP.status == "FORMERR", "\(badUDP)")
    }

    @Test("TSIG: NOTAUTH with BADKEY; NOTIMP without CD; QCLASS ANY answered from IN")
    func wireDetails() throws {
        let dir = try PolicyDir(yaml: Self.policy(identity: false))
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        for transport in [[], ["+tcp"]] {
            let tsig = daemon.dig("www.example.com", "A", ["-y", "hmac-sha256:key.example:c2VjcmV0c2VjcmV0c2VjcmV0"] + transport)
            #expect(tsig.status == "NOTAUTH" && tsig.answer.isEmpty, "\(tsig)")
            #expect(tsig.raw.contains("key.example.\t\t0\tANY\tTSIG\thmac-sha256. ") && tsig.raw.contains(" 300 0 ")
                    && tsig.raw.contains(" BADKEY 0"), "\(tsig)")
        }
        let notimp = daemon.dig("www.example.com", "A", ["+opcode=notify", "+cd", "+recurse"])
        #expect(notimp.status == "NOTIMP" && notimp.flags.contains("rd") && !notimp.flags.contains("cd"), "\(notimp)")
        let fallback = daemon.dig("strict.example.com", "MX", ["+cd"])
        #expect(fallback.status == "NOTIMP" && !fallback.flags.contains("cd"), "\(fallback)")
        let answered = daemon.dig("www.example.com", "A", ["+cd"])
        #expect(answered.status == "NOERROR" && answered.flags.contains("cd"), "\(answered)")
        let any = daemon.dig("www.example.com", "A", ["-c", "ANY"])
        #expect(any.status == "NOERROR" && any.flags.contains("aa") && any.data("A") == ["198.51.100.1"], "\(any)")
        #expect(any.raw.contains(";www.example.com.\t\tANY\tA"), "the question as asked: \(any)")
        #expect(daemon.isRunning, "\(daemon.log)")
    }

    @Test("a qname pointing into the header (offsets 0-11) gets FORMERR over UDP and TCP")
    func pointerIntoHeader() throws {
        let dir = try PolicyDir(yaml: Self.policy(identity: false))
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        let udp = Loopback.udpSocket()
        defer { close(udp) }
        for k in 0..<12 {
            let q: [UInt8] = [0x42, UInt8(k), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, UInt8(k), 0, 1, 0, 1]
            Loopback.sendUDP(udp, q, port: daemon.port)
            var p = pollfd(fd: udp, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, 3000)
            let replies = Loopback.drainUDP(udp)
            let m = replies.first.flatMap { try? Message(decoding: $0) }
            #expect(m?.rcode == .formErr && m?.header.id == UInt16(0x4200 | k), "UDP offset \(k): \(replies)")
            let fd = Loopback.connectTCP(daemon.port)
            #expect(fd >= 0)
            let tcp = Loopback.tcpExchange(fd, q).flatMap { try? Message(decoding: $0) }
            #expect(tcp?.rcode == .formErr, "TCP offset \(k)")
            close(fd)
        }
        #expect(daemon.isRunning, "\(daemon.log)")
    }
}
