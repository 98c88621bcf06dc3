/// What a server does with an incoming packet: the one table of DESIGN.md's wire behaviour.
public enum Disposition: Sendable {
    /// A well-formed QUERY to answer.
    case query(Query)
    /// An error reply, already encoded (FORMERR / NOTIMP / BADVERS / NOTAUTH): id, opcode, RD and
    /// (but for NOTIMP) CD copied, the question echoed when readable, OPT (version 0, no options)
    /// iff the query had one; NOTAUTH ends with the unsigned TSIG error record (TSIG.swift).
    case reply([UInt8])
    /// No reply at all.
    case drop(DropReason)

    /// The reply class of a rejected packet (see `WireError.disposition`).
    public enum Kind: Hashable, Sendable {
        case drop, formErr, notImp, badVers, notAuth

        /// The RCODE sent for this kind; nil for `.drop`.
        public var rcode: RCode? {
            switch self {
            case .drop: nil
            case .formErr: .formErr
            case .notImp: .notImp
            case .badVers: .badVers
            case .notAuth: .notAuth
            }
        }
    }
}

/// Why a packet gets no reply.
public enum DropReason: Hashable, Sendable, CustomStringConvertible {
    /// Shorter than a header.
    case tooShort
    /// QR=1: answering responses would make us a reflector.
    case notAQuery

    public var description: String {
        switch self {
        case .tooShort: "shorter than a DNS header"
        case .notAQuery: "QR=1 (a response, not a query)"
        }
    }
}

/// A well-formed query: header, its single question and its OPT record if any.
public struct Query: Hashable, Sendable {
    public var header: Header
    public var question: Question
    public var edns: EDNS?

    public init(header: Header, question: Question, edns: EDNS? = nil) {
        self.header = header; self.question = question; self.edns = edns
    }

    /// An empty query, for `parse(_:into:)` to fill.
    /// QDCOUNT 0 with a COOKIE option (RFC 7873 §5.4): the client asks for a server cookie only;
    /// `question` is a placeholder. Set by `parse`.
    public var isCookieOnly = false

    public init() {
        header = Header()
        question = Question(name: .root, type: .a)
        edns = nil
    }
}

extension Query {
    /// Classifies `bytes` as a query to answer, an error to reply with, or a packet to drop
    /// (DESIGN.md "Wire behaviour"). `payloadSize` is advertised in error replies' OPT.
    public static func parse(_ bytes: [UInt8], payloadSize: UInt16 = 1232) -> Disposition {
        var q = Query()
        switch parse(bytes, into: &q) {
        case .success: return .query(q)
        case .failure(let error): return disposition(for: error, bytes: bytes, payloadSize: payloadSize)
        }
    }

    /// The disposition for a parse failure of `bytes`.
    public static func disposition(for error: WireError, bytes: [UInt8], payloadSize: UInt16 = 1232) -> Disposition {
        switch error {
        case .tooShort: return .drop(.tooShort)
        case .notAQuery: return .drop(.notAQuery)
        case .unverifiedTSIG(let at):
            return .reply(tsigErrorReply(to: bytes, tsigAt: at, payloadSize: payloadSize) ?? [])
        default:
            let rcode = error.disposition.rcode ?? .formErr
            return .reply(errorReply(to: bytes, rcode: rcode, payloadSize: payloadSize) ?? [])
        }
    }

    /// Parses into a caller-owned query, reusing the storage of its name, Client Subnet address
    /// and option list: with a `query` that is not shared elsewhere this allocates nothing for a
    /// query whose only option is Client Subnet. The server's hot path.
    public static func parse(_ bytes: [UInt8], into query: inout Query) -> Result<Void, WireError> {
        do throws(WireError) {
            try parseThrowing(bytes, into: &query)
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    static func parseThrowing(_ bytes: [UInt8], into query: inout Query) throws(WireError) {
        // Drop: too short to hold a header, or a response (never answer a response: reflection).
        guard bytes.count >= 12 else { throw .tooShort(length: bytes.count) }
        var r = WireReader(bytes)
        var h = Header()
        h.id = try r.u16()
        h.setFlags(try r.u16())
        h.questionCount = try r.u16()
        h.answerCount = try r.u16()
        h.authorityCount = try r.u16()
        h.additionalCount = try r.u16()
        guard !h.isResponse else { throw .notAQuery }
        // NOTIMP: we only do QUERY (RFC 1035 §4.1.1).
        guard h.opcode == .query else { throw .unsupportedOpcode(h.opcode) }
        // FORMERR: exactly one question (RFC 9619), or none with a COOKIE option (checked below).
        guard h.questionCount <= 1 else { throw .questionCount(h.questionCount) }
        query.header = h
        query.isCookieOnly = h.questionCount == 0

        if h.questionCount == 1 {
            // The question, reusing the name's buffer.
            var nameStorage: [UInt8] = []
            swap(&nameStorage, &query.question.name.storage)
            nameStorage.removeAll(keepingCapacity: true)
            try r.name(into: &nameStorage)
            swap(&nameStorage, &query.question.name.storage)
            query.question.type = RRType(rawValue: try r.u16())
            query.question.rrClass = RRClass(rawValue: try r.u16())
        } else {
            query.question = Question(name: .root, type: RRType(rawValue: 0))
        }

        // Answer and authority records of a query are checked for shape and skipped.
        var skipCount = Int(h.answerCount) + Int(h.authorityCount)
        while skipCount > 0 {
            try r.skipName()
            let type = try r.u16()
            // FORMERR: OPT only in the additional section, TSIG only last in it (RFC 8945 §5.1).
            guard type != RRType.opt.rawValue else { throw .optOutsideAdditional }
            guard type != RRType.tsig.rawValue else { throw .misplacedTSIG }
            try r.skip(6)
            try r.skip(Int(try r.u16()))
            skipCount -= 1
        }

        // The additional section: at most one OPT, at the root; everything else skipped.
        var old = query.edns.take()
        var sawOPT = false
        var tsigAt = -1
        var arCount = Int(h.additionalCount)
        while arCount > 0 {
            let ownerAt = r.offset
            try r.skipName()
            let type = try r.u16()
            if type == RRType.opt.rawValue {
                guard !sawOPT else { throw .multipleOPT }                 // RFC 6891 §6.1.1
                if r.offset - ownerAt != 3 {
                    // Not a bare root byte: only a pointer to the root still names the root.
                    var owner = WireReader(bytes, offset: ownerAt)
                    guard (try owner.name()).isRoot else { throw .optNotRoot }   // RFC 6891 §6.1.2
                }
                sawOPT = true
                var e = old.take() ?? EDNS()
                try EDNS.decodeBodyReusing(&r, into: &e)
                query.edns = e
            } else if type == RRType.tsig.rawValue {
                // FORMERR: TSIG must be the last record (RFC 8945 §5.1) and shaped as one (§4.2).
                guard arCount == 1 else { throw .misplacedTSIG }
                try TSIG.skipBody(&r)
                tsigAt = ownerAt
            } else {
                try r.skip(6)
                try r.skip(Int(try r.u16()))
            }
            arCount -= 1
        }
        guard r.offset == bytes.count else { throw .trailingBytes(at: r.offset) }
        // QDCOUNT 0 asks only for a server cookie (RFC 7873 §5.4): without a COOKIE option, FORMERR.
        if h.questionCount == 0, query.edns?.cookie == nil { throw .questionCount(0) }
        if let e = query.edns {
            if let cs = e.clientSubnet { try cs.validate(isQuery: true) }
            try e.validateQueryOptions()
            // BADVERS after the packet is known to be well-formed (RFC 6891 §6.1.3).
            guard e.version == 0 else { throw .badEDNSVersion(e.version) }
        }
        // NOTAUTH last: only a query that is otherwise answerable gets the TSIG error.
        if tsigAt >= 0 { throw .unverifiedTSIG(at: tsigAt) }
    }

    /// An error reply to whatever of `bytes` can be read: id, opcode, RD, CD (not for NOTIMP, as
    /// gdnsd and Knot answer), the question if it parses, OPT iff the query had one (version 0,
    /// our payload size, extended RCODE for BADVERS).
    /// Nil when `bytes` is shorter than a header.
    public static func errorReply(to bytes: [UInt8], rcode: RCode, payloadSize: UInt16 = 1232) -> [UInt8]? {
        guard bytes.count >= 12 else { return nil }
        var r = WireReader(bytes)
        var h = Header()
        h.id = (try? r.u16()) ?? 0
        h.setFlags((try? r.u16()) ?? 0)
        let qd = (try? r.u16()) ?? 0
        var reply = Header(id: h.id, isResponse: true, opcode: h.opcode, recursionDesired: h.recursionDesired,
                           checkingDisabled: h.checkingDisabled && rcode != .notImp, rcode: rcode)
        reply.truncated = false
        var question: Question? = nil
        if qd == 1 && h.opcode == .query || qd == 1 {
            var qr = WireReader(bytes, offset: 12)
            if let name = try? qr.name(), let t = try? qr.u16(), let c = try? qr.u16() {
                question = Question(name: name, type: RRType(rawValue: t), rrClass: RRClass(rawValue: c))
            }
        }
        var m = Message(header: reply, questions: question.map { [$0] } ?? [])
        if hasOPT(bytes) {
            m.edns = EDNS(udpPayloadSize: payloadSize, extendedRCode: UInt8(truncatingIfNeeded: rcode.rawValue >> 4))
        }
        return m.encode(maxSize: 512)
    }

    /// Best effort: does the additional section hold an OPT record? Stops at the first malformed byte.
    static func hasOPT(_ bytes: [UInt8]) -> Bool {
        var r = WireReader(bytes, offset: 4)
        guard let qd = try? r.u16(), let an = try? r.u16(), let ns = try? r.u16(), let ar = try? r.u16() else {
            return false
        }
        for _ in 0..<qd {
            guard (try? r.skipName()) != nil, (try? r.skip(4)) != nil else { return false }
        }
        var index = 0
        let total = Int(an) + Int(ns) + Int(ar)
        while index < total {
            guard (try? r.skipName()) != nil, let type = try? r.u16() else { return false }
            if type == RRType.opt.rawValue && index >= Int(an) + Int(ns) { return true }
            guard (try? r.skip(6)) != nil, let n = try? r.u16(), (try? r.skip(Int(n))) != nil else { return false }
            index += 1
        }
        return false
    }
}

extension EDNS {
    /// `decodeBody`, reusing `e`'s option list and Client Subnet address buffers.
    static func decodeBodyReusing(_ r: inout WireReader, into e: inout EDNS) throws(WireError) {
        e.udpPayloadSize = try r.u16()
        e.extendedRCode = try r.u8()
        e.version = try r.u8()
        e.dnssecOK = (try r.u16()) & 0x8000 != 0
        e.options.removeAll(keepingCapacity: true)
        var address: [UInt8] = []
        if var cs = e.clientSubnet.take() { swap(&address, &cs.address) }
        address.removeAll(keepingCapacity: true)
        let length = Int(try r.u16())
        guard r.remaining >= length else { throw .truncated(at: r.offset) }
        let end = r.offset + length
        let outer = r.limit
        r.limit = end
        while r.remaining > 0 {
            let code = try r.u16()
            let n = Int(try r.u16())
            guard r.remaining >= n else { throw .truncated(at: r.offset) }
            if code == ClientSubnet.optionCode {
                // FORMERR: two ECS options leave no single client to answer for.
                guard e.clientSubnet == nil else { throw .multipleClientSubnet }
                guard n >= 4 else { throw .badClientSubnet(.shortOption) }
                let family = try r.u16()
                let source = try r.u8()
                let scope = try r.u8()
                address.append(contentsOf: r.bytes[r.offset..<(r.offset + n - 4)])
                r.offset += n - 4
                e.clientSubnet = ClientSubnet(family: family, sourcePrefix: source, scopePrefix: scope, address: address)
            } else {
                // FORMERR: the first COOKIE option malformed (RFC 7873 §5.2.2; later ones are ignored).
                if code == DNSCookie.optionCode, !DNSCookie.isWellFormed(length: n), e.cookie == nil { throw .badCookie(length: n) }
                e.options.append(EDNSOption(code: code, data: try r.take(n)))
            }
        }
        r.limit = outer
    }
}

extension Query {
    /// Encodes the authoritative reply to this query straight into `out` (cleared first, capacity
    /// kept), without building a `Message`: header from the query (id, opcode, RD, CD but for
    /// NOTIMP; QR and AA set), the question as the client wrote it, the given sections, and an OPT iff the query
    /// had one (our `payloadSize`, Client Subnet echoed with `scopePrefix` unless
    /// `echoClientSubnet` is false, e.g. when ECS is switched off). Truncates like
    /// `Message.encode`. With a reused buffer and prebuilt record arrays this allocates nothing:
    /// the server's hot path.
    public func encodeReply(rcode: RCode = .noError, answers: [ResourceRecord], authorities: [ResourceRecord] = [],
                            additionals: [ResourceRecord] = [], scopePrefix: UInt8 = 0, payloadSize: UInt16 = 1232,
                            authoritative: Bool = true, maxSize: Int, into out: inout [UInt8],
                            echoClientSubnet: Bool = true) {
        let h = Header(id: header.id, isResponse: true, opcode: header.opcode, authoritative: authoritative,
                       recursionDesired: header.recursionDesired,
                       checkingDisabled: header.checkingDisabled && rcode != .notImp, rcode: rcode)
        var e: EDNS? = nil
        if let qe = edns {
            var cs = echoClientSubnet ? qe.clientSubnet : nil
            cs?.scopePrefix = scopePrefix
            e = EDNS(udpPayloadSize: payloadSize, extendedRCode: UInt8(truncatingIfNeeded: rcode.rawValue >> 4),
                     version: 0, dnssecOK: qe.dnssecOK, options: [], clientSubnet: cs)
        }
        Message.encode(header: h, questions: CollectionOfOne(question), answers: answers, authorities: authorities,
                       additionals: additionals, edns: e, maxSize: maxSize, into: &out)
    }
}
