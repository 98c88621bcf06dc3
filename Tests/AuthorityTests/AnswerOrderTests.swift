import DNSWire
import GeoIP
import Policy
import Testing
@testable import Authority

/// `order: rotate` on a pool: the addresses are answered rotated per query (as PowerDNS and
/// BIND's cyclic order do), by the query's ID — a pure function of the query, so every tier,
/// and a retransmission, gives the same order. `order: fixed` (the default) keeps the order as
/// written (issue 17).
@Suite struct AnswerOrderTests {
    static let policy = """
    regions:
      europe: { continents: [EU] }
    pools:
      eu-web: { A: [198.51.100.10, 198.51.100.11, 198.51.100.12], AAAA: ["2001:db8::10", "2001:db8::11"], order: rotate }
      fixed:  { A: [192.0.2.1, 192.0.2.2, 192.0.2.3] }
    zones:
      example.com:
        soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 1 }
        ns: [ns1.example.com.]
        records: { ns1: { A: 192.0.2.53 } }
        steer:
          www: { regions: { europe: [eu-web] }, default: fixed }
          "*.pool": { regions: { europe: [eu-web] }, default: fixed }

    """

    static func catalog() throws -> Catalog {
        let path = YAMLScenarioTests.repository + "/data/geodns-demo.mmdb"
        return try PolicyLoader.load(yaml: policy, path: "t.yaml", database: try GeoIPDatabase(path: path))
    }

    static func order(_ catalog: Catalog, id: UInt16, client: String, type: RRType = .a) throws -> [String] {
        let query = Query(header: Header(id: id), question: Question(name: try DomainName("www.example.com."), type: type))
        return Authority.answer(query, client: try #require(ClientAddress(client)), catalog: catalog).answers.map { $0.rdata.presentationText }
    }

    @Test func rotatePoolRotatesByQueryAndFixedStaysFixed() throws {
        let catalog = try Self.catalog()
        let europe = "81.2.69.160"
        #expect(try Self.order(catalog, id: 0, client: europe) == ["198.51.100.10", "198.51.100.11", "198.51.100.12"])
        #expect(try Self.order(catalog, id: 1, client: europe) == ["198.51.100.11", "198.51.100.12", "198.51.100.10"])
        #expect(try Self.order(catalog, id: 2, client: europe) == ["198.51.100.12", "198.51.100.10", "198.51.100.11"])
        #expect(try Self.order(catalog, id: 3, client: europe) == ["198.51.100.10", "198.51.100.11", "198.51.100.12"])
        #expect(try Self.order(catalog, id: 1, client: europe, type: .aaaa) == ["2001:db8::11", "2001:db8::10"])
        // The same set every time, each order about as often over 300 IDs.
        var firsts: [String: Int] = [:]
        for id in UInt16(1000)..<1300 {
            let o = try Self.order(catalog, id: id, client: europe)
            #expect(o.sorted() == ["198.51.100.10", "198.51.100.11", "198.51.100.12"])
            firsts[o[0], default: 0] += 1
        }
        #expect(firsts.count == 3 && firsts.values.allSatisfy { $0 == 100 }, "\(firsts)")
        for id in [UInt16(0), 1, 2, 77] {
            #expect(try Self.order(catalog, id: id, client: "8.8.8.8") == ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
        }
    }

    /// The fast path (express and templated tiers) gives the general path's bytes, rotation included.
    @Test func fastPathRotatesExactlyLikeTheGeneralPath() throws {
        let catalog = try Self.catalog()
        let names = ["www.example.com.", "x.pool.example.com.", "example.com."]
        let tally = FastPathTests.compare(catalog, names: names, count: 20000, seed: 41)
        #expect(tally.mismatches == 0, "\(tally)\n\(tally.firstMismatch ?? "")")
        #expect(tally.fast * 100 >= tally.total * 70, "\(tally)")
        let templated = FastPathTests.compare(catalog, names: names, count: 5000, seed: 42, express: false)
        #expect(templated.mismatches == 0, "\(templated)\n\(templated.firstMismatch ?? "")")
        // European clients, every ID residue, both tiers: the rotated bytes themselves.
        let fast = Authority.FastPath(catalog: catalog)
        var scratch = Authority.FastPathScratch()
        var out = [UInt8](repeating: 0, count: 4096)
        var orders = Set<[UInt8]>()
        for id in UInt16(0)..<60 {
            for (name, type) in [("www.example.com.", RRType.a), ("a.pool.example.com.", .aaaa)] {
                for express in [true, false] {
                    var header = Header(id: id)
                    header.questionCount = 1
                    let m = Message(header: header, questions: [Question(name: try DomainName(name), type: type)],
                                    edns: EDNS(clientSubnet: ClientSubnet(ipv4: IPv4Address(rawValue: 0x5102_4500), sourcePrefix: 24)))
                    let bytes = m.encode()
                    let n = out.withUnsafeMutableBytes { o in
                        bytes.withUnsafeBytes { fast.respond(to: $0, source: .v4(0x7F00_0001), into: o, scratch: &scratch, through: .encode, express: express) }
                    }
                    #expect(scratch.lastTier == (express ? .express : .templated), "\(name) \(id)")
                    let general = Authority.respond(to: bytes, source: .v4(0x7F00_0001), transport: .udp, catalog: catalog)
                    #expect(n > 0 && Array(out.prefix(n)) == general, "\(name) id \(id) express \(express)")
                    if type == .a { orders.insert(Array(out[2..<n])) }
                }
            }
        }
        #expect(orders.count == 3, "three rotations of three addresses")
    }

    @Test func orderMustBeFixedOrRotate() {
        let yaml = Self.policy.replacingOccurrences(of: "order: rotate", with: "order: random")
        var messages: [String] = []
        do { _ = try PolicyLoader.load(yaml: yaml, path: "t.yaml", database: nil) } catch { messages = error.diagnostics.map(\.description) }
        #expect(messages.contains { $0.contains("t.yaml:4:") && $0.contains("order must be fixed or rotate, found 'random'") }, "\(messages)")
    }
}
