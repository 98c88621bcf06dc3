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
        ]
    }
}
