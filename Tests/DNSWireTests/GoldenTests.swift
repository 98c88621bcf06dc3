import DNSWire
import Foundation
import Testing

/// Golden packets written by dnspython (scripts/wire/golden.py): we read the values dnspython
/// wrote, re-encode to the same bytes, and decode(encode(m)) == m.
@Suite struct GoldenTests {
    static let golden = Fixture.load("golden")

    @Test func goldenCorpusIsPresent() {
        #expect(GoldenTests.golden.count >= 20)
    }

    @Test(arguments: GoldenTests.golden)
    func decodesDnspythonBytesToTheSameValues(_ f: Fixture) throws {
        let m = try Message(decoding: f.bytes)
        #expect(!f.expectLines.isEmpty)
        #expect(ExpectLines.lines(m) == f.expectLines, "\(f.name): \(f.description)")
    }

    @Test(arguments: GoldenTests.golden)
    func reencodesToDnspythonsBytes(_ f: Fixture) throws {
        let m = try Message(decoding: f.bytes)
        let again = m.encode()
        if f.isInexact {
            #expect(again.count == f.bytes.count)
        } else {
            #expect(Hex.string(again) == Hex.string(f.bytes), "\(f.name): \(f.description)")
        }
    }

    @Test(arguments: GoldenTests.golden)
    func roundTrips(_ f: Fixture) throws {
        let m = try Message(decoding: f.bytes)
        #expect(try Message(decoding: m.encode()) == m)
    }

    @Test(arguments: GoldenTests.golden.filter { $0.name.hasPrefix("query-") })
    func goldenQueriesParseAsQueries(_ f: Fixture) throws {
        guard case .query(let q) = Query.parse(f.bytes) else {
            Issue.record("\(f.name) did not parse as a query")
            return
        }
        let m = try Message(decoding: f.bytes)
        #expect(q.question == m.questions.first)
        #expect(q.edns == m.edns)
        #expect(q.header == m.header)
    }

    @Test func ecsQueryValues() throws {
        let f = try #require(GoldenTests.golden.first { $0.name == "query-aaaa-ecs-v6" })
        guard case .query(let q) = Query.parse(f.bytes) else { Issue.record("not a query"); return }
        let cs = try #require(q.edns?.clientSubnet)
        #expect(cs.family == 2)
        #expect(cs.sourcePrefix == 56)
        #expect(cs.scopePrefix == 0)
        #expect(cs.address == [0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x00])
        #expect(cs.ipv6 == IPv6Address("2001:db8:1234::"))
        #expect(q.question.name.description == "www.example.com.")
        #expect(q.question.type == .aaaa)
    }

    @Test func ecsFoundWhereverItSits() throws {
        let f = try #require(GoldenTests.golden.first { $0.name == "query-a-cookie-then-ecs" })
        guard case .query(let q) = Query.parse(f.bytes) else { Issue.record("not a query"); return }
        #expect(q.edns?.clientSubnet?.ipv4 == IPv4Address("203.0.113.0"))
        #expect(q.edns?.options == [EDNSOption(code: 10, data: Hex.bytes("0123456789abcdef"))])
    }

    @Test func mixedCaseIsKept() throws {
        let f = try #require(GoldenTests.golden.first { $0.name == "query-mixed-case" })
        guard case .query(let q) = Query.parse(f.bytes) else { Issue.record("not a query"); return }
        #expect(q.question.name.description == "wWw.ExAmPlE.cOm.")
        #expect(q.question.name == (try DomainName("www.example.com")))
        // The reply echoes the client's letters.
        let reply = Message(replyingTo: q).encode()
        #expect(Array(reply[12..<(12 + 17)]) == Array(f.bytes[12..<(12 + 17)]))
    }
}
