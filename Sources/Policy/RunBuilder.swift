/// Collects one family's runs (see `DecisionTable`) from ranges given in ascending address
/// order: gaps get the default value and equal neighbours merge as they arrive, so the result
/// is the table itself — no intermediate network list, no sort. Used to stream the database
/// walk straight into runs (bench/RESULTS.md, Memory).
struct RunBuilder<Address: FixedWidthInteger & UnsignedInteger & Sendable> {
    private(set) var starts: [Address] = []
    private(set) var values: [Int32] = []
    let defaultValue: Int32
    /// First address not yet covered; nil once the top of the space is.
    private(set) var next: Address? = 0

    init(defaultValue: Int32, capacity: Int = 0) {
        self.defaultValue = defaultValue
        starts.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    /// Adds the range `first...last` with `value`, filling the gap before it with the default.
    /// Returns false (and adds nothing) when the range starts below what is already covered:
    /// the input was not ascending and disjoint, which the caller must handle another way.
    mutating func add(_ first: Address, _ last: Address, _ value: Int32) -> Bool {
        guard let n = next, first >= n, last >= first else { return false }
        if first > n { extend(from: n, value: defaultValue) }
        extend(from: first, value: value)
        next = last == Address.max ? nil : last &+ 1
        return true
    }

    /// Continues the table with `value` from `start`, where the previous run ends at
    /// `start - 1` (callers that emit contiguous ranges themselves, e.g. `PrefixMap.emit`).
    mutating func extend(from start: Address, value: Int32) {
        if let v = values.last, v == value { return }
        starts.append(start)
        values.append(value)
    }

    /// The finished table; the space above the last range gets the default. The builder gives
    /// its arrays away (empty afterwards), so the table is not copied and not kept twice.
    mutating func finish() -> PrefixMap<Address> {
        if let n = next { extend(from: n, value: defaultValue) }
        return finishCovered()
    }

    /// The finished table, for callers that covered the whole space with `extend` themselves.
    mutating func finishCovered() -> PrefixMap<Address> {
        let map = PrefixMap(starts: starts, values: values)
        starts = []
        values = []
        next = nil
        return map
    }
}

extension PrefixMap {
    /// The run holding `address` (starts[0] == 0, so there always is one).
    func runIndex(_ address: Address) -> Int {
        var lo = 0
        var hi = starts.count
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if starts[mid] <= address { lo = mid } else { hi = mid }
        }
        return lo
    }

    /// Appends this map's runs over `lo...hi` to `out`, whose table so far ends at `lo - 1`.
    func emit(from lo: Address, through hi: Address, into out: inout RunBuilder<Address>) {
        var i = runIndex(lo)
        out.extend(from: lo, value: values[i])
        i += 1
        while i < starts.count, starts[i] <= hi {
            out.extend(from: starts[i], value: values[i])
            i += 1
        }
    }
}

extension PrefixMap where Address == UInt32 {
    /// Appends this IPv4 map's runs, as placed in the IPv6 alias block `alias` (the 32 bits
    /// after its prefix are the IPv4 address; see `Compiler.ipv4AliasPrefixes`), over `lo...hi`
    /// (inside the block) to `out`, whose table so far ends at `lo - 1`. Nothing is copied: an
    /// IPv4 run starting at x starts at `alias | x << (96 - length)` in IPv6.
    func emit(aliasedAt alias: (address: UInt128, length: Int), from lo: UInt128, through hi: UInt128,
              into out: inout RunBuilder<UInt128>) {
        let shift = UInt128(96 - alias.length)
        let first = UInt32(truncatingIfNeeded: (lo &- alias.address) >> shift)
        let last = UInt32(truncatingIfNeeded: (hi &- alias.address) >> shift)
        var i = runIndex(first)
        out.extend(from: lo, value: values[i])
        i += 1
        while i < starts.count, starts[i] <= last {
            out.extend(from: alias.address | UInt128(starts[i]) << shift, value: values[i])
            i += 1
        }
    }
}
