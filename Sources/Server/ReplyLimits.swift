import Atomics
import Policy

/// The UDP reply limits, applied to each reply after it is built and before it is sent:
/// 1. **error replies** (FORMERR, NOTIMP, REFUSED, SERVFAIL, BADVERS...) at most
///    `server.error_replies_per_second` a second per client prefix, the rest dropped — spoofed
///    garbage must not turn us into a reflector of error replies (on by default: 100/s);
/// 2. **RRL** (`server.rrl`, off by default): see `ResponseRateLimiter`.
/// TCP is never limited here: a TCP client has completed a handshake, so its address is real.
/// Nor is a UDP client that presented a valid server cookie (RFC 7873 §5.2.5): it has shown it
/// receives our replies at its address, so it is not a spoofed victim (BIND and gdnsd do the same).
///
/// Settings come from the policy and change on reload (`configure`); the tables keep their
/// size and contents across reloads.
public final class ReplyLimits: Sendable {
    final class Config: AtomicReference, Sendable {
        let errorsPerSecond: Int
        let rrl: ServerSettings.RRL
        init(_ settings: ServerSettings) {
            errorsPerSecond = settings.errorRepliesPerSecond
            rrl = settings.rrl
        }
    }

    /// Table sizes (buckets of 8 bytes: 2 MiB for RRL, 512 KiB for errors, allocated once).
    public static let rrlBuckets = 1 << 18
    public static let errorBuckets = 1 << 16

    let rrl = ResponseRateLimiter(capacity: ReplyLimits.rrlBuckets)
    let errors = ResponseRateLimiter(capacity: ReplyLimits.errorBuckets)
    private let config: ManagedAtomic<Config>
    private let metrics: ServerMetrics

    public init(settings: ServerSettings, metrics: ServerMetrics) {
        config = ManagedAtomic(Config(settings))
        self.metrics = metrics
    }

    /// Installs the settings of a reloaded policy.
    public func configure(_ settings: ServerSettings) {
        config.store(Config(settings), ordering: .releasing)
    }

    /// Applies the limits to the reply of `size` bytes in `reply` for `client` (the packet's
    /// source, never the ECS address: the victim of a reflection is the source). Returns the size
    /// to send: `size`, a smaller size for a slipped (TC=1, question only) reply, or 0 to drop.
    public func apply(reply: UnsafeMutableRawBufferPointer, size: Int, client: ClientAddress, now: UInt32) -> Int {
        guard size >= 12, size <= reply.count else { return size }
        let c = config.load(ordering: .acquiring)
        // The common case costs three byte reads: an answer (or NXDOMAIN) with RRL off.
        if c.errorsPerSecond > 0, ReplyLimits.isError(reply) {
            let prefix = ResponseRateLimiter.prefixKey(client, v4: c.rrl.ipv4Prefix, v6: c.rrl.ipv6Prefix)
            let key = ResponseRateLimiter.key(prefix: prefix, responseClass: .error, name: 0)
            if errors.decide(key: key, now: now, rate: c.errorsPerSecond, slip: 0) != .send {
                metrics.errorRepliesLimited.wrappingIncrement(ordering: .relaxed)
                return 0
            }
        }
        guard c.rrl.enabled, let summary = ReplySummary(UnsafeRawBufferPointer(rebasing: reply[0..<size])) else { return size }
        let prefix = ResponseRateLimiter.prefixKey(client, v4: c.rrl.ipv4Prefix, v6: c.rrl.ipv6Prefix)
        let key = ResponseRateLimiter.key(prefix: prefix, responseClass: summary.responseClass, name: summary.nameHash)
        let verdict = rrl.decide(key: key, now: now, rate: c.rrl.responsesPerSecond, slip: c.rrl.slip)
        if verdict == .send { return size }
        if c.rrl.dryRun {
            metrics.rrlDryRun.wrappingIncrement(ordering: .relaxed)
            return size
        }
        if verdict == .drop {
            metrics.rrlDropped.wrappingIncrement(ordering: .relaxed)
            return 0
        }
        // Slip: the header (TC=1, no records) and the question, so the client retries over TCP.
        metrics.rrlSlipped.wrappingIncrement(ordering: .relaxed)
        reply[2] |= 0x02
        for i in 6..<12 { reply[i] = 0 }
        return summary.questionEnd
    }

    /// One UDP datagram, the same on both engines: `answer` (DNSServer's answerer: the fast path
    /// into `out`, no allocation) builds the reply, `geodns_truncated_total` counts it when it did
    /// not fit (TC=1), then the limits above apply unless the query carried a valid server cookie.
    /// `now`: the monotonic second (limits); `unixTime`: for cookies. Returns the size to send from
    /// `out`, 0 to drop.
    @inline(__always)
    func respond(to query: UnsafeRawBufferPointer, client: ClientAddress, into out: UnsafeMutableRawBufferPointer,
                 now: UInt32, unixTime: UInt32, answer: UDPWorker.Answerer) -> Int {
        let (size, validCookie) = answer(query, client, unixTime, out)
        guard size > 0 else { return 0 }
        if size > 2, out[2] & 0x02 != 0 { metrics.truncated.wrappingIncrement(ordering: .relaxed) }
        if validCookie { return size }
        return apply(reply: out, size: size, client: client, now: now)
    }

    /// An error reply: an RCODE other than NOERROR and NXDOMAIN, or NOERROR with no answer and no
    /// authority records — which we only send as BADVERS (its upper RCODE bits live in the OPT
    /// record; NODATA always carries the SOA).
    static func isError(_ reply: UnsafeMutableRawBufferPointer) -> Bool {
        let rcode = reply[3] & 0x0f
        if rcode == 3 { return false }
        if rcode != 0 { return true }
        return reply[6] | reply[7] | reply[8] | reply[9] == 0
    }
}
