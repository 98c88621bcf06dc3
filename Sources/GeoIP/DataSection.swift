#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A bounds-checked reader over a MaxMind DB data section (spec "Output Data Section"):
/// every field starts with a control byte `TTTSSSSS` (type, size), type 0 meaning "extended,
/// the next byte is type - 7", sizes 29/30/31 meaning 1/2/3 more size bytes. Pointers
/// (type 1) are offsets from the start of the data section and may not point at pointers.
///
/// Only the fields steering needs are decoded into a `GeoRecord`; everything else is skipped
/// without following pointers, so the work per record is bounded by the bytes it spans.
struct DataSection: @unchecked Sendable {
    // @unchecked: `base` points into the read-only mmap owned by GeoIPDatabase, which keeps it
    // alive for as long as any DataSection derived from it is used (only inside its methods).
    let base: UnsafePointer<UInt8>
    let count: Int

    struct DecodeError: Error, Hashable, Sendable {
        var offset: Int
        var reason: String
    }

    enum DataType {
        static let pointer: UInt8 = 1, utf8String: UInt8 = 2, double: UInt8 = 3, bytes: UInt8 = 4
        static let uint16: UInt8 = 5, uint32: UInt8 = 6, map: UInt8 = 7, int32: UInt8 = 8
        static let uint64: UInt8 = 9, uint128: UInt8 = 10, array: UInt8 = 11, container: UInt8 = 12
        static let endMarker: UInt8 = 13, boolean: UInt8 = 14, float: UInt8 = 15
    }

    /// A decoded control header. For a pointer, `size` is the target offset and `payload` the
    /// offset just past the pointer.
    struct Item {
        var type: UInt8
        var size: Int
        var payload: Int
    }

    /// Nesting limit for skipping; real GeoIP2 records nest 3-4 levels.
    static let maximumDepth = 32

    @inline(__always)
    private func byte(_ offset: Int) throws(DecodeError) -> UInt8 {
        guard offset >= 0, offset < count else { throw DecodeError(offset: offset, reason: "read past the end of the data section") }
        return base[offset]
    }

    /// `length` (1...4) big-endian bytes as an Int.
    @inline(__always)
    private func bigEndian(_ offset: Int, _ length: Int) throws(DecodeError) -> Int {
        guard offset >= 0, length <= count, offset <= count - length else {
            throw DecodeError(offset: offset, reason: "read past the end of the data section")
        }
        var value = 0
        for i in 0..<length { value = value << 8 | Int(base[offset + i]) }
        return value
    }

    @inline(__always)
    func header(at offset: Int) throws(DecodeError) -> Item {
        var p = offset
        let control = try byte(p)
        p += 1
        var type = control >> 5
        if type == DataType.pointer {
            let sizeBits = (control >> 3) & 3
            let high = Int(control & 7)
            let target: Int
            switch sizeBits {
            case 0: target = high << 8 | Int(try byte(p)); p += 1
            case 1: target = (high << 16 | (try bigEndian(p, 2))) + 2048; p += 2
            case 2: target = (high << 24 | (try bigEndian(p, 3))) + 526_336; p += 3
            default: target = try bigEndian(p, 4); p += 4
            }
            return Item(type: type, size: target, payload: p)
        }
        if type == 0 {
            let extended = try byte(p)
            p += 1
            guard extended >= 1, extended <= 8 else {
                throw DecodeError(offset: offset, reason: "unknown extended type \(Int(extended) + 7)")
            }
            type = extended + 7
        }
        var size = Int(control & 0x1f)
        switch size {
        case 29: size = 29 + Int(try byte(p)); p += 1
        case 30: size = 285 + (try bigEndian(p, 2)); p += 2
        case 31: size = 65_821 + (try bigEndian(p, 3)); p += 3
        default: break
        }
        return Item(type: type, size: size, payload: p)
    }

    /// The value at `cursor`, following one pointer. When it was a pointer, `cursor` moves past
    /// the pointer and `inline` is false; otherwise the caller moves `cursor` past the value.
    @inline(__always)
    func open(_ cursor: inout Int) throws(DecodeError) -> (item: Item, inline: Bool) {
        let item = try header(at: cursor)
        guard item.type == DataType.pointer else { return (item, true) }
        let target = try header(at: item.size)
        guard target.type != DataType.pointer else {
            throw DecodeError(offset: cursor, reason: "pointer to a pointer")
        }
        cursor = item.payload
        return (target, false)
    }

    /// End offset of a scalar's payload, checked against the section.
    @inline(__always)
    private func scalarEnd(_ item: Item) throws(DecodeError) -> Int {
        guard item.size <= count, item.payload <= count - item.size else {
            throw DecodeError(offset: item.payload, reason: "value of \(item.size) bytes runs past the end of the data section")
        }
        return item.payload + item.size
    }

    /// Offset just past the value at `offset`; pointers are not followed.
    func skip(at offset: Int, depth: Int = 0) throws(DecodeError) -> Int {
        guard depth < DataSection.maximumDepth else { throw DecodeError(offset: offset, reason: "data nested too deeply") }
        let item = try header(at: offset)
        switch item.type {
        case DataType.pointer, DataType.boolean:
            return item.payload
        case DataType.map:
            var p = item.payload
            for _ in 0..<item.size {
                p = try skip(at: p, depth: depth + 1)
                p = try skip(at: p, depth: depth + 1)
            }
            return p
        case DataType.array:
            var p = item.payload
            for _ in 0..<item.size { p = try skip(at: p, depth: depth + 1) }
            return p
        case DataType.utf8String, DataType.double, DataType.bytes, DataType.uint16, DataType.uint32,
             DataType.int32, DataType.uint64, DataType.uint128, DataType.float:
            return try scalarEnd(item)
        default:
            throw DecodeError(offset: offset, reason: "unexpected type \(item.type) in data")
        }
    }

    // MARK: - Typed reads (each advances `cursor` past the value)

    /// A string value as (offset, length); nil (and skipped) when the value has another type.
    @inline(__always)
    func stringRange(_ cursor: inout Int) throws(DecodeError) -> (start: Int, length: Int)? {
        let (item, inline) = try open(&cursor)
        guard item.type == DataType.utf8String else {
            if inline { cursor = try skip(at: cursor) }
            return nil
        }
        let end = try scalarEnd(item)
        if inline { cursor = end }
        return (item.payload, item.size)
    }

    func string(_ cursor: inout Int) throws(DecodeError) -> String? {
        guard let (start, length) = try stringRange(&cursor) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: base + start, count: length), as: UTF8.self)
    }

    /// A map key; keys must be strings.
    @inline(__always)
    func key(_ cursor: inout Int) throws(DecodeError) -> (start: Int, length: Int) {
        let at = cursor
        guard let range = try stringRange(&cursor) else { throw DecodeError(offset: at, reason: "map key is not a string") }
        return range
    }

    @inline(__always)
    func matches(_ key: (start: Int, length: Int), _ name: StaticString) -> Bool {
        key.length == name.utf8CodeUnitCount && memcmp(base + key.start, name.utf8Start, key.length) == 0
    }

    /// An unsigned integer (uint16/32/64, or a non-negative int32) that fits UInt32.
    func uint32(_ cursor: inout Int) throws(DecodeError) -> UInt32? {
        let (item, inline) = try open(&cursor)
        switch item.type {
        case DataType.uint16, DataType.uint32, DataType.uint64, DataType.int32:
            let end = try scalarEnd(item)
            if inline { cursor = end }
            guard item.size <= 4 else {
                // uint64 with leading zero bytes still fits.
                var value: UInt64 = 0
                guard item.size <= 8 else { return nil }
                for i in 0..<item.size { value = value << 8 | UInt64(base[item.payload + i]) }
                return UInt32(exactly: value)
            }
            var value: UInt32 = 0
            for i in 0..<item.size { value = value << 8 | UInt32(base[item.payload + i]) }
            if item.type == DataType.int32, item.size == 4, value & 0x8000_0000 != 0 { return nil }
            return value
        default:
            if inline { cursor = try skip(at: cursor) }
            return nil
        }
    }

    func double(_ cursor: inout Int) throws(DecodeError) -> Double? {
        let (item, inline) = try open(&cursor)
        switch item.type {
        case DataType.double where item.size == 8:
            let end = try scalarEnd(item)
            if inline { cursor = end }
            var bits: UInt64 = 0
            for i in 0..<8 { bits = bits << 8 | UInt64(base[item.payload + i]) }
            return Double(bitPattern: bits)
        case DataType.float where item.size == 4:
            let end = try scalarEnd(item)
            if inline { cursor = end }
            var bits: UInt32 = 0
            for i in 0..<4 { bits = bits << 8 | UInt32(base[item.payload + i]) }
            return Double(Float(bitPattern: bits))
        default:
            if inline { cursor = try skip(at: cursor) }
            return nil
        }
    }

    /// The string under `name` in the map at `cursor` (e.g. continent -> code).
    func stringInMap(_ cursor: inout Int, _ name: StaticString) throws(DecodeError) -> String? {
        let (item, inline) = try open(&cursor)
        guard item.type == DataType.map else {
            if inline { cursor = try skip(at: cursor) }
            return nil
        }
        var p = item.payload
        var result: String?
        for _ in 0..<item.size {
            let k = try key(&p)
            if result == nil, matches(k, name) {
                result = try string(&p)
                // Reached through a pointer, nothing after the map needs its end: stop here.
                if !inline { break }
            } else {
                p = try skip(at: p, depth: 2)
            }
        }
        if inline { cursor = p }
        return result
    }

    /// The uint under `name` in the map at `cursor` (traits -> autonomous_system_number).
    func uint32InMap(_ cursor: inout Int, _ name: StaticString) throws(DecodeError) -> UInt32? {
        let (item, inline) = try open(&cursor)
        guard item.type == DataType.map else {
            if inline { cursor = try skip(at: cursor) }
            return nil
        }
        var p = item.payload
        var result: UInt32?
        for _ in 0..<item.size {
            let k = try key(&p)
            if result == nil, matches(k, name) {
                result = try uint32(&p)
                if !inline { break }
            } else {
                p = try skip(at: p, depth: 2)
            }
        }
        if inline { cursor = p }
        return result
    }

    /// subdivisions: an array of maps, each with iso_code.
    func subdivisions(_ cursor: inout Int) throws(DecodeError) -> [String] {
        let (item, inline) = try open(&cursor)
        guard item.type == DataType.array else {
            if inline { cursor = try skip(at: cursor) }
            return []
        }
        var p = item.payload
        var codes: [String] = []
        for _ in 0..<item.size {
            if let code = try stringInMap(&p, "iso_code") { codes.append(code) }
        }
        if inline { cursor = p }
        return codes
    }

    /// location: latitude and longitude.
    func location(_ cursor: inout Int) throws(DecodeError) -> (latitude: Double?, longitude: Double?) {
        let (item, inline) = try open(&cursor)
        guard item.type == DataType.map else {
            if inline { cursor = try skip(at: cursor) }
            return (nil, nil)
        }
        var p = item.payload
        var latitude: Double?, longitude: Double?
        for _ in 0..<item.size {
            let k = try key(&p)
            if matches(k, "latitude") { latitude = try double(&p) }
            else if matches(k, "longitude") { longitude = try double(&p) }
            else { p = try skip(at: p, depth: 2) }
            if !inline, latitude != nil, longitude != nil { break }
        }
        if inline { cursor = p }
        return (latitude, longitude)
    }

    /// The GeoRecord of the record whose data starts at `offset`.
    func geoRecord(at offset: Int) throws(DecodeError) -> GeoRecord {
        var cursor = offset
        let (item, _) = try open(&cursor)
        guard item.type == DataType.map else { throw DecodeError(offset: offset, reason: "record is not a map") }
        var p = item.payload
        var record = GeoRecord()
        var traitsASN: UInt32?
        for _ in 0..<item.size {
            let k = try key(&p)
            if matches(k, "continent") { record.continent = try stringInMap(&p, "code") }
            else if matches(k, "country") { record.country = try stringInMap(&p, "iso_code") }
            else if matches(k, "subdivisions") { record.subdivisions = try subdivisions(&p) }
            else if matches(k, "location") { (record.latitude, record.longitude) = try location(&p) }
            else if matches(k, "autonomous_system_number") { record.asn = try uint32(&p) }
            else if matches(k, "traits") { traitsASN = try uint32InMap(&p, "autonomous_system_number") }
            else { p = try skip(at: p, depth: 1) }
        }
        if record.asn == nil { record.asn = traitsASN }
        return record
    }
}
