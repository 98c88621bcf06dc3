/// A compiled geo decision: every address of the IPv4 and IPv6 spaces maps to a small integer
/// (a region id, or an answer index), stored as sorted runs of equal value so that a lookup is
/// one binary search and the ECS scope falls out of the run's bounds.
///
/// Layout per family: `starts[i]` is the first address of run `i`; the run ends where the next
/// one starts (the last runs to the top of the space). `starts[0] == 0` and neighbouring runs
/// always differ in value, so a run is the widest range with its value around any address in it.
public struct DecisionTable: Sendable {
    public private(set) var v4: PrefixMap<UInt32>
    public private(set) var v6: PrefixMap<UInt128>

    public init(v4: PrefixMap<UInt32>, v6: PrefixMap<UInt128>) {
        self.v4 = v4
        self.v6 = v6
    }

    /// The same value for every address: lookups return scope 0.
    public static func constant(_ value: Int) -> DecisionTable {
        DecisionTable(v4: .constant(value), v6: .constant(value))
    }

    /// The value for a client and the ECS scope: the shortest prefix length whose whole block
    /// around the address has that value (RFC 7871 §7.2.1; never wider than correct).
    @inlinable
    public func lookup(_ client: ClientAddress) -> (value: Int, scope: UInt8) {
        switch client {
        case .v4(let a): return v4.lookup(a)
        case .v6(let a): return v6.lookup(a)
        }
    }

    /// Re-labels every run through `transform` (e.g. region id -> answer index) and merges
    /// neighbours that become equal, so scopes widen to what the new labelling allows.
    public func mapValues(_ transform: (Int) -> Int) -> DecisionTable {
        DecisionTable(v4: v4.mapValues(transform), v6: v6.mapValues(transform))
    }
}

/// One address family's runs (see `DecisionTable`).
public struct PrefixMap<Address: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable {
    public private(set) var starts: [Address]
    public private(set) var values: [Int32]

    /// A network: `address` with only its first `prefixLength` bits significant.
    public struct Network: Sendable, Hashable {
        public var address: Address
        public var prefixLength: Int
        public var value: Int
        public init(address: Address, prefixLength: Int, value: Int) {
            self.address = address; self.prefixLength = prefixLength; self.value = value
        }
        var first: Address { address & PrefixMap.mask(prefixLength) }
        var last: Address { address | ~PrefixMap.mask(prefixLength) }
    }

    public static func constant(_ value: Int) -> PrefixMap {
        PrefixMap(starts: [0], values: [Int32(truncatingIfNeeded: value)])
    }

    init(starts: [Address], values: [Int32]) {
        self.starts = starts
        self.values = values
    }

    /// Builds the map from two layers: `base` (non-overlapping networks, e.g. the database's
    /// leaves) and `overrides` (networks that beat `base` wherever they cover it; among nested
    /// overrides the longest prefix wins). Addresses covered by neither get `defaultValue`.
    public init(base: [Network], overrides: [Network] = [], defaultValue: Int) {
        let baseRuns = PrefixMap.flatten(base)
        let overrideRuns = PrefixMap.flatten(overrides)
        var runs = Runs(defaultValue: Int32(truncatingIfNeeded: defaultValue))
        var cursor: Address = 0      // first address not yet emitted
        var covered = false          // the whole space has been emitted
        var bi = 0
        // Emits [cursor, limit] from the base layer (default in its gaps).
        func emitBase(upTo limit: Address) {
            while bi < baseRuns.count, baseRuns[bi].first <= limit {
                let b = baseRuns[bi]
                if b.last < cursor { bi += 1; continue }
                let from = max(b.first, cursor)
                let to = min(b.last, limit)
                runs.fill(from: cursor, upTo: from)
                runs.append(from, to, b.value)
                if to == b.last { bi += 1 }
                if to == Address.max { covered = true; return }
                cursor = to &+ 1
                if to == limit { return }
            }
            runs.append(cursor, limit, runs.defaultValue)
            if limit == Address.max { covered = true } else { cursor = limit &+ 1 }
        }
        for o in overrideRuns {
            if o.first > cursor { emitBase(upTo: o.first &- 1) }
            runs.append(o.first, o.last, o.value)
            if o.last == Address.max { covered = true; break }
            cursor = o.last &+ 1
        }
        if !covered { emitBase(upTo: Address.max) }
        self.init(starts: runs.starts, values: runs.values)
    }

    /// Sorted, non-overlapping runs from possibly nested networks (longest prefix wins).
    static func flatten(_ networks: [Network]) -> [(first: Address, last: Address, value: Int32)] {
        let sorted = networks.sorted { ($0.first, $0.prefixLength) < ($1.first, $1.prefixLength) }
        var out: [(first: Address, last: Address, value: Int32)] = []
        out.reserveCapacity(sorted.count)
        // Stack of enclosing networks; CIDR blocks either nest or are disjoint (laminar).
        var stack: [(first: Address, last: Address, value: Int32, next: Address, exhausted: Bool)] = []
        func emit(_ first: Address, _ last: Address, _ value: Int32) {
            if let tail = out.last, tail.value == value, tail.last &+ 1 == first, tail.last != Address.max {
                out[out.count - 1].last = last
            } else {
                out.append((first, last, value))
            }
        }
        func popUntil(contains address: Address?) {
            while let top = stack.last {
                if let a = address, top.first <= a, a <= top.last { return }
                if !top.exhausted, top.next <= top.last { emit(top.next, top.last, top.value) }
                stack.removeLast()
                // The parent resumes after the child we just closed.
                if !stack.isEmpty {
                    if top.last == Address.max { stack[stack.count - 1].exhausted = true }
                    else { stack[stack.count - 1].next = top.last &+ 1 }
                }
            }
        }
        for n in sorted {
            let first = n.first, last = n.last, value = Int32(truncatingIfNeeded: n.value)
            popUntil(contains: first)
            if let top = stack.last {
                if top.first == first && top.last == last { continue }  // duplicate: first wins
                if !top.exhausted, top.next < first { emit(top.next, first &- 1, top.value) }
            }
            stack.append((first, last, value, first, false))
        }
        popUntil(contains: nil)
        return out
    }

    /// Collects runs, merging equal neighbours and filling gaps with the default value.
    struct Runs {
        var starts: [Address] = []
        var values: [Int32] = []
        let defaultValue: Int32
        init(defaultValue: Int32) { self.defaultValue = defaultValue }
        mutating func append(_ first: Address, _ last: Address, _ value: Int32) {
            if let v = values.last, v == value { return }
            starts.append(first)
            values.append(value)
        }
        mutating func fill(from: Address, upTo next: Address) {
            if next > from { append(from, next &- 1, defaultValue) }
        }
        mutating func fillToEnd(from: Address) {
            append(from, Address.max, defaultValue)
        }
    }

    /// Re-labels every run through `transform` and merges neighbours that become equal. The
    /// runs are counted first so the arrays are allocated at their exact size: the tables live
    /// as long as the catalog, and a 300k-run IPv6 table over-reserved is megabytes.
    public func mapValues(_ transform: (Int) -> Int) -> PrefixMap {
        var count = 0
        var previous: Int32? = nil
        for value in values {
            let nv = Int32(truncatingIfNeeded: transform(Int(value)))
            if nv != previous { count += 1; previous = nv }
        }
        var s: [Address] = []
        var v: [Int32] = []
        s.reserveCapacity(count)
        v.reserveCapacity(count)
        for i in starts.indices {
            let nv = Int32(truncatingIfNeeded: transform(Int(values[i])))
            if let last = v.last, last == nv { continue }
            s.append(starts[i])
            v.append(nv)
        }
        return PrefixMap(starts: s, values: v)
    }

    /// Number of runs (for reports).
    public var count: Int { starts.count }

    @inlinable
    static func mask(_ prefixLength: Int) -> Address {
        let width = Address.bitWidth
        if prefixLength <= 0 { return 0 }
        if prefixLength >= width { return Address.max }
        return ~(Address.max >> prefixLength)
    }

    /// Value at `address` and the shortest prefix length whose block around it lies inside the
    /// address's run. The block at length p leaves the run below iff it contains `first - 1`,
    /// i.e. iff `address` and `first - 1` agree on their first p bits; likewise above with
    /// `last + 1`. So the scope is one more than the longest such common prefix.
    @inlinable
    public func lookup(_ address: Address) -> (value: Int, scope: UInt8) {
        // Last run whose start <= address (starts[0] == 0, so one always exists).
        var lo = 0
        var hi = starts.count
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if starts[mid] <= address { lo = mid } else { hi = mid }
        }
        var scope = 0
        let first = starts[lo]
        if first > 0 {
            scope = max(scope, (address ^ (first &- 1)).leadingZeroBitCount + 1)
        }
        if lo + 1 < starts.count {
            let next = starts[lo + 1]    // == last + 1
            scope = max(scope, (address ^ next).leadingZeroBitCount + 1)
        }
        return (Int(values[lo]), UInt8(truncatingIfNeeded: min(scope, Address.bitWidth)))
    }
}
