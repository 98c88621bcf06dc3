#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The metadata checks made before handing a file to libmaxminddb, so each way a file can be
/// wrong gets its own message (libmaxminddb reports most of them as one
/// "invalid metadata" code). Spec: "Database Metadata" — the last occurrence of
/// "\xAB\xCD\xEFMaxMind.com" within the final 128 KiB starts a map that must hold node_count,
/// record_size, ip_version, database_type, languages, binary_format_major_version,
/// binary_format_minor_version, build_epoch and description.
struct MetadataCheck {
    static let marker: [UInt8] = [0xAB, 0xCD, 0xEF] + Array("MaxMind.com".utf8)
    static let maximumMetadataSize = 128 * 1024

    /// File offset of the marker: the data section ends here.
    var markerOffset: Int
    var nodeCount: Int
    var recordSize: Int
    var ipVersion: Int

    static func read(path: String, fileSize: Int) throws(GeoIPError) -> MetadataCheck {
        let tailSize = min(fileSize, maximumMetadataSize)
        let tailStart = fileSize - tailSize
        let tail = try readBytes(path: path, offset: tailStart, count: tailSize)

        guard let markerIndex = lastIndex(of: marker, in: tail) else {
            if looksLikeText(tail.suffix(4096)) {
                throw GeoIPError(.notMaxMind, path: path, "a text file, not a MaxMind DB (no metadata marker)")
            }
            throw GeoIPError(.notMaxMind, path: path,
                             "not a MaxMind DB file: no metadata marker (\\xAB\\xCD\\xEFMaxMind.com) in its last 128 KiB; "
                             + "the file is another format or was truncated")
        }
        let metadataStart = markerIndex + marker.count
        var fields = Fields()
        do throws(DataSection.DecodeError) {
            fields = try tail.withUnsafeBufferPointer { buffer throws(DataSection.DecodeError) -> Fields in
                guard let base = buffer.baseAddress else { throw DataSection.DecodeError(offset: 0, reason: "no metadata") }
                let section = DataSection(base: base + metadataStart, count: buffer.count - metadataStart)
                return try Fields.decode(section)
            }
        } catch {
            throw GeoIPError(.invalidMetadata, path: path, "the metadata section does not decode: \(error.reason) at offset \(error.offset)")
        }

        func missing(_ name: String, _ type: String) -> GeoIPError {
            GeoIPError(.invalidMetadata, path: path, "metadata has no \(name) (\(type))")
        }
        guard let major = fields.binaryFormatMajor else { throw missing("binary_format_major_version", "uint16") }
        guard major == 2 else {
            throw GeoIPError(.unsupportedFormat, path: path, "binary_format_major_version is \(major); only MaxMind DB format 2 is supported")
        }
        guard fields.binaryFormatMinor != nil else { throw missing("binary_format_minor_version", "uint16") }
        guard let nodeCount = fields.nodeCount else { throw missing("node_count", "uint32") }
        guard nodeCount > 0 else { throw GeoIPError(.invalidMetadata, path: path, "node_count is 0") }
        guard let recordSize = fields.recordSize else { throw missing("record_size", "uint16") }
        guard recordSize == 24 || recordSize == 28 || recordSize == 32 else {
            throw GeoIPError(.unsupportedFormat, path: path, "record_size is \(recordSize); it must be 24, 28 or 32")
        }
        guard let ipVersion = fields.ipVersion else { throw missing("ip_version", "uint16") }
        guard ipVersion == 4 || ipVersion == 6 else {
            throw GeoIPError(.invalidMetadata, path: path, "ip_version is \(ipVersion); it must be 4 or 6")
        }
        guard fields.databaseType else { throw missing("database_type", "string") }
        guard fields.languages else { throw missing("languages", "array of strings") }
        guard fields.description else { throw missing("description", "map of strings") }
        guard let epoch = fields.buildEpoch, epoch > 0 else { throw missing("build_epoch", "non-zero uint64") }

        let markerOffset = tailStart + markerIndex
        // Both factors are bounded (UInt32 and 32/4), so this cannot overflow an Int.
        let treeBytes = Int(nodeCount) * (Int(recordSize) / 4)
        guard treeBytes + 16 < markerOffset else {
            throw GeoIPError(.corrupt, path: path,
                             "truncated or corrupt: its search tree (\(nodeCount) nodes of \(recordSize)-bit records) needs "
                             + "\(treeBytes + 16) bytes before the data section, but only \(markerOffset) bytes precede the metadata")
        }
        return MetadataCheck(markerOffset: markerOffset, nodeCount: Int(nodeCount), recordSize: Int(recordSize), ipVersion: Int(ipVersion))
    }

    /// The metadata map's fields that opening depends on.
    struct Fields {
        var nodeCount: UInt32?, recordSize: UInt32?, ipVersion: UInt32?
        var binaryFormatMajor: UInt32?, binaryFormatMinor: UInt32?, buildEpoch: UInt64?
        var databaseType = false, languages = false, description = false

        static func decode(_ section: DataSection) throws(DataSection.DecodeError) -> Fields {
            var fields = Fields()
            var cursor = 0
            let (map, _) = try section.open(&cursor)
            guard map.type == DataSection.DataType.map else { throw DataSection.DecodeError(offset: 0, reason: "metadata is not a map") }
            var p = map.payload
            for _ in 0..<map.size {
                let key = try section.key(&p)
                if section.matches(key, "node_count") { fields.nodeCount = try section.uint32(&p) }
                else if section.matches(key, "record_size") { fields.recordSize = try section.uint32(&p) }
                else if section.matches(key, "ip_version") { fields.ipVersion = try section.uint32(&p) }
                else if section.matches(key, "binary_format_major_version") { fields.binaryFormatMajor = try section.uint32(&p) }
                else if section.matches(key, "binary_format_minor_version") { fields.binaryFormatMinor = try section.uint32(&p) }
                else if section.matches(key, "build_epoch") { fields.buildEpoch = try section.uint64(&p) }
                else if section.matches(key, "database_type") { fields.databaseType = try section.string(&p) != nil }
                else if section.matches(key, "languages") { fields.languages = try section.isType(&p, DataSection.DataType.array) }
                else if section.matches(key, "description") { fields.description = try section.isType(&p, DataSection.DataType.map) }
                else { p = try section.skip(at: p, depth: 1) }
            }
            return fields
        }
    }

    static func readBytes(path: String, offset: Int, count: Int) throws(GeoIPError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw GeoIPError(.unreadable, path: path, "cannot open: \(GeoIPDatabase.errorText(errno))") }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress.map { $0 + done }, count - done, off_t(offset + done))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw GeoIPError(.unreadable, path: path, n == 0 ? "file shrank while being read" : "read error: \(GeoIPDatabase.errorText(errno))")
            }
            done += n
        }
        return bytes
    }

    static func lastIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.count - needle.count
        while i >= 0 {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i -= 1
        }
        return nil
    }

    /// Printable ASCII/UTF-8 and whitespace only.
    static func looksLikeText(_ bytes: ArraySlice<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || ($0 >= 0x20 && $0 != 0x7F) }
    }
}

extension DataSection {
    func uint64(_ cursor: inout Int) throws(DecodeError) -> UInt64? {
        let (item, inline) = try open(&cursor)
        switch item.type {
        case DataType.uint16, DataType.uint32, DataType.uint64:
            guard item.size <= 8, item.size <= count, item.payload <= count - item.size else {
                throw DecodeError(offset: item.payload, reason: "value runs past the end")
            }
            if inline { cursor = item.payload + item.size }
            var value: UInt64 = 0
            for i in 0..<item.size { value = value << 8 | UInt64(base[item.payload + i]) }
            return value
        default:
            if inline { cursor = try skip(at: cursor) }
            return nil
        }
    }

    /// Whether the value at `cursor` has `type`; skips it either way.
    func isType(_ cursor: inout Int, _ type: UInt8) throws(DecodeError) -> Bool {
        let start = cursor
        let (item, inline) = try open(&cursor)
        if inline { cursor = try skip(at: start) }
        return item.type == type
    }
}
