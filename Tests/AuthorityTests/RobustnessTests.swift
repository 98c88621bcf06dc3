import DNSWire
import Policy
import Testing
@testable import Authority
import TestSupport

/// Packet bytes never crash the engine: random packets and mutations of real queries go through
/// `respond` (both forms); every reply decodes, answers a query, and fits the UDP limit.
@Suite struct RobustnessTests {
    static func seeds() throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        for (qname, type) in [("www.example.com.", RRType.a), ("cdn.example.com.", .a), ("x.y.wild.example.com.", .txt),
                              ("loop1.example.com.", .a), ("host.sub.example.com.", .ns), ("example.com.", .any)] {
            var h = Header(id: 1, recursionDesired: true)
            h.questionCount = 1
            var m = Message(header: h, questions: [Question(name: try DomainName(qname), type: type)])
            m.edns = EDNS(udpPayloadSize: 512, clientSubnet: .v4("81.2.69.0", 24))
            out.append(m.encode())
            m.edns = nil
            out.append(m.encode())
        }
        return out
    }

    @Test func survivesRandomAndMutatedPackets() throws {
        let catalog = Fixture.catalog()
        var rng = SplitMix64(seed: 0x5EED)
        let seeds = try Self.seeds()
        var scratch = Query()
        var output: [UInt8] = []
        var replies = 0
        for round in 0..<20_000 {
            var packet: [UInt8]
            if round % 4 == 0 {
                packet = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                packet = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    guard !packet.isEmpty else { break }
                    let i = Int.random(in: 0..<packet.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: packet[i] = UInt8.random(in: 0...255, using: &rng)
                    case 1: packet.remove(at: i)
                    default: packet.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                    }
                }
                packet[2] &= 0x7F        // keep QR=0 so most get past the drop rule
            }
            let transport: Transport = round % 3 == 0 ? .tcp : .udp
            let reply = Authority.respond(to: packet, source: .v4(0x0A00_0001), transport: transport, catalog: catalog)
            let sent = Authority.respond(to: packet, source: .v4(0x0A00_0001), transport: transport, catalog: catalog,
                                         scratch: &scratch, output: &output)
            #expect(sent == (reply != nil))
            guard let reply else { continue }
            replies += 1
            #expect(output == reply)
            let decoded = try Message(decoding: reply)
            #expect(decoded.header.isResponse)
            #expect(decoded.header.id == UInt16(packet[0]) << 8 | UInt16(packet[1]))
            if transport == .udp { #expect(reply.count <= 1232) }
        }
        #expect(replies > 1000)
    }
}
