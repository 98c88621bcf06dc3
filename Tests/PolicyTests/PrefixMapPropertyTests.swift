import Testing
@testable import Policy
import TestSupport

/// Deterministic generator so a failure can be replayed (SplitMix64).


/// PrefixMap checked exhaustively against a brute-force reference on an 8-bit address space:
/// every address's value (override layer longest-prefix first, then base, then default) and its
/// scope (the shortest prefix whose whole block has that value), over thousands of random maps.
@Suite struct PrefixMapPropertyTests {
    typealias Net = PrefixMap<UInt8>.Network

    static func contains(_ n: Net, _ a: UInt8) -> Bool {
        let m: UInt8 = n.prefixLength == 0 ? 0 : ~(UInt8.max >> n.prefixLength)
        return (a & m) == (n.address & m)
    }

    static func randomNet(_ rng: inout SplitMix64, value: Int) -> Net {
        Net(address: UInt8.random(in: 0...255, using: &rng), prefixLength: Int.random(in: 0...8, using: &rng), value: value)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func matchesBruteForceOnEightBitSpace(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var failures: [String] = []
        for iteration in 0..<2500 {
            var base: [Net] = []
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                let n = Self.randomNet(&rng, value: Int.random(in: 0...3, using: &rng))
                let overlaps = base.contains { b in (0...255).contains { Self.contains(b, UInt8($0)) && Self.contains(n, UInt8($0)) } }
                if !overlaps { base.append(n) }
            }
            var overrides: [Net] = []
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                let n = Self.randomNet(&rng, value: 10 + Int.random(in: 0...3, using: &rng))
                if !overrides.contains(where: { $0.prefixLength == n.prefixLength && Self.contains($0, n.address) }) { overrides.append(n) }
            }
            let defaultValue = 7
            let map = PrefixMap<UInt8>(base: base, overrides: overrides, defaultValue: defaultValue)
            let expected: [Int] = (0...255).map { ai in
                let a = UInt8(ai)
                if let o = overrides.filter({ Self.contains($0, a) }).max(by: { $0.prefixLength < $1.prefixLength }) { return o.value }
                if let b = base.first(where: { Self.contains($0, a) }) { return b.value }
                return defaultValue
            }
            func reference(_ a: UInt8) -> Int { expected[Int(a)] }
            // uniform[p][b]: block b of prefix length p holds one value (bottom-up over the tree).
            var uniform: [[Bool]] = Array(repeating: [], count: 9)
            uniform[8] = Array(repeating: true, count: 256)
            for p in stride(from: 7, through: 0, by: -1) {
                uniform[p] = (0..<(1 << p)).map { b in
                    let lo = b << 1, hi = lo | 1, shift = 8 - (p + 1)
                    return uniform[p + 1][lo] && uniform[p + 1][hi] && expected[lo << shift] == expected[hi << shift]
                }
            }
            for ai in 0...255 {
                let a = UInt8(ai)
                let (value, scope) = map.lookup(a)
                let want = (0...8).first { p in uniform[p][ai >> (8 - p)] } ?? 8
                if value != reference(a) || Int(scope) != want, failures.count < 5 {
                    failures.append("seed \(seed) iteration \(iteration) address \(a): got \(value)/\(scope), want \(reference(a))/\(want); base \(base) overrides \(overrides)")
                }
            }
            for i in map.values.indices.dropFirst() where map.values[i] == map.values[i - 1] {
                failures.append("seed \(seed) iteration \(iteration): neighbouring runs \(i - 1), \(i) not merged")
            }
            #expect(map.starts.first == 0)
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// Relabelling merges neighbours that become equal, and scopes widen accordingly.
    @Test func mapValuesMergesAndWidensScope() {
        let map = PrefixMap<UInt8>(base: [Net(address: 0x00, prefixLength: 2, value: 1), Net(address: 0x40, prefixLength: 2, value: 2)],
                                   defaultValue: 0)
        #expect(map.lookup(0x10).scope == 2)
        let merged = map.mapValues { $0 == 0 ? 0 : 5 }   // regions 1 and 2 give the same answer
        #expect(merged.count == 2)
        #expect(merged.lookup(0x10) == (5, 1))
        #expect(merged.lookup(0xC0) == (0, 1))
    }

    /// The aggregator used on database leaves keeps the exact same map, with fewer networks.
    @Test(arguments: [UInt64(11), 12, 13])
    func aggregatorPreservesTheMap(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<500 {
            // A random partition of the space into CIDR leaves, in ascending order (like a tree walk).
            var leaves: [Net] = []
            func split(_ address: UInt8, _ length: Int) {
                if length == 8 || Int.random(in: 0...2, using: &rng) == 0 {
                    if Int.random(in: 0...4, using: &rng) != 0 {
                        leaves.append(Net(address: address, prefixLength: length, value: Int.random(in: 0...2, using: &rng)))
                    }
                    return
                }
                split(address, length + 1)
                split(address | UInt8(0x80 >> length), length + 1)
            }
            split(0, 0)
            var aggregator = NetworkAggregator<UInt8>()
            for l in leaves { aggregator.add(address: l.address, prefixLength: l.prefixLength, value: l.value) }
            let plain = PrefixMap<UInt8>(base: leaves, defaultValue: 9)
            let aggregated = PrefixMap<UInt8>(base: aggregator.networks, defaultValue: 9)
            #expect(aggregator.networks.count <= leaves.count)
            #expect(plain.starts == aggregated.starts && plain.values == aggregated.values)
        }
    }
}
