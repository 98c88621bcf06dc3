/// Merges sibling networks with equal values as they arrive in ascending order (the way a
/// database enumerates its tree), so the base layer stays small: GeoLite2's ~3 M leaves
/// collapse to what the region labelling can tell apart. Used by the reference build
/// (`Compiler.referenceRegionTable`); the compile itself streams runs (`RegionTableBuilder`).
struct NetworkAggregator<Address: FixedWidthInteger & UnsignedInteger & Sendable> {
    var networks: [PrefixMap<Address>.Network] = []

    mutating func add(address: Address, prefixLength: Int, value: Int) {
        var n = PrefixMap<Address>.Network(address: address & Self.mask(prefixLength), prefixLength: prefixLength, value: value)
        while let top = networks.last, top.value == n.value, top.prefixLength == n.prefixLength, n.prefixLength > 0 {
            let parentMask = Self.mask(n.prefixLength - 1)
            guard top.address & parentMask == n.address & parentMask, top.address != n.address else { break }
            networks.removeLast()
            n = PrefixMap<Address>.Network(address: top.address & parentMask, prefixLength: n.prefixLength - 1, value: n.value)
        }
        networks.append(n)
    }

    static func mask(_ p: Int) -> Address {
        if p <= 0 { return 0 }
        if p >= Address.bitWidth { return Address.max }
        return ~(Address.max >> p)
    }
}
