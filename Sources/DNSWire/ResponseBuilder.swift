/// The `lua-resty-dns-server` driver API in Swift: decode a request, add answers one call at a time,
/// encode the response. It keeps the seed's section rules and its rule that a name with a CNAME
/// takes no other data (RFC 1034 §3.6.2), and fixes its gaps: AA set, RD copied, OPT echoed with
/// Client Subnet and scope, extended RCODEs, name compression, 16-bit MX preference, truncation.
///
/// ```swift
/// var dns = ResponseBuilder()
/// guard let query = try? dns.decodeRequest(packet) else { return dns.encodeResponse() }  // FORMERR/NOTIMP/BADVERS or nil (drop)
/// try dns.createAAnswer(name: "www.example.com", ttl: 300, ipv4: "192.0.2.1")
/// let reply = dns.encodeResponse()
/// ```
public struct ResponseBuilder: Sendable {
    // MARK: the seed's constants
    public static let TYPE_A = RRType.a
    public static let TYPE_NS = RRType.ns
    public static let TYPE_CNAME = RRType.cname
    public static let TYPE_SOA = RRType.soa
    public static let TYPE_PTR = RRType.ptr
    public static let TYPE_MX = RRType.mx
    public static let TYPE_TXT = RRType.txt
    public static let TYPE_AAAA = RRType.aaaa
    public static let TYPE_SRV = RRType.srv
    public static let TYPE_SPF = RRType.spf
    public static let TYPE_ANY = RRType.any
    public static let CLASS_IN = RRClass.in
    public static let RCODE_OK = RCode.noError
    public static let RCODE_FORMAT_ERROR = RCode.formErr
    public static let RCODE_SERVER_FAILURE = RCode.servFail
    public static let RCODE_NAME_ERROR = RCode.nxDomain
    public static let RCODE_NOT_IMPLEMENTED = RCode.notImp
    public static let RCODE_REFUSED = RCode.refused
    public static let RCODE_NOTZONE = RCode.notZone
    public static let RCODE_BADVERS = RCode.badVers

    /// Sizes advertised in our OPT and used as the UDP ceiling.
    public var payloadSize: UInt16
    /// The decoded request, once `decodeRequest` succeeded.
    public private(set) var request: Query?
    /// The response header; `createResponseHeader` resets it, callers may adjust flags (the seed's `resp_header.ra = 0`).
    public var header: Header
    public private(set) var answers: [ResourceRecord] = []
    public private(set) var authorities: [ResourceRecord] = []
    public private(set) var additionals: [ResourceRecord] = []
    /// Scope prefix to echo in Client Subnet (RFC 7871 §7.2.1): 0 = valid for every client.
    public var clientSubnetScope: UInt8 = 0
    private var rawRequest: [UInt8] = []
    private var failure: WireError? = nil
    /// CNAME owners and their targets (the seed's `cnames` table).
    private var cnameTargets: [DomainName: DomainName] = [:]

    public init(payloadSize: UInt16 = 1232) {
        self.payloadSize = payloadSize
        header = Header(isResponse: true, authoritative: true)
    }

    /// `decode_request`: parses `bytes` as a query. On failure the error is remembered, so
    /// `encodeResponse()` then produces the matching FORMERR / NOTIMP / BADVERS reply (or nil: drop).
    @discardableResult
    public mutating func decodeRequest(_ bytes: [UInt8]) throws(WireError) -> Query {
        rawRequest = bytes
        var q = Query()
        switch Query.parse(bytes, into: &q) {
        case .success:
            request = q
            failure = nil
            header = Header(id: q.header.id, isResponse: true, opcode: q.header.opcode, authoritative: true,
                            recursionDesired: q.header.recursionDesired, checkingDisabled: q.header.checkingDisabled)
            return q
        case .failure(let e):
            request = nil
            failure = e
            throw e
        }
    }

    /// `create_response_header(rcode)`: resets the header for `rcode` (any 12-bit RCODE; BADVERS
    /// and other extended codes travel in OPT) and returns it.
    @discardableResult
    public mutating func createResponseHeader(_ rcode: RCode) -> Header {
        let q = request?.header ?? Header()
        header = Header(id: q.id, isResponse: true, opcode: q.opcode, authoritative: true,
                        recursionDesired: q.recursionDesired, checkingDisabled: q.checkingDisabled, rcode: rcode)
        return header
    }

    /// `create_a_answer(name, ttl, ipv4)`: in the answer section when it answers the question
    /// (or a CNAME target), in the additional section otherwise.
    public mutating func createAAnswer(name: String, ttl: UInt32, ipv4: String) throws(WireError) {
        guard let address = IPv4Address(ipv4) else { throw .invalidText("ipv4 format error: \(ipv4)") }
        try addAddress(name: try DomainName(name), ttl: ttl, rdata: .a(address), matching: .a)
    }

    /// `create_aaaa_answer(name, ttl, ipv6)`: any RFC 4291 text form, `::` included.
    public mutating func createAAAAAnswer(name: String, ttl: UInt32, ipv6: String) throws(WireError) {
        guard let address = IPv6Address(ipv6) else { throw .invalidText("ipv6 format error: \(ipv6)") }
        try addAddress(name: try DomainName(name), ttl: ttl, rdata: .aaaa(address), matching: .aaaa)
    }

    /// `create_cname_answer(name, ttl, cname)`: only for the question's name or the end of the
    /// chain so far; never next to other data at `name`.
    public mutating func createCNAMEAnswer(name: String, ttl: UInt32, cname: String) throws(WireError) {
        let owner = try DomainName(name), target = try DomainName(cname)
        if !cnameTargets.isEmpty {
            // The seed's "cname linked error": a chain must continue from a previous target.
            guard cnameTargets.values.contains(owner) else { throw .invalidText("cname linked error: \(owner)") }
        }
        guard cnameTargets[owner] == nil, !hasData(at: owner) else { throw .cnameConflict(owner) }
        cnameTargets[owner] = target
        answers.append(ResourceRecord(name: owner, ttl: ttl, rdata: .cname(target)))
    }

    /// `create_txt_answer(name, ttl, txt)`: text over 255 bytes is split into several strings.
    public mutating func createTXTAnswer(name: String, ttl: UInt32, txt: String) throws(WireError) {
        let owner = try checkedOwner(name)
        answers.append(ResourceRecord(name: owner, ttl: ttl, rdata: .txt(text: txt)))
    }

    /// `create_ns_answer(name, ttl, nsdname)`: answer for an NS/ANY question at `name`, authority otherwise.
    public mutating func createNSAnswer(name: String, ttl: UInt32, nsdname: String) throws(WireError) {
        let owner = try checkedOwner(name)
        let rr = ResourceRecord(name: owner, ttl: ttl, rdata: .ns(try DomainName(nsdname)))
        if let q = request?.question, q.name == owner, q.type == .ns || q.type == .any {
            answers.append(rr)
        } else {
            authorities.append(rr)
        }
    }

    /// `create_soa_answer(...)`: answer for an SOA question at `name`, authority otherwise
    /// (NXDOMAIN / NODATA, RFC 2308).
    public mutating func createSOAAnswer(name: String, ttl: UInt32, mname: String, rname: String, serial: UInt32,
                                         refresh: UInt32 = 900, retry: UInt32 = 900, expire: UInt32 = 1800,
                                         minimum: UInt32 = 60) throws(WireError) {
        let owner = try checkedOwner(name)
        let soa = SOAData(mname: try DomainName(mname), rname: try DomainName(rname), serial: serial,
                          refresh: refresh, retry: retry, expire: expire, minimum: minimum)
        let rr = ResourceRecord(name: owner, ttl: ttl, rdata: .soa(soa))
        if let q = request?.question, q.name == owner, q.type == .soa {
            answers.append(rr)
        } else {
            authorities.append(rr)
        }
    }

    /// `create_mx_answer(name, ttl, preference, exchange)` with the full 16-bit preference.
    public mutating func createMXAnswer(name: String, ttl: UInt32, preference: UInt16, exchange: String) throws(WireError) {
        let owner = try checkedOwner(name)
        answers.append(ResourceRecord(name: owner, ttl: ttl, rdata: .mx(preference: preference, exchange: try DomainName(exchange))))
    }

    /// `create_srv_answer(name, ttl, priority, weight, port, target)`.
    public mutating func createSRVAnswer(name: String, ttl: UInt32, priority: UInt16, weight: UInt16, port: UInt16,
                                         target: String) throws(WireError) {
        let owner = try checkedOwner(name)
        answers.append(ResourceRecord(name: owner, ttl: ttl,
                                      rdata: .srv(priority: priority, weight: weight, port: port, target: try DomainName(target))))
    }

    /// The response as a `Message` (nil before a successful `decodeRequest`).
    public var response: Message? {
        guard let q = request else { return nil }
        var m = Message(replyingTo: q, rcode: header.rcode, payloadSize: payloadSize)
        var h = header
        h.questionCount = 1
        m.header = h
        m.answers = answers
        m.authorities = authorities
        m.additionals = additionals
        m.edns?.clientSubnet?.scopePrefix = clientSubnetScope
        return m
    }

    /// `encode_response`: the reply bytes, within `maxSize` or (nil) the UDP limit the query allows
    /// (min(client EDNS size, our payload size), at least 512; 512 without EDNS). Pass 65535 for TCP.
    /// After a failed `decodeRequest`: the error reply, or nil when the packet is to be dropped.
    public func encodeResponse(maxSize: Int? = nil) -> [UInt8]? {
        if let failure {
            guard case .reply(let bytes) = Query.disposition(for: failure, bytes: rawRequest, payloadSize: payloadSize) else {
                return nil
            }
            return bytes
        }
        guard let q = request, let m = response else { return nil }
        return m.encode(maxSize: maxSize ?? q.udpResponseLimit(serverMax: Int(payloadSize)))
    }

    // MARK: private

    private func hasData(at name: DomainName) -> Bool {
        answers.contains { $0.name == name } || authorities.contains { $0.name == name && $0.type != .soa && $0.type != .ns }
            || additionals.contains { $0.name == name }
    }

    /// Owner name for non-CNAME data: refused when the name already has a CNAME.
    private func checkedOwner(_ name: String) throws(WireError) -> DomainName {
        let owner = try DomainName(name)
        guard cnameTargets[owner] == nil else { throw .cnameConflict(owner) }
        return owner
    }

    private mutating func addAddress(name owner: DomainName, ttl: UInt32, rdata: RData, matching type: RRType) throws(WireError) {
        guard cnameTargets[owner] == nil else { throw .cnameConflict(owner) }
        let rr = ResourceRecord(name: owner, ttl: ttl, rdata: rdata)
        let answersQuestion: Bool
        if let q = request?.question {
            answersQuestion = (cnameTargets.isEmpty && q.name == owner && (q.type == type || q.type == .any))
                || cnameTargets.values.contains(owner)
        } else {
            answersQuestion = true
        }
        if answersQuestion { answers.append(rr) } else { additionals.append(rr) }
    }
}

extension Query {
    /// The UDP reply size this query allows: min(its EDNS payload size, `serverMax`) but at least 512;
    /// 512 without EDNS (RFC 1035 §4.2.1, RFC 6891 §6.2.5).
    public func udpResponseLimit(serverMax: Int = 1232) -> Int {
        guard let e = edns else { return 512 }
        return max(512, min(Int(e.udpPayloadSize), serverMax))
    }
}
