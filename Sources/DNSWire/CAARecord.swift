/// CAA RDATA (RFC 8659 §4.1): which certificate authorities may issue for a name.
///
/// ```
/// +0 flags (u8, bit 7 = issuer critical) | +1 tag length (u8, 1...15) | tag (ASCII letters
/// and digits) | value (the rest of the RDATA, no length byte)
/// ```
/// Presentation (RFC 8659 §4.1.1): `0 issue "letsencrypt.org"`. Kept in a message as
/// `RData.unknown(type: .caa, ...)` bytes, so every encoder and decoder path already carries it.
public struct CAARecord: Hashable, Sendable {
    public var flags: UInt8
    public var tag: String
    public var value: [UInt8]

    /// The property tags RFC 8659 §4.2-4.4 and RFC 8657 define (others are legal, and ignored by CAs).
    public static let knownTags = ["issue", "issuewild", "iodef", "issuemail", "issuevmc", "contactemail", "contactphone"]

    public init(flags: UInt8, tag: String, value: [UInt8]) throws(PresentationError) {
        guard (1...15).contains(tag.utf8.count),
              tag.unicodeScalars.allSatisfy({ $0.isASCII && (("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)) }) else {
            throw PresentationError("CAA tag '\(tag)' must be 1-15 ASCII letters or digits, like issue, issuewild or iodef")
        }
        self.flags = flags; self.tag = tag; self.value = value
    }

    /// From presentation: `FLAGS TAG VALUE`, VALUE quoted or a single word (RFC 8659 §4.1.1).
    public init(presentation text: String) throws(PresentationError) {
        let tokens = try PresentationTokens.split(text)
        guard tokens.count == 3 else {
            throw PresentationError("CAA must be 'FLAGS TAG VALUE', like 0 issue \"letsencrypt.org\" (found \(tokens.count) field\(tokens.count == 1 ? "" : "s"))")
        }
        guard let flags = UInt8(tokens[0].text) else {
            throw PresentationError("CAA flags '\(tokens[0].text)' must be 0...255 (0, or 128 for issuer-critical)")
        }
        try self.init(flags: flags, tag: tokens[1].text, value: try PresentationTokens.unescape(tokens[2].text))
    }

    public var wire: [UInt8] { [flags, UInt8(tag.utf8.count)] + Array(tag.utf8) + value }

    public init(wire: [UInt8]) throws(PresentationError) {
        guard wire.count >= 2, wire[1] >= 1, 2 + Int(wire[1]) <= wire.count else { throw PresentationError("CAA RDATA is truncated") }
        let tagEnd = 2 + Int(wire[1])
        try self.init(flags: wire[0], tag: String(decoding: wire[2..<tagEnd], as: UTF8.self), value: Array(wire[tagEnd...]))
    }

    public var rdata: RData { .unknown(type: .caa, data: wire) }

    /// `0 issue "letsencrypt.org"`, as dig prints it.
    public var presentation: String { "\(flags) \(tag) \(PresentationTokens.quoted(value))" }
}

/// A malformed presentation-form RDATA (the policy loader adds the file position).
public struct PresentationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Zone-file tokens (RFC 1035 §5.1): whitespace-separated, `"..."` keeps spaces, `\` escapes
/// are kept for the value parser (SVCB's alpn needs to tell `\,` from `,`).
public enum PresentationTokens {
    public struct Token: Hashable, Sendable {
        public var text: String        // quotes removed, escapes kept
        public var quoted: Bool
    }

    public static func split(_ text: String) throws(PresentationError) -> [Token] {
        var out: [Token] = []
        var current = ""
        var inQuotes = false, quoted = false, started = false
        var escaped = false
        for c in text {
            if escaped { current.append(c); escaped = false; continue }
            switch c {
            case "\\": current.append(c); escaped = true; started = true
            case "\"": inQuotes.toggle(); quoted = true; started = true
            case " ", "\t", "\n":
                // (`where` would bind to the last pattern only: test inside the case.)
                if inQuotes { current.append(c); continue }
                if started { out.append(Token(text: current, quoted: quoted)) }
                current = ""; quoted = false; started = false
            default: current.append(c); started = true
            }
        }
        guard !inQuotes else { throw PresentationError("unterminated quote in '\(text)'") }
        guard !escaped else { throw PresentationError("'\(text)' ends in a lone backslash") }
        if started { out.append(Token(text: current, quoted: quoted)) }
        return out
    }

    /// Bytes of a token: `\DDD` is a decimal byte, `\X` is X (RFC 1035 §5.1).
    public static func unescape(_ text: String) throws(PresentationError) -> [UInt8] {
        let b = Array(text.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            guard b[i] == UInt8(ascii: "\\") else { out.append(b[i]); i += 1; continue }
            guard i + 1 < b.count else { throw PresentationError("'\(text)' ends in a lone backslash") }
            if i + 3 < b.count, b[(i + 1)..<(i + 4)].allSatisfy({ (48...57).contains($0) }) {
                let v = Int(b[i + 1] - 48) * 100 + Int(b[i + 2] - 48) * 10 + Int(b[i + 3] - 48)
                guard v <= 255 else { throw PresentationError("escape \\\(v) in '\(text)' is not a byte (0...255)") }
                out.append(UInt8(v)); i += 4
            } else {
                out.append(b[i + 1]); i += 2
            }
        }
        return out
    }

    /// In quotes, `"` and `\` escaped, bytes outside printable ASCII as `\DDD`.
    public static func quoted(_ bytes: [UInt8]) -> String { "\"" + escaped(bytes) + "\"" }

    static func escaped(_ bytes: [UInt8], alsoEscape extra: Set<UInt8> = []) -> String {
        var out = ""
        for b in bytes {
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || extra.contains(b) {
                out.append("\\"); out.append(Character(Unicode.Scalar(b)))
            } else if (0x20...0x7E).contains(b) {
                out.append(Character(Unicode.Scalar(b)))
            } else {
                let d = String(b)
                out += "\\" + String(repeating: "0", count: 3 - d.count) + d
            }
        }
        return out
    }
}
