import DNSWire
import Foundation
import GeoIP
import Testing
@testable import Policy

/// Steered names with the same rule share one compiled `Steering` (answers, RRsets, pool names,
/// decisions): a steered name costs its node, not its rule (bench/scale/RESULTS.md, Memory per
/// steered name).
@Suite struct SteeringSharingTests {
    static let yaml = """
    regions:
      europe: { continents: [EU] }
      asia: { continents: [AS] }
    pools:
      eu: { A: 192.0.2.10, AAAA: "2001:db8::10" }
      as: { A: 192.0.2.30 }
      world: { A: 192.0.2.1, AAAA: "2001:db8::1" }
    zones:
      example.com:
        soa: { mname: ns1, rname: hostmaster }
        ns: [ns1]
        records: { ns1: { A: 192.0.2.53 } }
        steer:
          a1: { regions: &m { europe: [eu, world], asia: [as] }, default: world }
          a2: { regions: *m, default: world }
          a3: { regions: { asia: [as], europe: [eu, world] }, default: world }
          b1: { ttl: 30, regions: *m, default: world }
          c1: { regions: { europe: [eu] }, default: world }
          c2: { regions: { europe: [eu] }, default: world, fallback: notimp }

    """

    static func steering(_ catalog: Catalog, _ text: String) -> Steering? {
        catalog.zones.first?.nodes[name(text)]?.steering
    }

    /// The address of an array's storage (equal for two values that share it).
    static func storage<T>(_ array: [T]) -> UInt {
        array.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    }

    @Test func namesWithTheSameRuleShareStorage() throws {
        let catalog = try load(Self.yaml, database: try GeoIPDatabase(path: demoDatabasePath))
        let a1 = try #require(Self.steering(catalog, "a1.example.com."))
        // The same rule, by alias and written out again in another key order.
        for other in ["a2.example.com.", "a3.example.com."] {
            let s = try #require(Self.steering(catalog, other))
            for type in [RRType.a, .aaaa] {
                let d1 = try #require(a1.decision(for: type)), d2 = try #require(s.decision(for: type))
                #expect(Self.storage(d1.answers) == Self.storage(d2.answers), "\(other) \(type)")
                #expect(Self.storage(d1.table.v4.starts) == Self.storage(d2.table.v4.starts))
            }
            #expect(Self.storage(a1.defaultPools) == Self.storage(s.defaultPools))
        }
        // One box behind every node with the rule: a steered node is two words.
        let nodes = try #require(catalog.zones.first?.nodes)
        let box = try #require(nodes[name("a1.example.com.")]?.steeringBox)
        #expect(nodes[name("a2.example.com.")]?.steeringBox === box && nodes[name("a3.example.com.")]?.steeringBox === box)
        #expect(nodes[name("b1.example.com.")]?.steeringBox !== box)
        #expect(MemoryLayout<Node>.size <= 2 * MemoryLayout<Int>.size)
        // Another TTL or fallback is another rule (the answers carry the TTL; the fallback decides NODATA).
        let b1 = try #require(Self.steering(catalog, "b1.example.com."))
        #expect(b1.ttl == 30)
        #expect(Self.storage(try #require(b1.decision(for: .a)).answers) != Self.storage(try #require(a1.decision(for: .a)).answers))
        let c1 = try #require(Self.steering(catalog, "c1.example.com.")), c2 = try #require(Self.steering(catalog, "c2.example.com."))
        #expect(c1.fallback == .soa && c2.fallback == .notimp)
        let report = try #require(catalog.report)
        #expect(report.distinctRules == 4)
        #expect(report.decisions == 12)   // six names x (A, AAAA)
        #expect(report.description.hasSuffix("; 4 distinct steering rules"))
    }

    @Test func sharedRulesAnswerAsTheirOwn() throws {
        // Each name's decisions equal those of a policy holding only that name.
        let db = try GeoIPDatabase(path: demoDatabasePath)
        let catalog = try load(Self.yaml, database: db)
        for owner in ["a2", "a3", "b1", "c2"] {
            let line = Self.yaml.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(owner): ") }
            var rule = String(try #require(line)).trimmingCharacters(in: .whitespaces)
            rule = rule.replacingOccurrences(of: "*m", with: "{ europe: [eu, world], asia: [as] }")
            let alone = Self.yaml.components(separatedBy: "    steer:\n")[0] + "    steer:\n      \(rule)\n"
            let single = try load(alone, database: db)
            let shared = try #require(Self.steering(catalog, "\(owner).example.com."))
            let own = try #require(Self.steering(single, "\(owner).example.com."))
            #expect(shared.ttl == own.ttl && shared.fallback == own.fallback)
            #expect(shared.regionPools == own.regionPools && shared.defaultPools == own.defaultPools)
            #expect(Set(shared.decisions.keys) == Set(own.decisions.keys))
            for (type, d) in own.decisions {
                let s = try #require(shared.decisions[type])
                #expect(s.answers == d.answers)
                #expect(s.table.v4.starts == d.table.v4.starts && s.table.v4.values == d.table.v4.values)
                #expect(s.table.v6.starts == d.table.v6.starts && s.table.v6.values == d.table.v6.values)
            }
        }
    }
}
