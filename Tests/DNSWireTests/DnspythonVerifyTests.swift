import DNSWire
import Foundation
import Testing
import TestSupport

/// Our bytes must parse in dnspython with the values we meant: writes each encoding with the
/// lines `ExpectLines` prints for the Message, then runs scripts/wire/verify.py over them.
@Suite struct DnspythonVerifyTests {
    static func n(_ s: String) -> DomainName { (try? DomainName(s)) ?? .root }

    static func messages() -> [(String, Message)] {
        var out: [(String, Message)] = []
        let www = n("www.Example.com")
        var q = Query(header: Header(id: 0x1111, recursionDesired: true, questionCount: 1),
                      question: Question(name: www, type: .a),
                      edns: EDNS(udpPayloadSize: 4096, clientSubnet: ClientSubnet(family: 1, sourcePrefix: 24, address: [192, 0, 2])))
        var m = Message(replyingTo: q)
        m.edns?.clientSubnet?.scopePrefix = 24
        m.answers = [ResourceRecord(name: www, ttl: 60, rdata: .a(IPv4Address(rawValue: 0xC633_640A))),
                     ResourceRecord(name: www, ttl: 60, rdata: .a(IPv4Address(rawValue: 0xC633_640B)))]
        out.append(("a-two-ecs", m))

        q.question.type = .aaaa
        q.edns?.clientSubnet = ClientSubnet(ipv6: IPv6Address("2001:db8:abcd:12::1") ?? IPv6Address(rawValue: 0), sourcePrefix: 56)
        m = Message(replyingTo: q)
        m.edns?.clientSubnet?.scopePrefix = 48
        m.answers = ["2001:db8::1", "::", "::ffff:192.0.2.1", "fe80::1:2"].map {
            ResourceRecord(name: www, ttl: 300, rdata: .aaaa(IPv6Address($0) ?? IPv6Address(rawValue: 0)))
        }
        out.append(("aaaa-forms-ecs6", m))

        q.edns = EDNS(udpPayloadSize: 1232, dnssecOK: true, options: [EDNSOption(code: 10, data: Array(repeating: 7, count: 16))])
        m = Message(replyingTo: q, rcode: .nxDomain)
        m.edns?.options = [EDNSOption(code: 3, data: Array("ns1".utf8))]
        m.authorities = [ResourceRecord(name: n("example.com"), ttl: 300, rdata: .soa(SOAData(
            mname: n("ns1.example.com"), rname: n("hostmaster.example.com"), serial: 2026112601, refresh: 7200,
            retry: 3600, expire: 1209600, minimum: 300)))]
        out.append(("nxdomain-soa-do-nsid", m))

        q.edns = nil
        q.question = Question(name: n("example.com"), type: .any)
        m = Message(replyingTo: q)
        m.answers = [
            ResourceRecord(name: n("example.com"), ttl: 60, rdata: .mx(preference: 65535, exchange: n("mx.example.com"))),
            ResourceRecord(name: n("example.com"), ttl: 60, rdata: .ns(n("ns1.example.com"))),
            ResourceRecord(name: n("example.com"), ttl: 60, rdata: .ns(n("ns2.example.net"))),
            ResourceRecord(name: n("example.com"), ttl: 60, rdata: .txt(text: String(repeating: "z", count: 600))),
            ResourceRecord(name: n("example.com"), ttl: 60, rdata: .txt([[], Array("x".utf8)])),
            ResourceRecord(name: n("_sip._udp.example.com"), ttl: 60, rdata: .srv(priority: 1, weight: 2, port: 3, target: n("sip.example.com"))),
            ResourceRecord(name: n("1.2.0.192.in-addr.arpa"), ttl: 60, rdata: .ptr(n("h.example.com"))),
            ResourceRecord(name: n("h.example.com"), ttl: 60, rdata: .hinfo(cpu: Array("arm".utf8), os: [])),
            ResourceRecord(name: n("h.example.com"), ttl: 60, rdata: .unknown(type: RRType(rawValue: 65280), data: [0, 1, 2, 255])),
            ResourceRecord(name: n("a\\.b\\032c.example.com"), ttl: 60, rdata: .cname(n("x.example.com"))),
        ]
        out.append(("any-many-types", m))

        q.edns = EDNS(udpPayloadSize: 1232, version: 1)
        m = Message(replyingTo: q, rcode: .badVers)
        m.header.rcode = .badVers
        out.append(("badvers", m))

        q.edns = EDNS()
        q.question = Question(name: n("version.bind"), type: .txt, rrClass: .ch)
        m = Message(replyingTo: q, rcode: .refused)
        m.header.authoritative = false
        out.append(("refused-ch", m))
        return out
    }

    static var verifyScript: URL {
        Repository.root.appendingPathComponent("scripts/wire/verify.py")
    }

    @Test func dnspythonReadsOurEncodings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnswire-verify-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let all = DnspythonVerifyTests.messages()
        for (name, m) in all {
            let wire = m.encode()
            #expect(try Message(decoding: wire).answers == m.answers)
            try ("# \(name)\n" + Hex.string(wire) + "\n").write(to: dir.appendingPathComponent(name + ".hex"), atomically: true, encoding: .utf8)
            try (ExpectLines.lines(m).joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent(name + ".expect"), atomically: true, encoding: .utf8)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", DnspythonVerifyTests.verifyScript.path, dir.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "verify.py (needs dnspython: make deps):\n\(output)")
        #expect(output.contains("dnspython verified \(all.count)/\(all.count)"), "\(output)")
    }
}
