/// DNS over TCP: every message is preceded by its length as a 2-byte big-endian number (RFC 1035 §4.2.2).
public enum TCPFraming {
    /// `message` with its length prefix; nil when it is longer than 65535 bytes.
    public static func frame(_ message: [UInt8]) -> [UInt8]? {
        guard message.count <= 65535 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(message.count + 2)
        out.append(UInt8(truncatingIfNeeded: message.count >> 8))
        out.append(UInt8(truncatingIfNeeded: message.count))
        out.append(contentsOf: message)
        return out
    }

    /// Appends the framed `message` to `out`; false (nothing appended) when it is longer than 65535 bytes.
    @discardableResult
    public static func frame(_ message: [UInt8], appendingTo out: inout [UInt8]) -> Bool {
        guard message.count <= 65535 else { return false }
        out.append(UInt8(truncatingIfNeeded: message.count >> 8))
        out.append(UInt8(truncatingIfNeeded: message.count))
        out.append(contentsOf: message)
        return true
    }
}

/// Reassembles length-prefixed messages from a TCP byte stream, whatever the read boundaries:
/// a frame split over several reads, several frames in one read, a length prefix cut in two.
///
/// Memory is bounded: at most one incomplete frame (<= 65537 bytes) plus what one `append` adds
/// is buffered before `next()` hands frames out.
public struct TCPFrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes received but not yet returned as a frame.
    public var bufferedCount: Int { buffer.count - start }

    /// Adds bytes as they were read from the socket.
    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message (without its prefix), or nil until more bytes arrive.
    public mutating func next() -> [UInt8]? {
        guard buffer.count - start >= 2 else { return nil }
        let length = Int(buffer[start]) << 8 | Int(buffer[start + 1])
        guard buffer.count - start - 2 >= length else { return nil }
        let message = Array(buffer[(start + 2)..<(start + 2 + length)])
        start += 2 + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return message
    }

    /// Every complete message buffered so far, in order.
    public mutating func drain() -> [[UInt8]] {
        var out: [[UInt8]] = []
        while let m = next() { out.append(m) }
        return out
    }
}
