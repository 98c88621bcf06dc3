/// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012): the keyed hash
/// RFC 9018 §4.4 computes DNS server cookies with. A 128-bit key (two little-endian words of
/// its 16 bytes), 64-bit output; 2 compression and 4 finalization rounds.
///
/// Used word by word (`absorb`, then `finish`) so a caller with fixed-shape input builds no
/// buffer; `hash(key:_:)` takes bytes.
public struct SipHash24: Sendable {
    private var v0: UInt64, v1: UInt64, v2: UInt64, v3: UInt64

    /// `k0`, `k1`: the key's bytes 0-7 and 8-15, each read little-endian.
    @inline(__always)
    public init(k0: UInt64, k1: UInt64) {
        v0 = k0 ^ 0x736f_6d65_7073_6575      // "somepseu"
        v1 = k1 ^ 0x646f_7261_6e64_6f6d      // "dorandom"
        v2 = k0 ^ 0x6c79_6765_6e65_7261      // "lygenera"
        v3 = k1 ^ 0x7465_6462_7974_6573      // "tedbytes"
    }

    @inline(__always)
    private mutating func round() {
        v0 &+= v1; v1 = v1.rotl(13); v1 ^= v0; v0 = v0.rotl(32)
        v2 &+= v3; v3 = v3.rotl(16); v3 ^= v2
        v0 &+= v3; v3 = v3.rotl(21); v3 ^= v0
        v2 &+= v1; v1 = v1.rotl(17); v1 ^= v2; v2 = v2.rotl(32)
    }

    /// One 8-byte block of the message (its bytes read little-endian).
    @inline(__always)
    public mutating func absorb(_ m: UInt64) {
        v3 ^= m
        round(); round()
        v0 ^= m
    }

    /// The hash: `tail` holds the last 0...7 message bytes (little-endian, upper bytes zero) and
    /// `length` is the whole message's length in bytes.
    @inline(__always)
    public mutating func finish(tail: UInt64, length: Int) -> UInt64 {
        absorb(tail | UInt64(truncatingIfNeeded: length & 0xff) << 56)
        v2 ^= 0xff
        round(); round(); round(); round()
        return v0 ^ v1 ^ v2 ^ v3
    }

    /// SipHash-2-4 of `bytes` under the 16-byte `key`.
    public static func hash(key: (k0: UInt64, k1: UInt64), _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = SipHash24(k0: key.k0, k1: key.k1)
        let whole = bytes.count & ~7
        var at = 0
        while at < whole {
            h.absorb(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
            at += 8
        }
        var tail: UInt64 = 0
        var k = 0
        while at + k < bytes.count {
            tail |= UInt64(bytes[at + k]) << (8 * UInt64(k))
            k += 1
        }
        return h.finish(tail: tail, length: bytes.count)
    }

    /// SipHash-2-4 of `bytes` under `key` given as its 16 bytes.
    public static func hash(key: [UInt8], _ bytes: [UInt8]) -> UInt64? {
        guard key.count == 16 else { return nil }
        let k = key.withUnsafeBytes { (UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)),
                                       UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))) }
        return bytes.withUnsafeBytes { hash(key: k, $0) }
    }
}

extension UInt64 {
    @inline(__always)
    fileprivate func rotl(_ n: UInt64) -> UInt64 { self << n | self >> (64 - n) }
}
