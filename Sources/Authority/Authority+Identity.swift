import DNSWire
import Policy

// Which instance answered, and for how long a TCP connection may idle (issue 16):
// `server.identity` as NSID (RFC 5001) and CH TXT id.server./hostname.bind., `server.version` as
// CH TXT version.bind./version.server., the TCP idle timeout as edns-tcp-keepalive (RFC 7828).
// The fast path hands every such query to the general engine (CH class, an NSID option), and TCP
// is answered by the general engine only.

extension Authority {
    static let identityNames = [name("id.server."), name("hostname.bind.")]
    static let versionNames = [name("version.bind."), name("version.server.")]

    private static func name(_ text: String) -> DomainName { (try? DomainName(text)) ?? .root }

    /// A CH-class question (RFC 1035 §3.2.4), as Knot answers it: TXT at the identity or version
    /// names, when that value is configured, gets NOERROR with one TXT record (class CH, TTL 0,
    /// the name as asked, no AA: it is no zone's data); everything else REFUSED, as any class we
    /// do not serve.
    static func answerChaos(_ question: Question, settings: ServerSettings, reply: inout Message, trace: inout Trace?) {
        reply.header.authoritative = false
        let asked = question.name.lowercased()
        let value = question.type != .txt ? nil
            : identityNames.contains(asked) ? settings.identity
            : versionNames.contains(asked) ? settings.version : nil
        guard let value else {
            reply.rcode = .refused
            trace?.notes.append("CH \(question.type) \(question.name) is not answered: REFUSED")
            return
        }
        reply.answers.append(ResourceRecord(name: question.name, ttl: 0, rdata: .txt([Array(value.utf8)]), rrClass: .ch))
        trace?.notes.append("CH TXT \(question.name): the configured server identity or version")
    }

    /// NSID (RFC 5001 §2.3): our identity in the reply's OPT when the query asks with an empty option.
    static func addNSID(to reply: inout Message, query: Query, settings: ServerSettings) {
        guard let identity = settings.identity, query.edns?.asksForNSID == true else { return }
        reply.edns?.options.append(.nsid(Array(identity.utf8)))
    }

    /// edns-tcp-keepalive (RFC 7828 §3.3.2): over TCP, to a query carrying the option, the idle
    /// timeout connections get (`server.tcp.idle_timeout`) in units of 100 ms. Never over UDP
    /// (§3.2.2: a UDP query's option is ignored).
    static func addTCPKeepalive(to reply: inout Message, query: Query, transport: Transport, settings: ServerSettings) {
        guard transport == .tcp, query.edns?.asksForTCPKeepalive == true else { return }
        reply.edns?.options.append(.tcpKeepalive(timeout: tcpKeepaliveTimeout(settings)))
    }

    /// `server.tcp.idle_timeout` in 100 ms units, rounded down, at most 65535 (109 minutes).
    public static func tcpKeepaliveTimeout(_ settings: ServerSettings) -> UInt16 {
        let units = (settings.tcpIdleTimeoutSeconds * 10).rounded(.down)
        return units >= 65535 ? 65535 : UInt16(max(units, 0))
    }
}
