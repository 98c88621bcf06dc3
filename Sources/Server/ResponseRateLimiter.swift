import Atomics
import Policy

#if canImport(Glibc)
import Glibc
#endif

/// Response rate limiting over UDP (NSD/Knot/BIND "RRL"): a fixed-size table of per-second
/// counters keyed on (client prefix, response class, name). A spoofed flood that would make us
/// reflect the same answers at a victim is cut to `rate` replies a second per key; of the replies
/// over the limit, every `slip`-th goes out as an empty TC=1 reply (a real resolver behind that
/// prefix retries over TCP, which cannot be spoofed) and the others are dropped.
///
/// The table never grows: `capacity` buckets of one 64-bit word each, updated by compare-and-swap
/// so every UDP worker thread shares it without a lock. Two keys that land in the same bucket
/// with different tags replace each other (the newer wins), so an attacker cycling through many
/// keys only makes the table forget — it never allocates. Word layout:
/// ```
/// 63        40 39      24 23      8 7       0
/// +-----------+----------+---------+---------+
/// | tag (24)  | second   | count   | limited |
/// |           | (16)     | (16)    | (8)     |
/// +-----------+----------+---------+---------+
/// ```
/// `second` is the clock's second modulo 65536, `count` the replies keyed there in that second
/// (saturating), `limited` how many were over the limit (wrapping; decides the slip).
public final class ResponseRateLimiter: @unchecked Sendable {
    /// What happens to one reply.
    public enum Verdict: Sendable, Equatable {
        case send        // under the limit (or dry run)
        case slip        // over the limit: send an empty TC=1 reply instead
        case drop        // over the limit: send nothing
    }

    /// The response classes of NSD's RRL (each its own bucket: a flood of one kind does not
    /// starve the others for the same client).
    public enum ResponseClass: UInt8, Sendable {
        case answer = 1, nxdomain, nodata, referral, error
    }

    public let capacity: Int
    private let words: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>
    private let mask: Int

    /// `capacity` is rounded up to a power of two (at least 1024).
    public init(capacity: Int) {
        var size = 1024
        while size < capacity, size < 1 << 26 { size <<= 1 }
        self.capacity = size
        self.mask = size - 1
        words = .allocate(capacity: size)
        words.initialize(repeating: UnsafeAtomic<UInt64>.Storage(0), count: size)
    }

    deinit {
        words.deinitialize(count: capacity)
        words.deallocate()
    }

    /// Counts one reply under `key` at second `now` and says what to do with it.
    /// - Parameters:
    ///   - rate: replies allowed per second per key (0: no limit).
    ///   - slip: every `slip`-th limited reply slips (0: none, 1: all).
    public func decide(key: UInt64, now: UInt32, rate: Int, slip: Int) -> Verdict {
        guard rate > 0 else { return .send }
        let index = Int(truncatingIfNeeded: key) & mask
        let atomic = UnsafeAtomic<UInt64>(at: words + index)
        let tag = key >> 40
        let second = UInt64(now & 0xffff)
        var old = atomic.load(ordering: .relaxed)
        // Bounded: under heavy contention on one bucket, give up and send (fail open, counted).
        for _ in 0..<8 {
            var count: UInt64 = 0
            var limited: UInt64 = 0
            if old >> 40 == tag, (old >> 24) & 0xffff == second {
                count = (old >> 8) & 0xffff
                limited = old & 0xff
            }
            count = min(count + 1, 0xffff)
            let over = count > UInt64(rate)
            if over { limited = (limited + 1) & 0xff }
            let new = tag << 40 | second << 24 | count << 8 | limited
            let (exchanged, current) = atomic.weakCompareExchange(expected: old, desired: new, ordering: .relaxed)
            if exchanged {
                guard over else { return .send }
                if slip > 0, limited % UInt64(min(slip, 255)) == 0 { return .slip }
                return .drop
            }
            old = current
        }
        return .send
    }

    /// The current second of the monotonic clock (coarse: one vDSO read, no syscall).
    public static func now() -> UInt32 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
        return UInt32(truncatingIfNeeded: ts.tv_sec)
    }
}

// MARK: keys

extension ResponseRateLimiter {
    /// The client's network: its address cut to `v4` / `v6` bits, with the family mixed in.
    public static func prefixKey(_ client: ClientAddress, v4: Int, v6: Int) -> UInt64 {
        switch client {
        case .v4(let a):
            let bits = max(0, min(32, v4))
            let masked = bits == 0 ? 0 : a & ~(UInt32.max >> UInt32(bits))
            return mix(UInt64(masked) | 4 << 56)
        case .v6(let a):
            let bits = max(0, min(128, v6))
            let masked = bits == 0 ? 0 : a & ~(UInt128.max >> UInt128(bits))
            return mix(UInt64(truncatingIfNeeded: masked >> 64) ^ mix(UInt64(truncatingIfNeeded: masked) ^ 6 << 56))
        }
    }

    /// One bucket key from the prefix key, the response class and a name hash.
    public static func key(prefix: UInt64, responseClass: ResponseClass, name: UInt64) -> UInt64 {
        mix(prefix ^ mix(name ^ UInt64(responseClass.rawValue) << 59))
    }

    /// A 64-bit finaliser (splitmix64): spreads keys over the table and the tag.
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

// MARK: reading our own replies

/// What the limiter needs to know of a reply we built: its class and the name it is about.
/// Reads only our own encoder's output, still with bounds checks on every byte.
public struct ReplySummary: Sendable, Equatable {
    public var responseClass: ResponseRateLimiter.ResponseClass
    /// For answers: the query name. For NXDOMAIN, NODATA and referrals: the owner of the first
    /// authority record (the zone apex or the delegation), so a random-subdomain flood shares one
    /// bucket (as NSD and Knot do). For errors: 0 (the client prefix alone).
    public var nameHash: UInt64
    /// End of the question section (header + question): what a slipped reply keeps.
    public var questionEnd: Int

    /// Nil when the bytes are not a reply with one question.
    public init?(_ reply: UnsafeRawBufferPointer) {
        guard reply.count >= 12 else { return nil }
        let rcode = reply[3] & 0x0f
        let qd = Int(reply[4]) << 8 | Int(reply[5])
        let an = Int(reply[6]) << 8 | Int(reply[7])
        let ns = Int(reply[8]) << 8 | Int(reply[9])
        let aa = reply[2] & 0x04 != 0
        var end = 12
        var qnameHash: UInt64 = 0
        if qd == 1 {
            guard let (hash, after) = ReplySummary.hashName(reply, at: 12), after + 4 <= reply.count else { return nil }
            qnameHash = hash
            end = after + 4
        }
        questionEnd = end
        switch rcode {
        case 0 where an == 0 && ns == 0:
            responseClass = .error      // BADVERS (extended RCODE in the OPT record)
            nameHash = 0
        case 0 where an > 0:
            responseClass = .answer
            nameHash = qnameHash
        case 0, 3:
            responseClass = rcode == 3 ? .nxdomain : (!aa && ns > 0 ? .referral : .nodata)
            nameHash = ns > 0 ? (ReplySummary.hashName(reply, at: end)?.hash ?? qnameHash) : qnameHash
        default:
            responseClass = .error
            nameHash = 0
        }
    }

    /// FNV-1a of the lowercased name at `offset` (compression pointers followed backwards only and
    /// never into the 12-byte header, at most 128 labels) and the offset after the name where it starts.
    static func hashName(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> (hash: UInt64, end: Int)? {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var position = offset
        var end: Int? = nil
        var limit = position
        for _ in 0..<128 {
            guard position < bytes.count else { return nil }
            let length = Int(bytes[position])
            if length == 0 {
                return (hash, end ?? position + 1)
            }
            if length & 0xc0 == 0xc0 {
                guard position + 1 < bytes.count else { return nil }
                let target = (length & 0x3f) << 8 | Int(bytes[position + 1])
                if end == nil { end = position + 2 }
                guard target < limit else { return nil }   // strictly backwards: no loops
                guard target >= 12 else { return nil }     // never into the header (RFC 1035 §4.1.4)
                limit = target
                position = target
                continue
            }
            guard length <= 63, position + 1 + length <= bytes.count else { return nil }
            hash = (hash ^ UInt64(length)) &* 0x0000_0100_0000_01b3
            for i in (position + 1)..<(position + 1 + length) {
                var c = bytes[i]
                if c >= 0x41, c <= 0x5a { c |= 0x20 }
                hash = (hash ^ UInt64(c)) &* 0x0000_0100_0000_01b3
            }
            position += 1 + length
        }
        return nil
    }
}
