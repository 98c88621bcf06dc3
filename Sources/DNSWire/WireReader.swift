/// A bounds-checked cursor over a message. Every read checks the bytes are there and throws
/// a typed error otherwise; `limit` restricts reads to a stated length (RDATA, an option).
struct WireReader {
    let bytes: [UInt8]
    var offset: Int
    /// Reads stop here; compression pointers may still reach back anywhere before it.
    var limit: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
        self.limit = bytes.count
    }

    var remaining: Int { limit - offset }

    @inline(__always)
    mutating func u8() throws(WireError) -> UInt8 {
        guard limit - offset >= 1 else { throw .truncated(at: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    @inline(__always)
    mutating func u16() throws(WireError) -> UInt16 {
        guard limit - offset >= 2 else { throw .truncated(at: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    @inline(__always)
    mutating func u32() throws(WireError) -> UInt32 {
        guard limit - offset >= 4 else { throw .truncated(at: offset) }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    mutating func take(_ n: Int) throws(WireError) -> [UInt8] {
        guard n >= 0, limit - offset >= n else { throw .truncated(at: offset) }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    mutating func skip(_ n: Int) throws(WireError) {
        guard n >= 0, limit - offset >= n else { throw .truncated(at: offset) }
        offset += n
    }

    /// Runs `body` with reads limited to the next `length` bytes, which it must use up exactly.
    mutating func restricted<T>(to length: Int, _ body: (inout WireReader) throws(WireError) -> T) throws(WireError) -> T {
        guard length >= 0, limit - offset >= length else { throw .truncated(at: offset) }
        let outer = limit
        let end = offset + length
        limit = end
        let value = try body(&self)
        guard offset == end else { throw .lengthMismatch(at: offset) }
        limit = outer
        return value
    }

    /// Reads a possibly compressed name (RFC 1035 §4.1.4), appending `[len][label]...` to `out`.
    mutating func name(into out: inout [UInt8]) throws(WireError) {
        var sink = CopyingLabels(out: out)
        out = []                      // hand the buffer to the sink without a copy
        defer { out = sink.out }
        try walkName(&sink)
    }

    mutating func name() throws(WireError) -> DomainName {
        var storage: [UInt8] = []
        try name(into: &storage)
        return DomainName(uncheckedStorage: storage)
    }

    /// Steps over a name, checking it as `name(into:)` does, without copying it.
    mutating func skipName() throws(WireError) {
        var sink = SkippingLabels()
        try walkName(&sink)
    }

    /// The one checked walk over a name: each pointer must point strictly before the start of
    /// the labels being read, so the walk always moves backwards and ends, and past the header
    /// (offsets 0-11 hold no name; `bytes` is always a whole message); labels stay <= 63
    /// and the name <= 255 bytes. `sink` receives each label (with its length byte).
    @inline(__always)
    private mutating func walkName<Sink: LabelSink>(_ sink: inout Sink) throws(WireError) {
        var pos = offset
        var runStart = offset       // pointers must target below this
        var bound = limit           // before the first pointer: the restricted region
        var end = -1                // where the reader continues after the name
        var wireLength = 1          // the root byte
        while true {
            guard pos < bound else { throw .truncated(at: pos) }
            let len = bytes[pos]
            switch len & 0xC0 {
            case 0x00:
                if len == 0 {
                    if end < 0 { end = pos + 1 }
                    offset = end
                    return
                }
                let n = Int(len)
                wireLength += 1 + n
                guard wireLength <= 255 else { throw .nameTooLong(at: pos) }
                guard bound - pos - 1 >= n else { throw .truncated(at: pos) }
                sink.label(bytes, at: pos, length: n)
                pos += 1 + n
            case 0xC0:
                guard bound - pos >= 2 else { throw .truncated(at: pos) }
                let target = Int(len & 0x3F) << 8 | Int(bytes[pos + 1])
                // Strictly backwards: a target at or after the current run would loop (or read ahead).
                guard target < runStart else { throw .badPointer(at: pos) }
                // RFC 1035 §4.1.4: a pointer names a prior occurrence of a name; the 12-byte header holds none.
                guard target >= 12 else { throw .pointerIntoHeader(at: pos) }
                if end < 0 { end = pos + 2 }
                runStart = target
                pos = target
                bound = bytes.count
            case 0x40:
                // 0b01: a length of 64...127 or an extended label type (RFC 6891 §5): no label > 63.
                throw .labelTooLong(at: pos)
            default:
                throw .badLabelType(at: pos)
            }
        }
    }

    /// One <character-string>: a length byte and that many bytes (RFC 1035 §3.3).
    mutating func characterString() throws(WireError) -> [UInt8] {
        let n = try u8()
        return try take(Int(n))
    }
}

/// What `WireReader.walkName` does with each label it has checked.
protocol LabelSink {
    /// The label whose length byte is at `bytes[at]`, `length` bytes following it (in bounds).
    mutating func label(_ bytes: [UInt8], at: Int, length: Int)
}

/// Appends `[len][label]` to a buffer (`name(into:)`).
struct CopyingLabels: LabelSink {
    var out: [UInt8]
    @inline(__always)
    mutating func label(_ bytes: [UInt8], at pos: Int, length n: Int) {
        out.append(UInt8(truncatingIfNeeded: n))
        let from = pos + 1
        bytes.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[from..<(from + n)])) }
    }
}

/// Only checks (`skipName()`).
struct SkippingLabels: LabelSink {
    @inline(__always)
    mutating func label(_ bytes: [UInt8], at pos: Int, length n: Int) {}
}
