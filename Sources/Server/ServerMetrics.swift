import Atomics

/// Counters the server keeps (named as the exported metrics will be: `geodns_*`, Prometheus
/// conventions, no client address or qname labels). Relaxed atomics: they are statistics.
public final class ServerMetrics: Sendable {
    public let udpQueries = ManagedAtomic<Int>(0)
    public let tcpQueries = ManagedAtomic<Int>(0)
    public let responses = ManagedAtomic<Int>(0)
    public let dropped = ManagedAtomic<Int>(0)
    public let truncated = ManagedAtomic<Int>(0)
    public let tcpConnections = ManagedAtomic<Int>(0)
    public let tcpConnectionsRejected = ManagedAtomic<Int>(0)
    public let reloads = ManagedAtomic<Int>(0)
    public let reloadFailures = ManagedAtomic<Int>(0)
    // Abuse limits (issue 6). Every UDP datagram received ends as exactly one of: a response
    // (`responses`, slipped ones included), or `dropped` (no reply: unparseable or a response,
    // a source we cannot answer, a rate-limited reply, a send the kernel refused). The limit
    // counters below say why some of `dropped` were.
    public let errorRepliesLimited = ManagedAtomic<Int>(0)
    public let rrlDropped = ManagedAtomic<Int>(0)
    public let rrlSlipped = ManagedAtomic<Int>(0)
    public let rrlDryRun = ManagedAtomic<Int>(0)
    public let tcpConnectionsEvicted = ManagedAtomic<Int>(0)
    public let tcpReadTimeouts = ManagedAtomic<Int>(0)
    public let tcpIdleTimeouts = ManagedAtomic<Int>(0)
    /// Queries (UDP and TCP) that carried a valid server cookie of ours (RFC 7873 §5.2.5); over
    /// UDP these are exempt from the error-reply limit and RRL.
    public let validCookies = ManagedAtomic<Int>(0)

    public init() {}

    /// name -> value, in the exported metric names.
    public func snapshot() -> [(String, Int)] {
        [
            ("geodns_udp_queries_total", udpQueries.load(ordering: .relaxed)),
            ("geodns_tcp_queries_total", tcpQueries.load(ordering: .relaxed)),
            ("geodns_responses_total", responses.load(ordering: .relaxed)),
            ("geodns_dropped_total", dropped.load(ordering: .relaxed)),
            ("geodns_truncated_total", truncated.load(ordering: .relaxed)),
            ("geodns_tcp_connections", tcpConnections.load(ordering: .relaxed)),
            ("geodns_tcp_connections_rejected_total", tcpConnectionsRejected.load(ordering: .relaxed)),
            ("geodns_reloads_total", reloads.load(ordering: .relaxed)),
            ("geodns_reload_failures_total", reloadFailures.load(ordering: .relaxed)),
            ("geodns_error_replies_limited_total", errorRepliesLimited.load(ordering: .relaxed)),
            ("geodns_rrl_dropped_total", rrlDropped.load(ordering: .relaxed)),
            ("geodns_rrl_slipped_total", rrlSlipped.load(ordering: .relaxed)),
            ("geodns_rrl_dry_run_total", rrlDryRun.load(ordering: .relaxed)),
            ("geodns_tcp_connections_evicted_total", tcpConnectionsEvicted.load(ordering: .relaxed)),
            ("geodns_tcp_read_timeouts_total", tcpReadTimeouts.load(ordering: .relaxed)),
            ("geodns_tcp_idle_timeouts_total", tcpIdleTimeouts.load(ordering: .relaxed)),
            ("geodns_cookies_valid_total", validCookies.load(ordering: .relaxed)),
        ]
    }
}
