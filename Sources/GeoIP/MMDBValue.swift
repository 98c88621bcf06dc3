/// A value of the MaxMind DB data section (spec "Output Data Section" types), for writing.
public enum MMDBValue: Hashable, Sendable {
    case string(String)
    case double(Double)
    case bytes([UInt8])
    case uint16(UInt16)
    case uint32(UInt32)
    case map([String: MMDBValue])
    case int32(Int32)
    case uint64(UInt64)
    case uint128(UInt128)
    case array([MMDBValue])
    case boolean(Bool)
    case float(Float)
}

extension GeoRecord {
    /// The record in GeoIP2 City shape: `continent.code`, `country.iso_code`,
    /// `subdivisions[].iso_code`, `location.latitude/longitude`, `autonomous_system_number`;
    /// absent fields are left out.
    public var mmdbValue: MMDBValue {
        var map: [String: MMDBValue] = [:]
        if let continent { map["continent"] = .map(["code": .string(continent)]) }
        if let country { map["country"] = .map(["iso_code": .string(country)]) }
        if !subdivisions.isEmpty { map["subdivisions"] = .array(subdivisions.map { .map(["iso_code": .string($0)]) }) }
        var location: [String: MMDBValue] = [:]
        if let latitude { location["latitude"] = .double(latitude) }
        if let longitude { location["longitude"] = .double(longitude) }
        if !location.isEmpty { map["location"] = .map(location) }
        if let asn { map["autonomous_system_number"] = .uint32(asn) }
        return .map(map)
    }
}

/// Appends MaxMind DB data-section encodings to a byte buffer. Map keys are written in
/// byte order so that equal values always encode to equal bytes (deterministic output).
struct MMDBEncoder {
    var bytes: [UInt8] = []
    /// Set when a value was too large to encode (sizes stop at 16,843,036); the caller reports it.
    var overflowed = false

    mutating func encode(_ value: MMDBValue) {
        switch value {
        case .string(let s):
            let utf8 = Array(s.utf8)
            control(type: 2, size: utf8.count)
            bytes += utf8
        case .double(let d):
            control(type: 3, size: 8)
            appendBigEndian(d.bitPattern, count: 8)
        case .bytes(let b):
            control(type: 4, size: b.count)
            bytes += b
        case .uint16(let v): unsigned(type: 5, UInt128(v))
        case .uint32(let v): unsigned(type: 6, UInt128(v))
        case .map(let m):
            control(type: 7, size: m.count)
            for key in m.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                encode(.string(key))
                if let v = m[key] { encode(v) }
            }
        case .int32(let v):
            // Minimal big-endian two's complement is not what readers expect; write all 4 bytes
            // for negative values and the minimal form for non-negative ones.
            if v < 0 {
                control(type: 8, size: 4)
                appendBigEndian(UInt64(UInt32(bitPattern: v)), count: 4)
            } else {
                unsigned(type: 8, UInt128(v))
            }
        case .uint64(let v): unsigned(type: 9, UInt128(v))
        case .uint128(let v): unsigned(type: 10, v)
        case .array(let a):
            control(type: 11, size: a.count)
            for v in a { encode(v) }
        case .boolean(let b):
            control(type: 14, size: b ? 1 : 0)
        case .float(let f):
            control(type: 15, size: 4)
            appendBigEndian(UInt64(f.bitPattern), count: 4)
        }
    }

    /// Control byte(s): type in the top 3 bits (types > 7 as 0 plus an extended-type byte),
    /// size in the low 5 bits with 29/30/31 announcing 1/2/3 following size bytes.
    mutating func control(type: Int, size: Int) {
        var size = size
        if size >= 16_843_036 { overflowed = true; size = 0 }
        let typeBits = type <= 7 ? UInt8(type) << 5 : 0
        var sizeBytes: [UInt8] = []
        let sizeBits: UInt8
        switch size {
        case ..<29: sizeBits = UInt8(size)
        case ..<285: sizeBits = 29; sizeBytes = [UInt8(size - 29)]
        case ..<65_821: sizeBits = 30; sizeBytes = bigEndian(size - 285, count: 2)
        default: sizeBits = 31; sizeBytes = bigEndian(size - 65_821, count: 3)
        }
        bytes.append(typeBits | sizeBits)
        if type > 7 { bytes.append(UInt8(type - 7)) }
        bytes += sizeBytes
    }

    /// An unsigned integer in its minimal number of big-endian bytes (0 has size 0).
    mutating func unsigned(type: Int, _ value: UInt128) {
        var length = 0
        var v = value
        while v != 0 { length += 1; v >>= 8 }
        control(type: type, size: length)
        for i in stride(from: length - 1, through: 0, by: -1) { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }

    mutating func appendBigEndian(_ value: UInt64, count: Int) {
        for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    func bigEndian(_ value: Int, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * (count - 1 - $0))) }
    }
}
