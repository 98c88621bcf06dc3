import DNSWire
import Policy

// DNS Cookies (RFC 7873, server cookies as RFC 9018 computes them; DNSCookie.swift in DNSWire).
//
// The engine stays pure: the Server hands it the secrets in force and the current time
// (`Cookies`), the engine reads no clock. Every reply the engine builds for a query carrying a
// well-formed client cookie carries a server cookie (reused when the client's is ours, made with
// the current secret and at most half an hour old; fresh otherwise), on every path: the express
// tier writes it in place, the general engine adds it to the reply's OPT. A QDCOUNT=0 query with
// a cookie gets NOERROR with the cookie and nothing else (RFC 7873 §5.4). A malformed COOKIE
// option is FORMERR (`Query.parse`, RFC 7873 §5.2.2). The status tells the Server whether the
// client proved it receives our replies at its address (a valid server cookie): such clients
// are exempt from the error-reply limit and RRL (ReplyLimits.swift).

extension Authority {
    /// The secrets in force and the time, from the Server. Without one (nil), client cookies are
    /// accepted but answered without a server cookie.
    public struct Cookies: Sendable {
        public var secrets: CookieSecrets
        /// Unix time in seconds (a coarse clock read by the Server).
        public var now: UInt32
        public init(secrets: CookieSecrets, now: UInt32) { self.secrets = secrets; self.now = now }
    }

    /// The address a server cookie is bound to: the packet's source (never the ECS address),
    /// IPv4-mapped IPv6 as IPv4 (the same host either way).
    @inline(__always)
    static func cookieAddress(_ source: ClientAddress) -> DNSCookie.Address {
        switch source {
        case .v4(let a): return .v4(a)
        case .v6(let a): return a >> 32 == 0xFFFF ? .v4(UInt32(truncatingIfNeeded: a)) : .v6(a)
        }
    }

    /// Adds our COOKIE option to `reply` when `query` carries a client cookie; returns the status
    /// of the query's cookie (nil: none, or no `cookies` to answer with).
    static func addCookie(for query: Query, source: ClientAddress, cookies: Cookies?,
                          to reply: inout Message) -> DNSCookie.Status? {
        guard let cookies, let option = query.edns?.cookie, reply.edns != nil else { return nil }
        let (data, status) = DNSCookie.respond(to: option, address: cookieAddress(source), secrets: cookies.secrets,
                                               now: cookies.now)
        reply.edns?.options.append(EDNSOption(code: DNSCookie.optionCode, data: data))
        return status
    }

    /// The reply to a QDCOUNT=0 query with a cookie (RFC 7873 §5.4): NOERROR, no question, no
    /// records, not authoritative; OPT as for any reply (the cookie is added by `addCookie`).
    static func cookieOnlyReply(to query: Query, payloadSize: UInt16) -> Message {
        var reply = Message(replyingTo: query, payloadSize: payloadSize)
        reply.questions = []
        reply.header.questionCount = 0
        reply.header.authoritative = false
        return reply
    }
}
