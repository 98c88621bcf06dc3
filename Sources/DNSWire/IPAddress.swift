/// An IPv4 address; `rawValue` is the numeric value (192.0.2.1 == 0xC0000201).
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Dotted quad, four decimal parts 0...255, no leading zeros ("01" is refused).
    public init?(_ text: String) {
        var value: UInt32 = 0
        var parts = 0
        var part: UInt32 = 0
        var digits = 0
        var leadingZero = false
        for c in text.utf8 {
            if c == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | part
                parts += 1; part = 0; digits = 0; leadingZero = false
            } else if c >= 0x30 && c <= 0x39 {
                if leadingZero { return nil }
                if digits == 0 && c == 0x30 { leadingZero = true }
                part = part * 10 + UInt32(c - 0x30)
                digits += 1
                guard part <= 255, digits <= 3 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, parts == 3 else { return nil }
        rawValue = value << 8 | part
    }

    public init(bytes a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    public var bytes: [UInt8] {
        [UInt8(truncatingIfNeeded: rawValue >> 24), UInt8(truncatingIfNeeded: rawValue >> 16),
         UInt8(truncatingIfNeeded: rawValue >> 8), UInt8(truncatingIfNeeded: rawValue)]
    }

    public var description: String {
        "\(rawValue >> 24).\((rawValue >> 16) & 0xFF).\((rawValue >> 8) & 0xFF).\(rawValue & 0xFF)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An IPv6 address; `rawValue` reads the 16 bytes big-endian.
public struct IPv6Address: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var rawValue: UInt128
    public init(rawValue: UInt128) { self.rawValue = rawValue }

    /// Any RFC 4291 §2.2 text form: full, `::`-compressed, with an embedded dotted quad at the end.
    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty, utf8.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        var i = 0
        // A leading "::" or a single leading ':' (invalid).
        if utf8.count >= 2 && utf8[0] == UInt8(ascii: ":") && utf8[1] == UInt8(ascii: ":") {
            sawGap = true
            i = 2
        } else if utf8[0] == UInt8(ascii: ":") {
            return nil
        }
        while i < utf8.count {
            // one group: hex digits, or a dotted quad if a '.' appears before the next ':'
            var j = i
            var hasDot = false
            while j < utf8.count && utf8[j] != UInt8(ascii: ":") {
                if utf8[j] == UInt8(ascii: ".") { hasDot = true }
                j += 1
            }
            if hasDot {
                guard j == utf8.count,
                      let v4 = IPv4Address(String(decoding: utf8[i..<j], as: UTF8.self)) else { return nil }
                let hi = UInt16(truncatingIfNeeded: v4.rawValue >> 16), lo = UInt16(truncatingIfNeeded: v4.rawValue)
                if sawGap { tail += [hi, lo] } else { head += [hi, lo] }
                i = j
                break
            }
            guard j > i, j - i <= 4 else { return nil }
            var v: UInt16 = 0
            for k in i..<j {
                let c = utf8[k]
                let d: UInt16
                switch c {
                case 0x30...0x39: d = UInt16(c - 0x30)
                case 0x61...0x66: d = UInt16(c - 0x61 + 10)
                case 0x41...0x46: d = UInt16(c - 0x41 + 10)
                default: return nil
                }
                v = v << 4 | d
            }
            if sawGap { tail.append(v) } else { head.append(v) }
            i = j
            if i == utf8.count { break }
            // at ':'
            if i + 1 < utf8.count && utf8[i + 1] == UInt8(ascii: ":") {
                guard !sawGap else { return nil }
                sawGap = true
                i += 2
            } else {
                i += 1
                guard i < utf8.count else { return nil }   // trailing single ':'
            }
        }
        let groups = head.count + tail.count
        if sawGap { guard groups <= 7 else { return nil } } else { guard groups == 8 else { return nil } }
        let all = head + Array(repeating: 0, count: 8 - groups) + tail
        var value: UInt128 = 0
        for g in all { value = value << 16 | UInt128(g) }
        rawValue = value
    }

    /// From 16 bytes in network order; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        var v: UInt128 = 0
        for b in bytes { v = v << 8 | UInt128(b) }
        rawValue = v
    }

    public var bytes: [UInt8] {
        (0..<16).map { UInt8(truncatingIfNeeded: rawValue >> (120 - 8 * UInt128($0))) }
    }

    /// RFC 5952 §4: lowercase, no leading zeros, the longest run (>= 2) of zero groups as "::"
    /// (the first on a tie); IPv4-mapped addresses end in a dotted quad (§5).
    public var description: String {
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: rawValue >> (112 - 16 * UInt128($0))) }
        if rawValue >> 32 == 0xFFFF {
            let v4 = IPv4Address(rawValue: UInt32(truncatingIfNeeded: rawValue))
            return "::ffff:\(v4)"
        }
        var bestStart = -1, bestLen = 0, runStart = -1
        for k in 0...8 {
            if k < 8 && groups[k] == 0 {
                if runStart < 0 { runStart = k }
            } else if runStart >= 0 {
                if k - runStart > bestLen { bestStart = runStart; bestLen = k - runStart }
                runStart = -1
            }
        }
        if bestLen < 2 { bestStart = -1 }
        var out = ""
        var k = 0
        while k < 8 {
            if k == bestStart {
                out += "::"
                k += bestLen
                continue
            }
            if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
            out += String(groups[k], radix: 16)
            k += 1
        }
        return out
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool { lhs.rawValue < rhs.rawValue }
}
