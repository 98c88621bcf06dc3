/// Writes wire bytes into a fixed-capacity buffer, compressing names (RFC 1035 §4.1.4).
///
/// Every write checks the capacity first; a write that does not fit is skipped and sets `full`
/// (the caller sized the buffer so that this only happens past its size limit, and treats it
/// as overflow). The compression table is a fixed inline array of message offsets where a name
/// suffix was written, so encoding allocates nothing. A suffix is looked up by walking the bytes
/// already written; matching ignores ASCII case, as dnspython and BIND do.
struct WireWriter {
    private let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    private(set) var count = 0
    private(set) var full = false
    private var table = InlineArray<64, UInt16>(repeating: 0)
    private var tableCount = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        // An empty buffer may have a nil base; point at a dummy byte that is never written (capacity 0).
        base = buffer.baseAddress ?? WireWriter.empty
        capacity = buffer.baseAddress == nil ? 0 : buffer.count
    }

    private nonisolated(unsafe) static let empty = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)

    mutating func reset() {
        count = 0
        full = false
        tableCount = 0
    }

    @inline(__always) private mutating func room(_ n: Int) -> Bool {
        if capacity - count >= n { return true }
        full = true
        return false
    }

    @inline(__always) mutating func u8(_ v: UInt8) {
        guard room(1) else { return }
        base[count] = v
        count += 1
    }

    @inline(__always) mutating func u16(_ v: UInt16) {
        guard room(2) else { return }
        base[count] = UInt8(truncatingIfNeeded: v >> 8)
        base[count + 1] = UInt8(truncatingIfNeeded: v)
        count += 2
    }

    @inline(__always) mutating func u32(_ v: UInt32) {
        guard room(4) else { return }
        base[count] = UInt8(truncatingIfNeeded: v >> 24)
        base[count + 1] = UInt8(truncatingIfNeeded: v >> 16)
        base[count + 2] = UInt8(truncatingIfNeeded: v >> 8)
        base[count + 3] = UInt8(truncatingIfNeeded: v)
        count += 4
    }

    @inline(__always) mutating func patch16(at index: Int, _ v: UInt16) {
        guard index >= 0, index + 2 <= count else { return }
        base[index] = UInt8(truncatingIfNeeded: v >> 8)
        base[index + 1] = UInt8(truncatingIfNeeded: v)
    }

    mutating func append(_ data: [UInt8]) {
        data.withUnsafeBufferPointer { append($0) }
    }

    mutating func append(_ data: UnsafeBufferPointer<UInt8>) {
        guard data.count > 0, let src = data.baseAddress else { return }
        guard room(data.count) else { return }
        (base + count).update(from: src, count: data.count)
        count += data.count
    }

    /// One <character-string>; longer input is cut at 255 bytes (callers split TXT first).
    mutating func characterString(_ s: [UInt8]) {
        let n = min(s.count, 255)
        u8(UInt8(n))
        s.withUnsafeBufferPointer { append(UnsafeBufferPointer(rebasing: $0[0..<n])) }
    }

    /// Writes `name`, pointing at an earlier copy of its longest already-written suffix when
    /// `compress` is set; with `compress` its suffixes (below offset 0x4000) become targets,
    /// matching dnspython's renderer.
    mutating func name(_ name: DomainName, compress: Bool) {
        name.storage.withUnsafeBufferPointer { s in
            var i = 0
            while i < s.count {
                if compress {
                    var k = 0
                    while k < tableCount {
                        let p = Int(table[k])
                        if matches(at: p, s, from: i) {
                            u16(0xC000 | UInt16(truncatingIfNeeded: p))
                            return
                        }
                        k += 1
                    }
                    if count <= 0x3FFF && tableCount < 64 {
                        table[tableCount] = UInt16(truncatingIfNeeded: count)
                        tableCount += 1
                    }
                }
                let n = Int(s[i])
                append(UnsafeBufferPointer(rebasing: s[i..<min(i + 1 + n, s.count)]))
                i += 1 + n
            }
            u8(0)
        }
    }

    /// Whether the name written at `start` (following our own backward pointers) equals `s[from...]`.
    private func matches(at start: Int, _ s: UnsafeBufferPointer<UInt8>, from: Int) -> Bool {
        var p = start
        var i = from
        var hops = 0
        while p < count {
            let len = base[p]
            if len & 0xC0 == 0xC0 {
                guard p + 1 < count, hops < 128 else { return false }
                p = Int(len & 0x3F) << 8 | Int(base[p + 1])
                hops += 1
                continue
            }
            if i >= s.count { return len == 0 }
            let n = Int(len)
            guard Int(s[i]) == n, p + 1 + n <= count, i + 1 + n <= s.count else { return false }
            var k = 1
            while k <= n {
                if DomainName.lower(base[p + k]) != DomainName.lower(s[i + k]) { return false }
                k += 1
            }
            p += 1 + n
            i += 1 + n
        }
        return false
    }

    /// TYPE-specific RDATA (RFC 1035 §3.3, RFC 3596, RFC 2782). Names in the RFC 1035 types
    /// are compressed; SRV's target never is (RFC 2782, RFC 3597 §4).
    mutating func rdata(_ rdata: RData) {
        switch rdata {
        case .a(let v4): u32(v4.rawValue)
        case .aaaa(let v6):
            u32(UInt32(truncatingIfNeeded: v6.rawValue >> 96)); u32(UInt32(truncatingIfNeeded: v6.rawValue >> 64))
            u32(UInt32(truncatingIfNeeded: v6.rawValue >> 32)); u32(UInt32(truncatingIfNeeded: v6.rawValue))
        case .cname(let n), .ns(let n), .ptr(let n): name(n, compress: true)
        case .soa(let soa):
            name(soa.mname, compress: true); name(soa.rname, compress: true)
            u32(soa.serial); u32(soa.refresh); u32(soa.retry); u32(soa.expire); u32(soa.minimum)
        case .mx(let pref, let exchange): u16(pref); name(exchange, compress: true)
        case .txt(let strings):
            if strings.isEmpty { u8(0) }
            for s in strings {
                if s.count <= 255 { characterString(s) } else {
                    for chunk in RData.splitCharacterStrings(s) { characterString(chunk) }
                }
            }
        case .srv(let priority, let weight, let port, let target):
            u16(priority); u16(weight); u16(port); name(target, compress: false)
        case .hinfo(let cpu, let os): characterString(cpu); characterString(os)
        case .unknown(_, let data): append(data)
        }
    }

    /// An upper bound on what `rdata` writes (names uncompressed).
    static func rdataBound(_ rdata: RData) -> Int {
        switch rdata {
        case .a: 4
        case .aaaa: 16
        case .cname(let n), .ns(let n), .ptr(let n): n.wireLength
        case .soa(let soa): soa.mname.wireLength + soa.rname.wireLength + 20
        case .mx(_, let n): 2 + n.wireLength
        case .txt(let strings): strings.reduce(1) { $0 + $1.count + $1.count / 255 + 1 }
        case .srv(_, _, _, let n): 6 + n.wireLength
        case .hinfo(let cpu, let os): 2 + cpu.count + os.count
        case .unknown(_, let data): data.count
        }
    }

    mutating func record(_ rr: ResourceRecord) {
        name(rr.name, compress: true)
        u16(rr.type.rawValue)
        u16(rr.rrClass.rawValue)
        u32(rr.ttl)
        let lengthAt = count
        u16(0)
        rdata(rr.rdata)
        patch16(at: lengthAt, UInt16(truncatingIfNeeded: count - lengthAt - 2))
    }

    /// The OPT pseudo-record (RFC 6891 §6.1.2); Client Subnet goes first, then the other options.
    mutating func opt(_ edns: EDNS, extendedRCode: UInt8) {
        u8(0)
        u16(RRType.opt.rawValue)
        u16(edns.udpPayloadSize)
        u8(extendedRCode)
        u8(edns.version)
        u16(edns.dnssecOK ? 0x8000 : 0)
        let lengthAt = count
        u16(0)
        if let cs = edns.clientSubnet {
            u16(ClientSubnet.optionCode)
            u16(UInt16(truncatingIfNeeded: 4 + cs.address.count))
            u16(cs.family); u8(cs.sourcePrefix); u8(cs.scopePrefix)
            append(cs.address)
        }
        for o in edns.options {
            u16(o.code)
            u16(UInt16(truncatingIfNeeded: o.data.count))
            append(o.data)
        }
        patch16(at: lengthAt, UInt16(truncatingIfNeeded: count - lengthAt - 2))
    }
}
