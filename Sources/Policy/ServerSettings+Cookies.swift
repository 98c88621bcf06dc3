import DNSWire

// DNS Cookies (RFC 7873, RFC 9018): `server: cookies:`. Parsed by PolicyLoader+Cookies.swift;
// the Server generates a secret at start when none is configured, and on a reload that changes
// `secret` keeps the old one as the previous secret (Sources/Server/CookieRotation.swift).

extension ServerSettings {
    /// `server: cookies: { secret: <32 hex>, previous_secret: <32 hex> }`. Anycast siblings that
    /// share a secret accept each other's cookies (RFC 9018 §5). Secrets never appear in logs or
    /// error messages (`CookieSecret` hides itself).
    public struct Cookies: Sendable, Equatable {
        /// The secret cookies are made with; nil: a random one generated at start.
        public var secret: CookieSecret?
        /// Also accepted (cookies made before a rotation); nil: the one a reload replaced, if any.
        public var previousSecret: CookieSecret?
        public init() {}
    }
}
