/// A domain name (RFC 1035 §3.1), kept as the client wrote it.
///
/// Storage is the uncompressed wire form without the final root byte: `[len][label]...`.
/// Letters keep their case (a reply echoes the client's 0x20 mix), while `==` and `hash`
/// ignore ASCII case (RFC 4343). Invariants: every label is 1...63 bytes and the full wire
/// form, root byte included, is at most 255 bytes.
public struct DomainName: Hashable, Sendable, CustomStringConvertible {
    /// `[len][bytes]` per label, no terminating zero.
    @usableFromInline internal var storage: [UInt8]

    @inlinable init(uncheckedStorage: [UInt8]) { storage = uncheckedStorage }

    public static let root = DomainName(uncheckedStorage: [])

    /// Parses presentation form: "www.example.com." or without the final dot; "." or "" is the root.
    /// `\.` and `\\` escape one character, `\DDD` is a decimal byte (RFC 1035 §5.1).
    public init(_ text: String) throws(WireError) {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 1)
        var label: [UInt8] = []
        let bytes = Array(text.utf8)
        if bytes.isEmpty || bytes == [UInt8(ascii: ".")] {
            self = .root
            return
        }
        var i = 0
        func finishLabel() throws(WireError) {
            guard !label.isEmpty else { throw .invalidText("empty label in \"\(text)\"") }
            guard label.count <= 63 else { throw .invalidText("label longer than 63 bytes in \"\(text)\"") }
            out.append(UInt8(label.count))
            out.append(contentsOf: label)
            label.removeAll(keepingCapacity: true)
        }
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: ".") {
                try finishLabel()
                i += 1
                if i == bytes.count { break }
                continue
            }
            if c == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count else { throw .invalidText("dangling escape in \"\(text)\"") }
                let d = bytes[i + 1]
                if d >= 0x30 && d <= 0x39 {
                    guard i + 3 < bytes.count,
                          (0x30...0x39).contains(bytes[i + 2]), (0x30...0x39).contains(bytes[i + 3]) else {
                        throw .invalidText("bad \\DDD escape in \"\(text)\"")
                    }
                    let v = Int(d - 0x30) * 100 + Int(bytes[i + 2] - 0x30) * 10 + Int(bytes[i + 3] - 0x30)
                    guard v <= 255 else { throw .invalidText("\\DDD above 255 in \"\(text)\"") }
                    label.append(UInt8(v))
                    i += 4
                } else {
                    label.append(d)
                    i += 2
                }
                continue
            }
            label.append(c)
            i += 1
        }
        if !label.isEmpty { try finishLabel() }
        guard out.count + 1 <= 255 else { throw .invalidText("name longer than 255 bytes: \"\(text)\"") }
        storage = out
    }

    /// Builds a name from its labels, most specific first; `[]` is the root.
    public init(labels: [[UInt8]]) throws(WireError) {
        var out: [UInt8] = []
        for label in labels {
            guard !label.isEmpty else { throw .invalidText("empty label") }
            guard label.count <= 63 else { throw .invalidText("label longer than 63 bytes") }
            out.append(UInt8(label.count))
            out.append(contentsOf: label)
        }
        guard out.count + 1 <= 255 else { throw .invalidText("name longer than 255 bytes") }
        storage = out
    }

    /// The labels, most specific first; empty for the root.
    public var labels: [[UInt8]] {
        var result: [[UInt8]] = []
        var i = 0
        while i < storage.count {
            let n = Int(storage[i])
            result.append(Array(storage[(i + 1)..<(i + 1 + n)]))
            i += 1 + n
        }
        return result
    }

    public var labelCount: Int {
        var count = 0, i = 0
        while i < storage.count { count += 1; i += 1 + Int(storage[i]) }
        return count
    }

    public var isRoot: Bool { storage.isEmpty }

    /// First label is `*` (RFC 4592).
    public var isWildcard: Bool { storage.count >= 2 && storage[0] == 1 && storage[1] == UInt8(ascii: "*") }

    /// Length of the uncompressed wire form, root byte included.
    public var wireLength: Int { storage.count + 1 }

    /// The uncompressed wire form, root byte included.
    public var wireBytes: [UInt8] { storage + [0] }

    /// True when `self` equals `other` or lies below it; ignores case.
    public func isSubdomain(of other: DomainName) -> Bool {
        if other.storage.count > storage.count { return false }
        var i = 0
        while storage.count - i > other.storage.count { i += 1 + Int(storage[i]) }
        guard storage.count - i == other.storage.count else { return false }
        return DomainName.equalIgnoringCase(storage, from: i, other.storage, from: 0, count: other.storage.count)
    }

    /// The name without its first label; nil for the root.
    public func parent() -> DomainName? {
        guard let first = storage.first else { return nil }
        return DomainName(uncheckedStorage: Array(storage[(1 + Int(first))...]))
    }

    /// The name without its first `n` labels (the root when `n >= labelCount`).
    public func dropFirst(_ n: Int) -> DomainName {
        var i = 0, k = 0
        while k < n && i < storage.count { i += 1 + Int(storage[i]); k += 1 }
        return DomainName(uncheckedStorage: Array(storage[i...]))
    }

    /// `label.self`; the label is taken as presentation text (escapes allowed, no dots).
    public func prepending(_ label: String) throws(WireError) -> DomainName {
        let head = try DomainName(label)
        guard head.labelCount == 1 else { throw .invalidText("\"\(label)\" is not one label") }
        let out = head.storage + storage
        guard out.count + 1 <= 255 else { throw .invalidText("name longer than 255 bytes") }
        return DomainName(uncheckedStorage: out)
    }

    /// ASCII letters lowered (RFC 4343: only A-Z fold).
    public func lowercased() -> DomainName {
        var out = storage
        var i = 0
        while i < out.count {
            let n = Int(out[i])
            for j in (i + 1)..<(i + 1 + n) { out[j] = DomainName.lower(out[j]) }
            i += 1 + n
        }
        return DomainName(uncheckedStorage: out)
    }

    /// Presentation form with the final dot; the root is ".". Special characters are escaped.
    public var description: String {
        if storage.isEmpty { return "." }
        var out: [UInt8] = []
        out.reserveCapacity(storage.count + 4)
        var i = 0
        while i < storage.count {
            let n = Int(storage[i])
            for j in (i + 1)..<(i + 1 + n) {
                let c = storage[j]
                switch c {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "("),
                     UInt8(ascii: ")"), UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    out.append(UInt8(ascii: "\\")); out.append(c)
                case 0x21...0x7E:
                    out.append(c)
                default:
                    out.append(UInt8(ascii: "\\"))
                    out.append(0x30 + c / 100); out.append(0x30 + (c / 10) % 10); out.append(0x30 + c % 10)
                }
            }
            out.append(UInt8(ascii: "."))
            i += 1 + n
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: case-insensitive identity (RFC 4343)

    @inlinable static func lower(_ c: UInt8) -> UInt8 { (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c }

    static func equalIgnoringCase(_ a: [UInt8], from ai: Int, _ b: [UInt8], from bi: Int, count: Int) -> Bool {
        var k = 0
        while k < count {
            if lower(a[ai + k]) != lower(b[bi + k]) { return false }
            k += 1
        }
        return true
    }

    public static func == (lhs: DomainName, rhs: DomainName) -> Bool {
        lhs.storage.count == rhs.storage.count
            && equalIgnoringCase(lhs.storage, from: 0, rhs.storage, from: 0, count: lhs.storage.count)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.count)
        for c in storage { hasher.combine(DomainName.lower(c)) }
    }
}
