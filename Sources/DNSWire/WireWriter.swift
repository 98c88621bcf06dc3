/// Appends wire bytes to a buffer, compressing names (RFC 1035 §4.1.4).
///
/// The compression table is a fixed inline array of message offsets where a name suffix was
/// written, so encoding allocates nothing beyond the output buffer's growth. A suffix is
/// looked up by walking the bytes already written; matching ignores ASCII case, as dnspython
/// and BIND do.
struct WireWriter {
    var bytes: [UInt8]
    private var table = InlineArray<64, UInt16>(repeating: 0)
    private var tableCount = 0

    init(bytes: [UInt8] = []) { self.bytes = bytes }

    /// Drops everything written at or after `mark`, forgetting the compression targets there.
    mutating func rollBack(to mark: Int) {
        bytes.removeSubrange(mark...)
        while tableCount > 0 && Int(table[tableCount - 1]) >= mark { tableCount -= 1 }
    }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        tableCount = 0
    }

    @inline(__always) mutating func u8(_ v: UInt8) { bytes.append(v) }

    @inline(__always) mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always) mutating func u32(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 24))
        bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always) mutating func patch16(at index: Int, _ v: UInt16) {
        bytes[index] = UInt8(truncatingIfNeeded: v >> 8)
        bytes[index + 1] = UInt8(truncatingIfNeeded: v)
    }

    mutating func append(_ data: [UInt8]) { bytes.append(contentsOf: data) }

    /// One <character-string>; longer input is cut at 255 bytes (callers split TXT first).
    mutating func characterString(_ s: [UInt8]) {
        let n = min(s.count, 255)
        bytes.append(UInt8(n))
        bytes.append(contentsOf: s[0..<n])
    }

    /// Writes `name`, pointing at an earlier copy of its longest already-written suffix when
    /// `compress` is set. Suffixes written here become targets (when below offset 0x4000) either way
    /// only if `compress` is set, matching dnspython's renderer.
    mutating func name(_ name: DomainName, compress: Bool) {
        let s = name.storage
        var i = 0
        while i < s.count {
            if compress {
                var k = 0
                while k < tableCount {
                    let p = Int(table[k])
                    if matches(at: p, s, from: i) {
                        u16(0xC000 | UInt16(p))
                        return
                    }
                    k += 1
                }
                let here = bytes.count
                if here <= 0x3FFF && tableCount < 64 {
                    table[tableCount] = UInt16(here)
                    tableCount += 1
                }
            }
            let n = Int(s[i])
            bytes.append(contentsOf: s[i..<(i + 1 + n)])
            i += 1 + n
        }
        bytes.append(0)
    }

    /// Whether the name written at `p` (following our own backward pointers) equals `s[from...]`.
    private func matches(at start: Int, _ s: [UInt8], from: Int) -> Bool {
        var p = start
        var i = from
        var hops = 0
        while p < bytes.count {
            let len = bytes[p]
            if len & 0xC0 == 0xC0 {
                guard p + 1 < bytes.count, hops < 128 else { return false }
                p = Int(len & 0x3F) << 8 | Int(bytes[p + 1])
                hops += 1
                continue
            }
            if i >= s.count { return len == 0 }
            let n = Int(len)
            guard Int(s[i]) == n, p + 1 + n <= bytes.count else { return false }
            var k = 1
            while k <= n {
                if DomainName.lower(bytes[p + k]) != DomainName.lower(s[i + k]) { return false }
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

    mutating func record(_ rr: ResourceRecord) {
        name(rr.name, compress: true)
        u16(rr.type.rawValue)
        u16(rr.rrClass.rawValue)
        u32(rr.ttl)
        let lengthAt = bytes.count
        u16(0)
        rdata(rr.rdata)
        patch16(at: lengthAt, UInt16(truncatingIfNeeded: bytes.count - lengthAt - 2))
    }

    /// The OPT pseudo-record (RFC 6891 §6.1.2); Client Subnet goes first, then the other options.
    mutating func opt(_ edns: EDNS, extendedRCode: UInt8) {
        u8(0)
        u16(RRType.opt.rawValue)
        u16(edns.udpPayloadSize)
        u8(extendedRCode)
        u8(edns.version)
        u16(edns.dnssecOK ? 0x8000 : 0)
        let lengthAt = bytes.count
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
        patch16(at: lengthAt, UInt16(truncatingIfNeeded: bytes.count - lengthAt - 2))
    }
}
