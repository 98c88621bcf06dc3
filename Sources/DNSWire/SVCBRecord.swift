/// SVCB and HTTPS RDATA (RFC 9460 §2.2): a service's endpoint and its parameters.
///
/// ```
/// +0 SvcPriority (u16; 0 = AliasMode) | TargetName (uncompressed name, §2.2) |
/// SvcParams: key (u16) | length (u16) | value ... in strictly increasing key order (§2.2)
/// ```
/// Presentation (§2.1, Appendix A): `1 . alpn=h2,h3 ipv4hint=192.0.2.1`. Kept in a message as
/// `RData.unknown(type: .https or .svcb, ...)` bytes: the TargetName is never compressed.
public struct SVCBRecord: Hashable, Sendable {
    public var priority: UInt16
    public var target: DomainName
    /// Sorted by key, each key once.
    public private(set) var params: [(key: UInt16, value: [UInt8])]

    /// The SvcParamKeys of RFC 9460 §14.3.2 by presentation name.
    public static let keyNames: [(String, UInt16)] = [
        ("mandatory", 0), ("alpn", 1), ("no-default-alpn", 2), ("port", 3), ("ipv4hint", 4), ("ech", 5), ("ipv6hint", 6),
    ]

    public static func == (a: SVCBRecord, b: SVCBRecord) -> Bool {
        a.priority == b.priority && a.target == b.target && a.params.map(\.key) == b.params.map(\.key) && a.params.map(\.value) == b.params.map(\.value)
    }
    public func hash(into h: inout Hasher) { h.combine(priority); h.combine(target); for p in params { h.combine(p.key); h.combine(p.value) } }

    /// From the presentation parameters (`alpn=h2,h3`, `port=8443`, `no-default-alpn`, `key65000=x`),
    /// checked as RFC 9460 §2.4, §7 and §8 ask.
    public init(priority: UInt16, target: DomainName, parameters: [PresentationTokens.Token]) throws(PresentationError) {
        self.priority = priority
        self.target = target
        var params: [(key: UInt16, value: [UInt8])] = []
        for token in parameters {
            let text = token.text
            let name: String, valueText: String?
            if let eq = text.firstIndex(of: "=") {
                name = String(text[..<eq]); valueText = String(text[text.index(after: eq)...])
            } else {
                name = text; valueText = nil
            }
            let key = try SVCBRecord.key(named: name.lowercased())
            guard !params.contains(where: { $0.key == key }) else {
                throw PresentationError("SvcParam \(name) is given twice (RFC 9460 §2.2: each key once)")
            }
            params.append((key, try SVCBRecord.value(key: key, name: name, valueText)))
        }
        params.sort { $0.key < $1.key }
        self.params = params
        try check()
    }

    /// From the whole presentation form when the target needs no origin ("." or absolute).
    public init(presentation text: String) throws(PresentationError) {
        let tokens = try PresentationTokens.split(text)
        guard tokens.count >= 2, let priority = UInt16(tokens[0].text) else {
            throw PresentationError("SVCB/HTTPS must be 'PRIORITY TARGET [key=value ...]', like 1 . alpn=h2,h3")
        }
        let target: DomainName
        do { target = try DomainName(tokens[1].text) } catch { throw PresentationError("bad TargetName '\(tokens[1].text)': \(error)") }
        try self.init(priority: priority, target: target, parameters: Array(tokens.dropFirst(2)))
    }

    static func key(named name: String) throws(PresentationError) -> UInt16 {
        if let known = keyNames.first(where: { $0.0 == name }) { return known.1 }
        if name.hasPrefix("key"), let n = UInt16(name.dropFirst(3)), String(n) == name.dropFirst(3) {
            guard n != 65535 else { throw PresentationError("key65535 is reserved (RFC 9460 §14.3.2)") }
            return n
        }
        throw PresentationError("unknown SvcParam '\(name)'; write one of \(keyNames.map(\.0).joined(separator: ", ")) or keyNNNNN")
    }

    static func value(key: UInt16, name: String, _ text: String?) throws(PresentationError) -> [UInt8] {
        func need() throws(PresentationError) -> String {
            guard let text, !text.isEmpty else { throw PresentationError("SvcParam \(name) needs a value, like \(name)=\(example(key))") }
            return text
        }
        switch key {
        case 0:   // mandatory: u16 keys, sorted, no duplicates (§8)
            var keys: [UInt16] = []
            for item in try need().split(separator: ",", omittingEmptySubsequences: false) {
                let k = try SVCBRecord.key(named: String(item).lowercased())
                guard k != 0 else { throw PresentationError("mandatory cannot list mandatory itself (RFC 9460 §8)") }
                guard !keys.contains(k) else { throw PresentationError("mandatory lists \(item) twice (RFC 9460 §8)") }
                keys.append(k)
            }
            return keys.sorted().flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        case 1:   // alpn: length-prefixed ids, comma-separated with "\," escapes (§7.1.1, Appendix A.1)
            var out: [UInt8] = []
            for item in splitUnescapedCommas(try need()) {
                let id = try PresentationTokens.unescape(item)
                guard (1...255).contains(id.count) else { throw PresentationError("an alpn id must be 1-255 bytes, like h2 or h3") }
                out.append(UInt8(id.count)); out += id
            }
            return out
        case 2:   // no-default-alpn: no value
            guard text == nil || text == "" else { throw PresentationError("no-default-alpn takes no value (RFC 9460 §7.1.1)") }
            return []
        case 3:
            guard let port = UInt16(try need()) else { throw PresentationError("port '\(text ?? "")' must be 0...65535") }
            return [UInt8(port >> 8), UInt8(port & 0xFF)]
        case 4:
            var out: [UInt8] = []
            for item in try need().split(separator: ",", omittingEmptySubsequences: false) {
                guard let a = IPv4Address(String(item)) else { throw PresentationError("ipv4hint '\(item)' is not an IPv4 address") }
                out += a.bytes
            }
            return out
        case 5:
            guard let bytes = base64Decode(try need()), !bytes.isEmpty else { throw PresentationError("ech must be base64 (an ECHConfigList, RFC 9460 §7.3)") }
            return bytes
        case 6:
            var out: [UInt8] = []
            for item in try need().split(separator: ",", omittingEmptySubsequences: false) {
                guard let a = IPv6Address(String(item)) else { throw PresentationError("ipv6hint '\(item)' is not an IPv6 address") }
                out += a.bytes
            }
            return out
        default:  // keyNNNNN: an opaque char-string (Appendix A)
            return try PresentationTokens.unescape(text ?? "")
        }
    }

    static func example(_ key: UInt16) -> String {
        switch key {
        case 0: "alpn,port"
        case 1: "h2,h3"
        case 3: "443"
        case 4: "192.0.2.1"
        case 6: "2001:db8::1"
        default: "..."
        }
    }

    /// RFC 9460 §2.4.2 (AliasMode carries no SvcParams), §7.1.1 (no-default-alpn needs alpn),
    /// §8 (every key in mandatory is present).
    func check() throws(PresentationError) {
        if priority == 0, !params.isEmpty {
            throw PresentationError("priority 0 is AliasMode, which takes no SvcParams (RFC 9460 §2.4.2): use priority 1 or more, or drop the parameters")
        }
        let keys = params.map(\.key)
        if keys.contains(2), !keys.contains(1) { throw PresentationError("no-default-alpn needs alpn too (RFC 9460 §7.1.1)") }
        if let mandatory = params.first(where: { $0.key == 0 }) {
            var i = 0
            while i + 1 < mandatory.value.count {
                let k = UInt16(mandatory.value[i]) << 8 | UInt16(mandatory.value[i + 1])
                if !keys.contains(k) { throw PresentationError("mandatory lists \(SVCBRecord.name(of: k)), which is not given (RFC 9460 §8)") }
                i += 2
            }
        }
    }

    /// From RDATA bytes (an uncompressed TargetName, keys strictly increasing, lengths exact).
    public init(wire: [UInt8]) throws(PresentationError) {
        guard wire.count >= 3 else { throw PresentationError("SVCB RDATA is truncated") }
        priority = UInt16(wire[0]) << 8 | UInt16(wire[1])
        var i = 2
        var labels: [[UInt8]] = []
        while true {
            guard i < wire.count else { throw PresentationError("SVCB TargetName is truncated") }
            let n = Int(wire[i])
            if n == 0 { i += 1; break }
            guard n <= 63, i + 1 + n <= wire.count else { throw PresentationError("SVCB TargetName is malformed (compression is not allowed, RFC 9460 §2.2)") }
            labels.append(Array(wire[(i + 1)..<(i + 1 + n)]))
            i += 1 + n
        }
        do { target = try DomainName(labels: labels) } catch { throw PresentationError("SVCB TargetName: \(error)") }
        var params: [(key: UInt16, value: [UInt8])] = []
        while i < wire.count {
            guard i + 4 <= wire.count else { throw PresentationError("SvcParam is truncated") }
            let key = UInt16(wire[i]) << 8 | UInt16(wire[i + 1]), length = Int(wire[i + 2]) << 8 | Int(wire[i + 3])
            guard i + 4 + length <= wire.count else { throw PresentationError("SvcParam value is truncated") }
            guard params.last.map({ $0.key < key }) ?? true else { throw PresentationError("SvcParamKeys are not in increasing order (RFC 9460 §2.2)") }
            params.append((key, Array(wire[(i + 4)..<(i + 4 + length)])))
            i += 4 + length
        }
        self.params = params
    }

    public var wire: [UInt8] {
        var out = [UInt8(priority >> 8), UInt8(priority & 0xFF)]
        for label in target.labels { out.append(UInt8(label.count)); out += label }
        out.append(0)
        for p in params {
            out += [UInt8(p.key >> 8), UInt8(p.key & 0xFF), UInt8(p.value.count >> 8), UInt8(p.value.count & 0xFF)]
            out += p.value
        }
        return out
    }

    public func rdata(type: RRType) -> RData { .unknown(type: type, data: wire) }

    static func name(of key: UInt16) -> String { keyNames.first(where: { $0.1 == key })?.0 ?? "key\(key)" }

    /// dig's form: `1 . alpn="h2,h3" ipv4hint=192.0.2.1`.
    public var presentation: String {
        var out = "\(priority) \(target)"
        for p in params {
            let v = p.value
            out += " " + SVCBRecord.name(of: p.key)
            switch p.key {
            case 0:
                var names: [String] = []
                var i = 0
                while i + 1 < v.count { names.append(SVCBRecord.name(of: UInt16(v[i]) << 8 | UInt16(v[i + 1]))); i += 2 }
                out += "=" + names.joined(separator: ",")
            case 1:
                var ids: [String] = []
                var i = 0
                while i < v.count, i + 1 + Int(v[i]) <= v.count {
                    ids.append(PresentationTokens.escaped(Array(v[(i + 1)..<(i + 1 + Int(v[i]))]), alsoEscape: [UInt8(ascii: ",")]))
                    i += 1 + Int(v[i])
                }
                out += "=\"" + ids.joined(separator: ",") + "\""
            case 2: break
            case 3 where v.count == 2: out += "=\(UInt16(v[0]) << 8 | UInt16(v[1]))"
            case 4:
                out += "=" + stride(from: 0, to: v.count - v.count % 4, by: 4).map { IPv4Address(bytes: v[$0], v[$0 + 1], v[$0 + 2], v[$0 + 3]).description }.joined(separator: ",")
            case 5: out += "=" + SVCBRecord.base64Encode(v)
            case 6:
                out += "=" + stride(from: 0, to: v.count - v.count % 16, by: 16).compactMap { IPv6Address(bytes: Array(v[$0..<($0 + 16)]))?.description }.joined(separator: ",")
            default: out += "=" + PresentationTokens.quoted(v)
            }
        }
        return out
    }

    static func splitUnescapedCommas(_ text: String) -> [String] {
        var out: [String] = [], current = "", escaped = false
        for c in text {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" { current.append(c); escaped = true; continue }
            if c == "," { out.append(current); current = ""; continue }
            current.append(c)
        }
        out.append(current)
        return out
    }

    static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func base64Encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = bytes[i], b1 = n > 1 ? bytes[i + 1] : 0, b2 = n > 2 ? bytes[i + 2] : 0
            out.append(base64Alphabet[Int(b0 >> 2)])
            out.append(base64Alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(n > 1 ? base64Alphabet[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(n > 2 ? base64Alphabet[Int(b2 & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func base64Decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        var padding = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "=") { padding += 1; continue }
            guard padding == 0, let v = base64Alphabet.firstIndex(of: c) else { return nil }
            values.append(UInt8(v))
        }
        guard (values.count + padding) % 4 == 0, padding <= 2 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i + 1 < values.count {
            out.append(values[i] << 2 | values[i + 1] >> 4)
            if i + 2 < values.count { out.append(values[i + 1] << 4 | values[i + 2] >> 2) }
            if i + 3 < values.count { out.append(values[i + 2] << 6 | values[i + 3]) }
            i += 4
        }
        return out
    }
}
