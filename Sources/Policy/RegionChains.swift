/// The regions that contain a client, most specific first: its explicit networks (longest
/// prefix first), then the database record's ASN, subdivisions (smallest first), country and
/// continent regions. The region table labels every address with the id of its chain, and each
/// steered name answers from the first region of the chain it lists (its default when it lists
/// none), so a region one name does not list never shadows one it does (README "Regions").
///
/// Ids `0..<regionCount` are the one-region chains `[id]` and `regionCount` the empty chain (no
/// region), so a policy whose regions never overlap gets the same table as a region-id table.
public struct RegionChains: Sendable {
    public private(set) var chains: [[RegionID]]
    private var index: [[RegionID]: Int32] = [:]
    /// (head chain id, base chain id) -> chain id, for the override layer.
    private var prepended: [Int64: Int32] = [:]
    public let regionCount: Int

    public init(regionCount: Int) {
        self.regionCount = regionCount
        chains = (0..<regionCount).map { [$0] } + [[]]
        for (i, c) in chains.enumerated() { index[c] = Int32(truncatingIfNeeded: i) }
    }

    /// The id of `chain` (duplicates must already be removed), interned on first sight.
    public mutating func id(_ chain: [RegionID]) -> Int32 {
        if let i = index[chain] { return i }
        let i = Int32(truncatingIfNeeded: chains.count)
        index[chain] = i
        chains.append(chain)
        return i
    }

    /// The chain `head` followed by the regions of `base` not already in it.
    public mutating func prepending(_ head: Int32, to base: Int32) -> Int32 {
        let key = Int64(head) << 32 | Int64(UInt32(bitPattern: base))
        if let i = prepended[key] { return i }
        let h = self[head]
        let i = id(h + self[base].filter { !h.contains($0) })
        prepended[key] = i
        return i
    }

    public var count: Int { chains.count }

    /// The chain of an id; the empty chain for an id out of range.
    public subscript(id: Int32) -> [RegionID] {
        id >= 0 && Int(id) < chains.count ? chains[Int(id)] : []
    }

    /// The chains of override networks, as chain ids: each network's value (a region id) becomes
    /// the chain of that network and every listed network around it, longest prefix first
    /// (identical networks, e.g. an IPv4 override's alias and an IPv6 one, in listed order).
    /// CIDR blocks nest or are disjoint, so one sorted pass with a stack finds the enclosing ones.
    mutating func overrideHeads<Address>(_ networks: [PrefixMap<Address>.Network]) -> [PrefixMap<Address>.Network] {
        let order = networks.indices.sorted {
            let a = networks[$0], b = networks[$1]
            return (a.first, a.prefixLength, $0) < (b.first, b.prefixLength, $1)
        }
        var out = networks
        // Enclosing blocks; `group`: the regions listing exactly that block, `chain`: its chain.
        var stack: [(first: Address, last: Address, length: Int, group: [RegionID], chain: [RegionID], members: [Int])] = []
        for i in order {
            let n = networks[i]
            while let top = stack.last, top.last < n.first { stack.removeLast() }
            if let top = stack.last, top.first == n.first, top.length == n.prefixLength {
                // The same block listed again: one group, earlier listing first.
                var top = stack.removeLast()
                if !top.group.contains(n.value) { top.group.append(n.value) }
                let outer = stack.last?.chain ?? []
                top.chain = top.group + outer.filter { !top.group.contains($0) }
                top.members.append(i)
                let label = Int(id(top.chain))
                for m in top.members { out[m].value = label }
                stack.append(top)
                continue
            }
            let outer = stack.last?.chain ?? []
            let chain = [n.value] + outer.filter { $0 != n.value }
            stack.append((n.first, n.last, n.prefixLength, [n.value], chain, [i]))
            out[i].value = Int(id(chain))
        }
        return out
    }
}
