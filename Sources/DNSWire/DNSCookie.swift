/// DNS Cookies (RFC 7873) with the interoperable server cookie of RFC 9018.
///
/// The COOKIE option, code 10:
/// ```
/// | CLIENT COOKIE (8 bytes) | SERVER COOKIE (absent, or 8...32 bytes) |
/// ```
/// Our server cookie (RFC 9018 §4.2), 16 bytes:
/// ```
/// | VERSION = 1 (u8) | RESERVED (3 bytes, 0 when we make it) | TIMESTAMP (u32, Unix seconds) | HASH (8 bytes) |
/// HASH = SipHash-2-4(key: secret, CLIENT COOKIE | VERSION | RESERVED | TIMESTAMP | CLIENT IP)
/// ```
/// CLIENT IP is the packet's source address, 4 bytes for IPv4, 16 for IPv6; the hash is
/// written in SipHash's own byte order (little-endian), as the RFC's Appendix A vectors show.
public enum DNSCookie {
    public static let optionCode: UInt16 = 10
    public static let clientLength = 8
    /// The option data of every reply we send: client cookie + our 16-byte server cookie.
    public static let replyLength = 24

    /// RFC 7873 §5.2.2: 8 bytes (client cookie only) or 16...40 (with a server cookie of 8...32);
    /// any other length is malformed (FORMERR).
    @inline(__always)
    public static func isWellFormed(length: Int) -> Bool {
        length == 8 || (length >= 16 && length <= 40)
    }

    /// RFC 9018 §4.3: a server cookie is valid from 5 minutes ahead of our clock (skew between
    /// anycast siblings) to an hour old; one older than half an hour is replaced by a fresh one.
    public static let maxAge: Int32 = 3600
    public static let maxAhead: Int32 = 300
    public static let refreshAge: Int32 = 1800

    /// The source address a server cookie is bound to.
    public enum Address: Hashable, Sendable {
        case v4(UInt32)
        case v6(UInt128)
    }

    /// What a query's cookie was (RFC 7873 §5.2.3-§5.2.5). Every reply to a query with a client
    /// cookie carries a server cookie, whichever the case.
    public enum Status: Hashable, Sendable {
        /// A client cookie alone: the client learns our server cookie from the reply.
        case clientOnly
        /// A server cookie we did not make, made for another address, expired, or too far ahead:
        /// answered as if only the client cookie was there.
        case invalid
        /// One of ours (current or previous secret), within its lifetime: the client has shown
        /// it receives our replies at its address.
        case valid
    }

    /// The RFC 9018 hash. `client` and `header` are the client cookie and VERSION | RESERVED |
    /// TIMESTAMP as 8-byte words read little-endian, as SipHash absorbs them.
    @inline(__always)
    static func hash(client: UInt64, header: UInt64, address: Address, secret: CookieSecret) -> UInt64 {
        var h = SipHash24(k0: secret.k0, k1: secret.k1)
        h.absorb(client)
        h.absorb(header)
        switch address {
        case .v4(let a):
            // 4 address bytes in network order form the 20-byte message's tail.
            return h.finish(tail: UInt64(a.byteSwapped), length: 20)
        case .v6(let a):
            h.absorb(UInt64(truncatingIfNeeded: a >> 64).byteSwapped)
            h.absorb(UInt64(truncatingIfNeeded: a).byteSwapped)
            return h.finish(tail: 0, length: 32)
        }
    }

    /// Answers the COOKIE option data `option` (a well-formed length, see `isWellFormed`): writes
    /// the reply's option data (`replyLength` bytes: the client cookie, and either the server
    /// cookie the client sent, when it is ours, made with the current secret and at most half an
    /// hour old, or a fresh one stamped `now`) at `out`, and says what the query's cookie was.
    /// Reads 8...40 bytes of `option`, writes 24 at `out`; no allocation, no clock.
    public static func respond(to option: UnsafeRawBufferPointer, address: Address, secrets: CookieSecrets,
                               now: UInt32, into out: UnsafeMutableRawPointer) -> Status {
        guard option.count >= clientLength, let base = option.baseAddress else { return .invalid }
        let client = UInt64(littleEndian: option.loadUnaligned(as: UInt64.self))
        var status = Status.clientOnly
        if option.count > clientLength {
            status = .invalid
            if option.count == clientLength + 16, option[8] == 1 {
                let header = UInt64(littleEndian: option.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                let stamp = UInt32(option[12]) << 24 | UInt32(option[13]) << 16 | UInt32(option[14]) << 8 | UInt32(option[15])
                let age = Int32(bitPattern: now &- stamp)       // serial arithmetic (RFC 1982)
                let mac = UInt64(littleEndian: option.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
                if age <= maxAge, age >= -maxAhead {
                    if hash(client: client, header: header, address: address, secret: secrets.current) == mac {
                        status = .valid
                        if age <= refreshAge {
                            // Reused as sent (RFC 9018 §4.3): the client keeps one cookie.
                            out.copyMemory(from: base, byteCount: replyLength)
                            return .valid
                        }
                    } else if let previous = secrets.previous,
                              hash(client: client, header: header, address: address, secret: previous) == mac {
                        status = .valid     // made before a rotation: valid, replaced by one of the new secret
                    }
                }
            }
        }
        // A fresh server cookie: version 1, reserved 0, the timestamp, the hash.
        out.copyMemory(from: base, byteCount: clientLength)
        let header = UInt64(1) | UInt64(now.byteSwapped) << 32     // bytes 01 00 00 00, then the timestamp
        out.storeBytes(of: header.littleEndian, toByteOffset: 8, as: UInt64.self)
        let mac = hash(client: client, header: header, address: address, secret: secrets.current)
        out.storeBytes(of: mac.littleEndian, toByteOffset: 16, as: UInt64.self)
        return status
    }

    /// `respond` on arrays: the reply's option data and the status.
    public static func respond(to option: [UInt8], address: Address, secrets: CookieSecrets,
                               now: UInt32) -> (data: [UInt8], status: Status) {
        var data = [UInt8](repeating: 0, count: replyLength)
        let status = option.withUnsafeBytes { o in
            data.withUnsafeMutableBytes { out -> Status in
                guard let at = out.baseAddress else { return .invalid }
                return respond(to: o, address: address, secrets: secrets, now: now, into: at)
            }
        }
        return (data, status)
    }
}

/// A server secret: the SipHash-2-4 key (16 bytes). Never logged: its description hides it.
public struct CookieSecret: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let k0: UInt64
    public let k1: UInt64

    public init(k0: UInt64, k1: UInt64) { self.k0 = k0; self.k1 = k1 }

    /// From 16 bytes; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        var a: UInt64 = 0, b: UInt64 = 0
        for i in 0..<8 { a |= UInt64(bytes[i]) << (8 * UInt64(i)); b |= UInt64(bytes[8 + i]) << (8 * UInt64(i)) }
        self.init(k0: a, k1: b)
    }

    /// From 32 hex digits; nil otherwise.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: 32, by: 2) {
            guard let hi = CookieSecret.nibble(digits[i]), let lo = CookieSecret.nibble(digits[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
        }
        self.init(bytes: bytes)
    }

    /// A secret from the system's random source (generated at start when the config has none).
    public static func random() -> CookieSecret {
        var g = SystemRandomNumberGenerator()
        return CookieSecret(k0: g.next(), k1: g.next())
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }

    public var description: String { "CookieSecret(<hidden>)" }
    public var debugDescription: String { description }
}

/// The secrets in force: cookies are made with `current`; cookies made with `previous` (the
/// secret before the last rotation) are still accepted, so clients keep working mid-rotation.
public struct CookieSecrets: Hashable, Sendable {
    public var current: CookieSecret
    public var previous: CookieSecret?
    public init(current: CookieSecret, previous: CookieSecret? = nil) { self.current = current; self.previous = previous }
}

extension EDNS {
    /// The first COOKIE option's data, if any (RFC 7873 §5.2: later ones are ignored).
    public var cookie: [UInt8]? {
        for o in options where o.code == DNSCookie.optionCode { return o.data }
        return nil
    }
}
