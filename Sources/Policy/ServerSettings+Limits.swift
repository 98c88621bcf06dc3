// Abuse limits of the server (issue 6): response rate limiting, error-reply limiting and the TCP
// read deadline. Parsed by PolicyLoader+Limits.swift; enforced in Sources/Server.

extension ServerSettings {
    /// `server: rrl:` — response rate limiting over UDP (NSD/Knot style; Server's
    /// ResponseRateLimiter). Off by default: rate limits that suit one deployment starve another
    /// (a large resolver behind one /24), so the operator opts in; the defaults then are NSD's.
    public struct RRL: Sendable, Equatable {
        public var enabled = false
        /// Replies a second per (client prefix, response class, name) before limiting.
        public var responsesPerSecond = 200
        /// Every `slip`-th limited reply goes out as an empty TC=1 reply (0: none, 1: all).
        public var slip = 2
        /// Client prefix lengths that share one allowance.
        public var ipv4Prefix = 24
        public var ipv6Prefix = 56
        /// Count what would be limited, limit nothing.
        public var dryRun = false
        public init() {}
    }
}
