/// The EDNS options a server acts on besides Client Subnet (EDNS.swift).
///
/// ```
/// NSID (RFC 5001 §2.3), code 3:                query: empty | reply: the server's identifier
/// edns-tcp-keepalive (RFC 7828 §3.1), code 11: query: empty | reply over TCP: TIMEOUT (u16, 100 ms units)
/// ```
extension EDNSOption {
    public static let nsidCode: UInt16 = 3
    public static let tcpKeepaliveCode: UInt16 = 11

    /// The NSID option of a reply.
    public static func nsid(_ identifier: [UInt8]) -> EDNSOption { EDNSOption(code: nsidCode, data: identifier) }

    /// The edns-tcp-keepalive option of a reply over TCP: the idle timeout in units of 100 ms.
    public static func tcpKeepalive(timeout: UInt16) -> EDNSOption {
        EDNSOption(code: tcpKeepaliveCode, data: [UInt8(timeout >> 8), UInt8(timeout & 0xFF)])
    }
}

extension EDNS {
    /// The query asks for our NSID: an empty NSID option (RFC 5001 §2.1).
    public var asksForNSID: Bool { options.contains { $0.code == EDNSOption.nsidCode && $0.data.isEmpty } }

    /// The query carries edns-tcp-keepalive (RFC 7828 §3.2.1).
    public var asksForTCPKeepalive: Bool { options.contains { $0.code == EDNSOption.tcpKeepaliveCode } }

    /// FORMERR for a query's option of a known code and a shape it may not have (`Query.parse`):
    /// edns-tcp-keepalive with a TIMEOUT (RFC 7828 §3.2.1: a client sends it empty), over UDP
    /// too — the option is malformed whatever the transport.
    func validateQueryOptions() throws(WireError) {
        for o in options where o.code == EDNSOption.tcpKeepaliveCode && !o.data.isEmpty {
            throw .badTCPKeepalive(length: o.data.count)
        }
    }
}
