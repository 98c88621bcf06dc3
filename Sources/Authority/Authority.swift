import DNSWire
import Policy

/// How a query arrived; decides the size a reply may take.
public enum Transport: Sendable, Hashable {
    case udp, tcp
}

/// The answer engine: bytes in, bytes out, from one immutable `Catalog`.
///
/// Pure by design (DESIGN.md "Authority"; STYLE.md "The answer engine is a pure function"): no
/// socket, clock, logger or shared mutable state inside, so every policy case is a fast unit test
/// and the server can call it from any thread with the snapshot it loaded.
///
/// Decisions this engine makes (each has a test in Tests/AuthorityTests):
/// - **Class.** IN is served, and QCLASS ANY is answered from IN (NOERROR, AA; the question
///   echoed with class ANY), as gdnsd and Knot do. CH answers TXT at id.server./hostname.bind. and
///   version.bind./version.server. when `server.identity`/`server.version` are set
///   (Authority+Identity.swift). Any other QCLASS (HS, NONE...) and other CH questions get
///   REFUSED without AA: we are authoritative for no zone in that class (RFC 1034 §4.3.2 step 2).
/// - **Identity and TCP.** An empty NSID option gets `server.identity` (RFC 5001); a TCP query
///   with edns-tcp-keepalive gets the idle timeout (RFC 7828). NOTIMP copies RD but not CD.
/// - **Zone transfers.** AXFR and IXFR get NOTIMP, as gdnsd answers them.
/// - **ANY.** RFC 8482 §4.2: one synthesized `HINFO "RFC8482" ""` at the name when it holds any
///   data (static or steered), TTL 3600, scope 0 — what gdnsd sends, over UDP and TCP alike; an
///   empty non-terminal gets NODATA, a missing name NXDOMAIN, a name below a cut a referral.
/// - **CNAME.** A CNAME (static or steered) answers every type but CNAME with itself plus the
///   target's records while the target stays in our zones, at most `maxCNAMEChain` hops; the
///   RCODE is the last name's (RFC 6604: a dangling in-zone target gives NXDOMAIN). A steered
///   name whose pools have no data for the type answers per its `fallback` (NODATA + SOA, or
///   NOTIMP without AA).
/// - **DNS Cookies.** With the Server's `Cookies` (secrets and time), every reply to a query with
///   a client cookie carries our RFC 9018 server cookie; QDCOUNT=0 with a cookie gets NOERROR
///   with only the cookie (Authority+Cookies.swift).
/// - **Minimal responses.** Answers carry no additional-section data (gdnsd does the same);
///   referrals carry the NS RRset in authority and in-zone glue in additional.
/// - **ECS.** With ECS enabled, a valid option with SOURCE PREFIX-LENGTH > 0 makes its address,
///   cut to min(source, max_source_v4/v6), the client; otherwise the packet's source is.
///   Every reply to a query with ECS echoes FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as sent,
///   with SCOPE PREFIX-LENGTH (RFC 7871 §7.2.1):
///     * steered answers: the decision table's scope — the widest block around the client in which
///       every address gets this answer — clamped to the longest source prefix we honour, since
///       every ECS client inside that prefix gets the same answer from us (we truncate to it);
///       when a CNAME chain crosses several steered names, the longest of their scopes;
///     * static names, NXDOMAIN, REFUSED, AXFR/IXFR/class NOTIMP and referrals: 0;
///     * NODATA and a steered name's `fallback: notimp`: 0, unless the outcome itself depends on
///       the client (a steered name whose regions differ in having data for the type), where it
///       carries the table's scope — a scope-0 NODATA would be cached for clients that get data;
///     * source prefix 0 (the resolver asks us not to tailor): 0, answered for the packet source.
///   With ECS disabled in the settings the option is ignored and **not echoed**: RFC 7871 §7.2.1
///   lets a server that does not use ECS answer without it, and a reply without the option is
///   cached by resolvers as valid for every client, which is exactly what an answer that did not
///   use the client subnet is.
public enum Authority {
    /// CNAME hops followed inside our zones before the answer is returned as it stands.
    public static let maxCNAMEChain = 8
    /// TTL of the RFC 8482 HINFO answer to ANY.
    public static let anyHINFOTTL: UInt32 = 3600

    /// The whole per-query path: parse, pick the client, answer, encode within the size limit.
    /// Returns nil when the packet gets no reply at all (DESIGN.md: drop).
    public static func respond(to bytes: [UInt8], source: ClientAddress, transport: Transport,
                               catalog: Catalog) -> [UInt8]? {
        respond(to: bytes, source: source, transport: transport, catalog: catalog, cookies: nil)?.reply
    }

    /// `respond` with DNS Cookies (Authority+Cookies.swift): also says what the query's cookie
    /// was (nil: no cookie, or not answered with one).
    public static func respond(to bytes: [UInt8], source: ClientAddress, transport: Transport, catalog: Catalog,
                               cookies: Cookies?) -> (reply: [UInt8], cookie: DNSCookie.Status?)? {
        let settings = catalog.settings
        switch Query.parse(bytes, payloadSize: settings.udpPayloadSize) {
        case .drop:
            return nil
        case .reply(let reply):
            // An error reply the wire library built; empty only if it could not read a header.
            return reply.isEmpty ? nil : (reply, nil)
        case .query(let query):
            let client = clientAddress(for: query, source: source, settings: settings.ecs)
            var message = answer(query, client: client, catalog: catalog)
            addTCPKeepalive(to: &message, query: query, transport: transport, settings: settings)
            let status = addCookie(for: query, source: source, cookies: cookies, to: &message)
            return (message.encode(maxSize: sizeLimit(for: query, transport: transport, settings: settings)), status)
        }
    }

    /// `respond` for a worker that keeps its buffers: parses into `scratch` and encodes into
    /// `output`, reusing their storage across calls (`Query.parse(_:into:)`,
    /// `Message.encode(into:maxSize:)`), so a steady stream of queries allocates less.
    /// Returns false when the packet gets no reply; otherwise the reply is in `output`.
    public static func respond(to bytes: [UInt8], source: ClientAddress, transport: Transport, catalog: Catalog,
                               scratch: inout Query, output: inout [UInt8], cookies: Cookies? = nil) -> Bool {
        let settings = catalog.settings
        switch Query.parse(bytes, into: &scratch) {
        case .success:
            let client = clientAddress(for: scratch, source: source, settings: settings.ecs)
            var message = answer(scratch, client: client, catalog: catalog)
            addTCPKeepalive(to: &message, query: scratch, transport: transport, settings: settings)
            _ = addCookie(for: scratch, source: source, cookies: cookies, to: &message)
            message.encode(into: &output, maxSize: sizeLimit(for: scratch, transport: transport, settings: settings))
            return true
        case .failure(let error):
            switch Query.disposition(for: error, bytes: bytes, payloadSize: settings.udpPayloadSize) {
            case .reply(let reply) where !reply.isEmpty:
                output = reply
                return true
            default:
                return false
            }
        }
    }

    /// The reply message for a parsed query and an already chosen client (see `clientAddress`).
    public static func answer(_ query: Query, client: ClientAddress, catalog: Catalog) -> Message {
        var trace: Trace? = nil
        return answer(query, client: client, catalog: catalog, trace: &trace)
    }

    /// The address the answer is tailored for: the ECS address cut to the longest source prefix
    /// we honour, when ECS is enabled and the option asks for tailoring (source > 0); otherwise the
    /// packet source (IPv4-mapped IPv6 sources count as IPv4).
    public static func clientAddress(for query: Query, source: ClientAddress,
                                     settings: ServerSettings.ECS) -> ClientAddress {
        if let used = usedSubnet(query, settings: settings) { return used.client }
        if case .v6(let a) = source, a >> 32 == 0xFFFF {
            return .v4(UInt32(truncatingIfNeeded: a))
        }
        return source
    }

    /// The most bytes a reply may take: TCP 65535; UDP with EDNS min(max(client's size, 512), ours);
    /// UDP without EDNS 512 (RFC 1035 §4.2.1, RFC 6891 §6.2.5).
    public static func sizeLimit(for query: Query, transport: Transport, settings: ServerSettings) -> Int {
        switch transport {
        case .tcp:
            return 65535
        case .udp:
            guard let edns = query.edns else { return 512 }
            let ours = max(Int(settings.udpPayloadSize), 512)
            return min(max(Int(edns.udpPayloadSize), 512), ours)
        }
    }

    /// The ECS option's client when it is used: its address cut to the honoured prefix, and that
    /// prefix's length (the widest scope we may return for it). Nil when ECS is off, absent,
    /// /0, or the family's honoured length is 0.
    static func usedSubnet(_ query: Query, settings: ServerSettings.ECS)
        -> (client: ClientAddress, maxScope: UInt8)? {
        guard settings.enabled, let cs = query.edns?.clientSubnet, cs.sourcePrefix > 0 else { return nil }
        switch cs.family {
        case 1:
            guard settings.maxSourceV4 > 0, let a = cs.ipv4 else { return nil }
            let honoured = min(settings.maxSourceV4, 32)
            let p = min(cs.sourcePrefix, honoured)
            let mask: UInt32 = p >= 32 ? .max : ~(UInt32.max >> UInt32(p))
            return (.v4(a.rawValue & mask), honoured)
        case 2:
            guard settings.maxSourceV6 > 0, let a = cs.ipv6 else { return nil }
            let honoured = min(settings.maxSourceV6, 128)
            let p = min(cs.sourcePrefix, honoured)
            let mask: UInt128 = p >= 128 ? .max : ~(UInt128.max >> UInt128(p))
            return (.v6(a.rawValue & mask), honoured)
        default:
            return nil
        }
    }
}
