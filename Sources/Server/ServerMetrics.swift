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
    /// Replies sent with a header RCODE other than NOERROR, by RCODE (1...15): the answering
    /// threads test one byte per reply and touch these only for such replies; NOERROR is
    /// `responses` minus their sum (`rcodeSamples`).
    public let errorRcodes = (0..<16).map { _ in ManagedAtomic<Int>(0) }

    /// Counts a reply's header RCODE unless it is NOERROR; `flags` is the reply's byte 3 (RA, Z,
    /// AD, CD, RCODE). One test on the common path, shared by both UDP engines and TCP.
    @inline(__always)
    func countRcode(flags: UInt8) {
        let rcode = Int(flags & 0x0f)
        if rcode != 0 { errorRcodes[rcode].wrappingIncrement(ordering: .relaxed) }
    }

    static let rcodeNames = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
                             "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11", "RCODE12", "RCODE13", "RCODE14", "RCODE15"]

    /// Replies by header RCODE (BADVERS and other extended RCODEs show as their low four bits,
    /// NOERROR for BADVERS): (label, value), NOERROR first, zero RCODEs other than the common
    /// six left out.
    public func rcodeSamples() -> [(rcode: String, value: Int)] {
        let others = errorRcodes.map { $0.load(ordering: .relaxed) }
        let noerror = max(0, responses.load(ordering: .relaxed) - others.reduce(0, +))
        var out = [("NOERROR", noerror)]
        for rcode in 1..<16 where rcode <= 5 || others[rcode] > 0 {
            out.append((Self.rcodeNames[rcode], others[rcode]))
        }
        return out
    }

    public init() {}

    /// One exported counter or gauge: its name (Prometheus conventions), help text, value.
    public struct Sample: Sendable {
        public let name: String
        public let help: String
        public let value: Int
        /// A gauge (a level that goes down as well as up); else a `_total` counter.
        public var isGauge: Bool { !name.hasSuffix("_total") }
    }

    /// Every counter the server keeps, in the exported names (the SIGUSR1 line, `/metrics`).
    public func samples() -> [Sample] {
        func s(_ name: String, _ help: String, _ counter: ManagedAtomic<Int>) -> Sample {
            Sample(name: name, help: help, value: counter.load(ordering: .relaxed))
        }
        return [
            s("geodns_udp_queries_total", "UDP datagrams received on the DNS sockets.", udpQueries),
            s("geodns_tcp_queries_total", "DNS messages received over TCP.", tcpQueries),
            s("geodns_responses_total", "Replies sent (UDP and TCP; RRL slips included).", responses),
            s("geodns_dropped_total", "Messages not answered: unparseable, a response, a rate-limited reply, a failed send.", dropped),
            s("geodns_truncated_total", "UDP replies sent with TC=1 (too large, or an RRL slip).", truncated),
            s("geodns_tcp_connections", "TCP connections open now.", tcpConnections),
            s("geodns_tcp_connections_rejected_total", "TCP connections the kernel queued that could not be accepted (file descriptor limit, ...).", tcpConnectionsRejected),
            s("geodns_reloads_total", "Policy reloads that took effect.", reloads),
            s("geodns_reload_failures_total", "Policy reloads refused (the running policy kept serving).", reloadFailures),
            s("geodns_error_replies_limited_total", "UDP error replies dropped by server.error_replies_per_second.", errorRepliesLimited),
            s("geodns_rrl_dropped_total", "UDP replies dropped by response rate limiting.", rrlDropped),
            s("geodns_rrl_slipped_total", "UDP replies sent truncated (TC=1, empty) by response rate limiting.", rrlSlipped),
            s("geodns_rrl_dry_run_total", "UDP replies RRL would have limited (dry run).", rrlDryRun),
            s("geodns_tcp_connections_evicted_total", "TCP connections closed to make room at server.tcp.max_connections.", tcpConnectionsEvicted),
            s("geodns_tcp_read_timeouts_total", "TCP connections closed because a message did not arrive whole within server.tcp.read_timeout.", tcpReadTimeouts),
            s("geodns_tcp_idle_timeouts_total", "TCP connections closed after server.tcp.idle_timeout without a query.", tcpIdleTimeouts),
            s("geodns_cookies_valid_total", "Queries that presented a valid server cookie of ours (RFC 7873; exempt from the error-reply limit and RRL).", validCookies),
        ]
    }

    /// `name=value ...`: the SIGUSR1 and stop log lines.
    public var logLine: String {
        samples().map { "\($0.name)=\($0.value)" }.joined(separator: " ")
    }
}
