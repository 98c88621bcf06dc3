/// A whole DNS message (RFC 1035 §4.1). `additionals` exclude the OPT record, which lives in `edns`.
public struct Message: Hashable, Sendable {
    public var header: Header
    public var questions: [Question]
    public var answers: [ResourceRecord]
    public var authorities: [ResourceRecord]
    public var additionals: [ResourceRecord]
    public var edns: EDNS?

    public init(header: Header = Header(), questions: [Question] = [], answers: [ResourceRecord] = [],
                authorities: [ResourceRecord] = [], additionals: [ResourceRecord] = [], edns: EDNS? = nil) {
        self.header = header; self.questions = questions; self.answers = answers
        self.authorities = authorities; self.additionals = additionals; self.edns = edns
    }

    /// The full 12-bit RCODE: the header's 4 bits plus the OPT record's upper 8.
    public var rcode: RCode {
        get {
            let ext = UInt16(edns?.extendedRCode ?? 0)
            return RCode(rawValue: ext << 4 | (header.rcode.rawValue & 0x0F))
        }
        set {
            header.rcode = newValue
            if edns != nil { edns?.extendedRCode = UInt8(truncatingIfNeeded: newValue.rawValue >> 4) }
        }
    }

    /// The authoritative reply skeleton for `query`: id, opcode, RD and CD copied, QR and AA set,
    /// the question echoed as the client wrote it, and an OPT iff the query had one, advertising
    /// `payloadSize` and echoing Client Subnet (family, source, address) with scope 0 — set
    /// `edns?.clientSubnet?.scopePrefix` to the scope the answer is valid for (RFC 7871 §7.2.1).
    public init(replyingTo query: Query, rcode: RCode = .noError, payloadSize: UInt16 = 1232) {
        header = Header(id: query.header.id, isResponse: true, opcode: query.header.opcode, authoritative: true,
                        recursionDesired: query.header.recursionDesired,
                        checkingDisabled: query.header.checkingDisabled,
                        rcode: RCode(rawValue: rcode.rawValue & 0x0F), questionCount: 1)
        questions = [query.question]
        answers = []; authorities = []; additionals = []
        if let qe = query.edns {
            var cs = qe.clientSubnet
            cs?.scopePrefix = 0
            edns = EDNS(udpPayloadSize: payloadSize, extendedRCode: UInt8(truncatingIfNeeded: rcode.rawValue >> 4),
                        version: 0, dnssecOK: qe.dnssecOK, options: [], clientSubnet: cs)
        } else {
            edns = nil
        }
    }
}

// MARK: decoding

extension Message {
    /// Decodes a whole message. Every count is honoured, every length used up exactly, and
    /// nothing may follow the last record.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        guard bytes.count >= 12 else { throw .tooShort(length: bytes.count) }
        var r = WireReader(bytes)
        var h = Header()
        h.id = try r.u16()
        h.setFlags(try r.u16())
        h.questionCount = try r.u16()
        h.answerCount = try r.u16()
        h.authorityCount = try r.u16()
        h.additionalCount = try r.u16()
        header = h
        // Counts are only trusted as far as the bytes go: each entry needs at least 1 byte,
        // so the loops below end by `truncated` long before a lying count matters.
        questions = []
        for _ in 0..<h.questionCount {
            let name = try r.name()
            let type = RRType(rawValue: try r.u16())
            let rrClass = RRClass(rawValue: try r.u16())
            questions.append(Question(name: name, type: type, rrClass: rrClass))
        }
        var opt: EDNS? = nil
        answers = try Message.records(&r, count: h.answerCount, isAdditional: false, edns: &opt)
        authorities = try Message.records(&r, count: h.authorityCount, isAdditional: false, edns: &opt)
        additionals = try Message.records(&r, count: h.additionalCount, isAdditional: true, edns: &opt)
        edns = opt
        // A response may carry scope != 0, a query may not (RFC 7871 §7.1.1).
        try opt?.clientSubnet?.validate(isQuery: !h.isResponse)
        guard r.offset == bytes.count else { throw .trailingBytes(at: r.offset) }
    }

    private static func records(_ r: inout WireReader, count: UInt16, isAdditional: Bool,
                                edns: inout EDNS?) throws(WireError) -> [ResourceRecord] {
        var out: [ResourceRecord] = []
        for _ in 0..<count {
            let name = try r.name()
            let type = RRType(rawValue: try r.u16())
            if type == .opt {
                guard isAdditional else { throw .optOutsideAdditional }
                guard edns == nil else { throw .multipleOPT }
                guard name.isRoot else { throw .optNotRoot }
                edns = try EDNS.decodeBody(&r)
                continue
            }
            let rrClass = RRClass(rawValue: try r.u16())
            let ttl = try r.u32()
            let length = Int(try r.u16())
            let rdata = try r.restricted(to: length) { (sub: inout WireReader) throws(WireError) -> RData in
                try RData.decode(&sub, type: type, rrClass: rrClass, length: length)
            }
            out.append(ResourceRecord(name: name, ttl: ttl, rdata: rdata, rrClass: rrClass))
        }
        return out
    }
}

extension EDNS {
    /// The OPT record after its owner name and TYPE: CLASS, TTL, RDLENGTH, options.
    /// Client Subnet is taken out wherever it sits; a second one is an error; other options are kept.
    static func decodeBody(_ r: inout WireReader) throws(WireError) -> EDNS {
        var e = EDNS()
        e.udpPayloadSize = try r.u16()
        e.extendedRCode = try r.u8()
        e.version = try r.u8()
        e.dnssecOK = (try r.u16()) & 0x8000 != 0
        let length = Int(try r.u16())
        try r.restricted(to: length) { (sub: inout WireReader) throws(WireError) in
            while sub.remaining > 0 {
                let code = try sub.u16()
                let n = Int(try sub.u16())
                if code == ClientSubnet.optionCode {
                    guard e.clientSubnet == nil else { throw .multipleClientSubnet }
                    e.clientSubnet = try sub.restricted(to: n) { (o: inout WireReader) throws(WireError) -> ClientSubnet in
                        try ClientSubnet.decode(&o, length: n)
                    }
                } else {
                    e.options.append(EDNSOption(code: code, data: try sub.take(n)))
                }
            }
        }
        return e
    }
}

extension ClientSubnet {
    /// FAMILY, SOURCE, SCOPE, ADDRESS (the rest of the option). Shape only; `validate` checks RFC 7871.
    static func decode(_ r: inout WireReader, length: Int) throws(WireError) -> ClientSubnet {
        guard length >= 4 else { throw .badClientSubnet(.shortOption) }
        let family = try r.u16()
        let source = try r.u8()
        let scope = try r.u8()
        let address = try r.take(length - 4)
        return ClientSubnet(family: family, sourcePrefix: source, scopePrefix: scope, address: address)
    }
}

extension RData {
    /// RDATA of `type`, reading exactly `length` bytes (the reader is restricted to them).
    /// A, AAAA and SRV are class-specific (IN); elsewhere they stay opaque (RFC 3597 §4).
    static func decode(_ r: inout WireReader, type: RRType, rrClass: RRClass, length: Int) throws(WireError) -> RData {
        let start = r.offset
        switch type {
        case .a where rrClass == .in:
            guard length == 4 else { throw .badRData(type: type, at: start) }
            return .a(IPv4Address(rawValue: try r.u32()))
        case .aaaa where rrClass == .in:
            guard length == 16 else { throw .badRData(type: type, at: start) }
            let hi = try r.u32(), b = try r.u32(), c = try r.u32(), lo = try r.u32()
            return .aaaa(IPv6Address(rawValue: UInt128(hi) << 96 | UInt128(b) << 64 | UInt128(c) << 32 | UInt128(lo)))
        case .cname: return .cname(try r.name())
        case .ns: return .ns(try r.name())
        case .ptr: return .ptr(try r.name())
        case .soa:
            let mname = try r.name(), rname = try r.name()
            return .soa(SOAData(mname: mname, rname: rname, serial: try r.u32(), refresh: try r.u32(),
                                retry: try r.u32(), expire: try r.u32(), minimum: try r.u32()))
        case .mx:
            let pref = try r.u16()
            return .mx(preference: pref, exchange: try r.name())
        case .txt:
            guard length > 0 else { throw .badRData(type: type, at: start) }
            var strings: [[UInt8]] = []
            while r.remaining > 0 { strings.append(try r.characterString()) }
            return .txt(strings)
        case .srv where rrClass == .in:
            let priority = try r.u16(), weight = try r.u16(), port = try r.u16()
            return .srv(priority: priority, weight: weight, port: port, target: try r.name())
        case .hinfo:
            let cpu = try r.characterString()
            return .hinfo(cpu: cpu, os: try r.characterString())
        default:
            return .unknown(type: type, data: try r.take(length))
        }
    }
}

// MARK: encoding

extension Message {
    /// Encodes within `maxSize` bytes (clamped to 12...65535).
    ///
    /// When the records do not fit, whole RRsets are dropped from the end, never part of one
    /// (RFC 2181 §9): losing answer or authority data sets TC; losing additional data does not.
    /// The OPT record is always kept (RFC 6891 §7). Header counts are those written; the rest of
    /// `header` is taken as is, with RCODE bits above 4 moved into OPT when there is one.
    public func encode(maxSize: Int = 65535) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(min(max(maxSize, 12), 512))
        encode(into: &out, maxSize: maxSize)
        return out
    }

    /// Like `encode(maxSize:)` but writes into `out` (cleared first, capacity kept), so a server
    /// can reuse one buffer: with enough capacity and a uniquely referenced buffer this allocates nothing.
    public func encode(into out: inout [UInt8], maxSize: Int = 65535) {
        Message.encode(header: header, questions: questions, answers: answers, authorities: authorities,
                       additionals: additionals, edns: edns, maxSize: maxSize, into: &out)
    }

    /// The encoder behind `encode` and `Query.encodeReply`.
    static func encode<Questions: Collection<Question>>(
        header: Header, questions: Questions, answers: [ResourceRecord], authorities: [ResourceRecord],
        additionals: [ResourceRecord], edns: EDNS?, maxSize: Int, into out: inout [UInt8]
    ) {
        let limit = min(max(maxSize, 12), 65535)
        let optLength = edns?.wireLength ?? 0
        let qdCount = min(questions.count, 65535)
        var questionBytes = 0
        for q in questions.prefix(qdCount) { questionBytes += q.name.wireLength + 4 }
        // Capacity: the whole message uncompressed, or the size limit plus what is always written
        // (header, questions, OPT), whichever is smaller. A record that would pass the capacity
        // has passed the limit, so the writer's `full` only ever means overflow.
        var uncompressed = 12 + questionBytes + optLength
        for rr in answers { uncompressed += rr.name.wireLength + 10 + WireWriter.rdataBound(rr.rdata) }
        for rr in authorities { uncompressed += rr.name.wireLength + 10 + WireWriter.rdataBound(rr.rdata) }
        for rr in additionals { uncompressed += rr.name.wireLength + 10 + WireWriter.rdataBound(rr.rdata) }
        let capacity = min(uncompressed, limit + optLength + questionBytes + 12)
        // Make `out` exactly `capacity` long, touching as little as possible: a reused buffer
        // usually held a reply of about this size already (its old bytes get overwritten).
        while out.count < capacity {
            // memcpy from a zero page: far cheaper than appending a repeated element.
            let n = min(capacity - out.count, Message.zeroPageSize)
            out.append(contentsOf: UnsafeBufferPointer(start: Message.zeroPage, count: n))
        }
        if out.count > capacity {
            out.removeLast(out.count - capacity)
        }
        let written = out.withUnsafeMutableBufferPointer { buffer in
            var w = WireWriter(buffer)
            encodeSections(&w, header: header, questions: questions.prefix(qdCount), answers: answers,
                           authorities: authorities, additionals: additionals, edns: edns, limit: limit)
            return w.count
        }
        if written < out.count { out.removeLast(out.count - written) }
    }

    static let zeroPageSize = 16384
    nonisolated(unsafe) static let zeroPage: UnsafePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: zeroPageSize)
        p.initialize(repeating: 0, count: zeroPageSize)
        return UnsafePointer(p)
    }()

    private static func encodeSections<Questions: Collection<Question>>(
        _ w: inout WireWriter, header: Header, questions: Questions, answers: [ResourceRecord],
        authorities: [ResourceRecord], additionals: [ResourceRecord], edns: EDNS?, limit: Int
    ) {
        let optLength = edns?.wireLength ?? 0
        var counts = (min(answers.count, 65535), min(authorities.count, 65535), min(additionals.count, 65535))
        var truncated = header.truncated
        // The first pass either fits or overflows in one section; the second pass writes the
        // same bytes up to the cut, so it fits.
        for _ in 0..<4 {
            w.reset()
            w.u16(header.id); w.u16(0)
            w.u16(UInt16(truncatingIfNeeded: questions.count))
            w.u16(UInt16(truncatingIfNeeded: counts.0)); w.u16(UInt16(truncatingIfNeeded: counts.1))
            w.u16(UInt16(truncatingIfNeeded: counts.2))
            for q in questions {
                w.name(q.name, compress: true); w.u16(q.type.rawValue); w.u16(q.rrClass.rawValue)
            }
            let budget = limit - optLength
            var overflow: (section: Int, index: Int)? = nil
            sections: for s in 0..<3 {
                let list = s == 0 ? answers : (s == 1 ? authorities : additionals)
                let n = s == 0 ? counts.0 : (s == 1 ? counts.1 : counts.2)
                var i = 0
                while i < n {
                    w.record(list[i])
                    if w.full || w.count > budget { overflow = (s, i); break sections }
                    i += 1
                }
            }
            if let (s, i) = overflow {
                let list = s == 0 ? answers : (s == 1 ? authorities : additionals)
                let keep = Message.wholeRRsetPrefix(list, overflowAt: i)
                switch s {
                case 0: counts = (keep, 0, 0); truncated = true          // answer data lost: TC
                case 1: counts = (counts.0, keep, 0); truncated = true   // authority (e.g. SOA) lost: TC
                default: counts = (counts.0, counts.1, keep)             // additional only: no TC (RFC 2181 §9)
                }
                continue
            }
            break
        }
        var h = header
        h.truncated = truncated
        w.patch16(at: 2, h.flags)
        if let e = edns {
            let ext = header.rcode.rawValue > 0x0F ? UInt8(truncatingIfNeeded: header.rcode.rawValue >> 4) : e.extendedRCode
            w.opt(e, extendedRCode: ext)
            w.patch16(at: 10, UInt16(truncatingIfNeeded: min(counts.2 + 1, 65535)))
        }
    }

    /// The longest prefix of `list` that keeps every RRset (name, type, class) whole, given that
    /// the record at `overflowAt` and everything after it must go.
    static func wholeRRsetPrefix(_ list: [ResourceRecord], overflowAt: Int) -> Int {
        struct Key: Hashable { let name: DomainName; let type: RRType; let rrClass: RRClass }
        var first: [Key: Int] = [:]
        var keys: [Key] = []
        keys.reserveCapacity(list.count)
        for (j, rr) in list.enumerated() {
            let k = Key(name: rr.name, type: rr.type, rrClass: rr.rrClass)
            if first[k] == nil { first[k] = j }
            keys.append(k)
        }
        var cut = overflowAt
        while true {
            var next = cut
            for j in cut..<list.count { next = min(next, first[keys[j]] ?? j) }
            if next == cut { return cut }
            cut = next
        }
    }
}
