import Foundation
import Testing

/// A small policy exercising every row of DESIGN.md's wire table through the real daemon.
let wirePolicy = """
server:
  listen: ["127.0.0.1:5353"]
  geoip: data/geodns-demo.mmdb
regions:
  europe: { continents: [EU] }
  office: { networks: [203.0.113.0/24] }
pools:
  eu: { A: 198.51.100.10 }
  office: { A: 198.51.100.99 }
  global: { A: 198.51.100.1 }
zones:
  example.com:
    soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 1, refresh: 7200, retry: 3600, expire: 1209600, minimum: 300, ttl: 3600 }
    ns: { ttl: 86400, names: [ns1.example.com.] }
    records:
      ns1: { A: 192.0.2.53 }
      big: { ttl: 60, TXT: [\(bigTXT)] }
      "*.wild": { A: 192.0.2.77 }
      deep.ent: { A: 192.0.2.78 }
    steer:
      www: { ttl: 60, regions: { europe: [eu], office: [office] }, default: global }
      strict: { ttl: 60, regions: { europe: [eu] }, default: global, fallback: notimp }
"""

/// 30 strings of 60 bytes: an RRset far larger than 512 bytes.
let bigTXT = (0..<30).map { "\"\($0)-" + String(repeating: "x", count: 57) + "\"" }
    .joined(separator: ", ")

@Suite("wire behaviour end to end", .serialized)
struct WireBehaviourEndToEndTests {
    @Test("every wire-table row, as dig and kdig see it")
    func wireTable() throws {
        let dir = try PolicyDir(yaml: wirePolicy)
        defer { dir.remove() }
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }

        // NXDOMAIN: SOA in authority with TTL min(SOA TTL, minimum) = 300; AA; ECS scope 0.
        let nx = daemon.dig("nx.example.com", "A", subnet: "81.2.69.0/24")
        #expect(nx.status == "NXDOMAIN" && nx.flags.contains("aa"), "\(nx)")
        #expect(nx.authority.map(\.type) == ["SOA"] && nx.authority.first?.ttl == 300, "\(nx)")
        #expect(nx.ecsScope == 0, "\(nx)")

        // NODATA: NOERROR, no answer, SOA in authority.
        let nodata = daemon.dig("www.example.com", "TXT")
        #expect(nodata.status == "NOERROR" && nodata.answer.isEmpty && nodata.authority.map(\.type) == ["SOA"], "\(nodata)")

        // Fallback notimp (the seed's TCP example): a type the steered name has no data for.
        let notimp = daemon.dig("strict.example.com", "MX")
        #expect(notimp.status == "NOTIMP", "\(notimp)")

        // Outside every zone: REFUSED, not authoritative.
        let refused = daemon.dig("example.org", "A")
        #expect(refused.status == "REFUSED" && !refused.flags.contains("aa"), "\(refused)")

        // An opcode we do not do: NOTIMP.
        let notify = daemon.dig("www.example.com", "A", ["+opcode=notify"])
        #expect(notify.status == "NOTIMP", "\(notify)")

        // EDNS version 1: BADVERS, answered with OPT version 0.
        let badvers = daemon.dig("www.example.com", "A", ["+edns=1", "+noednsneg"])
        #expect(badvers.status == "BADVERS" && badvers.hasOPT, "\(badvers)")

        // Bad ECS (address bytes longer than the /24 source prefix needs): FORMERR.
        let badECS = daemon.kdig("www.example.com", "A", ["+ednsopt=8:0001180051024501"])
        #expect(badECS.status == "FORMERR", "\(badECS)")
        // ECS with a non-zero scope in a query: FORMERR (RFC 7871 §6).
        let badScope = daemon.kdig("www.example.com", "A", ["+ednsopt=8:00011810510245"])
        #expect(badScope.status == "FORMERR", "\(badScope)")

        // ANY: RFC 8482 minimal answer.
        let any = daemon.dig("www.example.com", "ANY")
        #expect(any.data("HINFO") == ["\"RFC8482\" \"\""], "\(any)")

        // Truncation: a 512-byte limit without EDNS sets TC; over TCP the whole RRset comes.
        let small = daemon.dig("big.example.com", "TXT", ["+noedns", "+ignore"])
        #expect(small.flags.contains("tc") && small.answer.isEmpty, "\(small)")
        let small2 = daemon.dig("big.example.com", "TXT", ["+bufsize=512", "+ignore"])
        #expect(small2.flags.contains("tc"), "\(small2)")
        let whole = daemon.kdig("big.example.com", "TXT", tcp: true)
        #expect(whole.answer.count == 30 && !whole.flags.contains("tc"), "\(whole)")

        // Wildcard (RFC 4592): synthesized with the query name; an empty non-terminal is NODATA.
        let wild = daemon.dig("anything.wild.example.com", "A")
        #expect(wild.data("A") == ["192.0.2.77"] && wild.answer.first?.name == "anything.wild.example.com.", "\(wild)")
        let ent = daemon.dig("ent.example.com", "A")
        #expect(ent.status == "NOERROR" && ent.answer.isEmpty, "\(ent)")

        // Apex NS and SOA; the question echoed with the client's letter case; RD copied.
        let ns = daemon.dig("EXAMPLE.com", "NS", ["+recurse"])
        #expect(ns.data("NS").map { $0.lowercased() } == ["ns1.example.com."] && ns.flags.contains("rd") && ns.flags.contains("aa"), "\(ns)")
        #expect(ns.raw.contains(";EXAMPLE.com."), "question echoed in the client's case: \(ns)")

        // An explicit network override beats the database.
        let office = daemon.dig("www.example.com", "A", subnet: "203.0.113.0/24")
        #expect(office.data("A") == ["198.51.100.99"] && office.ecsScope == 24, "\(office)")

        // No EDNS in the query: no OPT in the reply.
        let plain = daemon.dig("www.example.com", "A", ["+noedns"])
        #expect(!plain.hasOPT && plain.data("A") == ["198.51.100.1"], "\(plain)")
        // With EDNS: OPT advertising our payload size.
        let edns = daemon.dig("www.example.com", "A")
        #expect(edns.udpSize == 1232, "\(edns)")

        #expect(daemon.isRunning, "the daemon survives every row:\n\(daemon.log)")
    }
}
