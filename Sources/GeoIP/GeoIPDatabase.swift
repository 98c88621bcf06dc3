import CMaxMindDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A MaxMind DB (format 2.x) opened read-only and memory-mapped through libmaxminddb.
///
/// Opening checks more than libmaxminddb does, so that a bad file is reported with a reason
/// instead of surfacing later as wrong answers: the metadata is decoded and each required field
/// checked, and the search tree plus the 16-byte separator must end before the metadata marker.
/// Lookups walk the tree in libmaxminddb and decode the record with a bounds-checked reader
/// (`DataSection`) that reads only the fields of `GeoRecord`.
///
/// Thread safety: `@unchecked Sendable` because the class only holds an `MMDB_s` that is never
/// mutated after `init` (libmaxminddb documents MMDB_lookup_* and MMDB_read_node on an
/// MMDB_MODE_MMAP database as safe from many threads) and immutable Swift values.
public final class GeoIPDatabase: @unchecked Sendable {
    public let path: String
    public let metadata: GeoIPMetadata
    private let mmdb: UnsafeMutablePointer<MMDB_s>
    let data: DataSection
    /// 32 for an IPv4 tree, 128 for an IPv6 tree.
    let treeDepth: Int
    /// The node of ::/96 in an IPv6 tree (where IPv4 space starts), if the tree has one.
    let ipv4StartNode: UInt32?
    /// IPv6 networks whose subtree is the IPv4 tree (MaxMind's aliases: ::ffff:0:0/96,
    /// Teredo 2001::/32, 6to4 2002::/16 — whichever this database has). A lookup of an address
    /// in one of them continues with the 32 bits that follow the alias prefix as an IPv4
    /// address: 2002:0808:0808::1 is answered from 8.8.8.8's network (prefix 16 + the IPv4
    /// prefix). `enumerateNetworks` skips these subtrees; use this list to map them.
    public let ipv4Aliases: [GeoNetwork]

    public init(path: String) throws(GeoIPError) {
        self.path = path
        let fileSize = try GeoIPDatabase.checkFile(path)
        let check = try MetadataCheck.read(path: path, fileSize: fileSize)

        let mmdb = UnsafeMutablePointer<MMDB_s>.allocate(capacity: 1)
        mmdb.initialize(to: MMDB_s())
        let status = MMDB_open(path, UInt32(MMDB_MODE_MMAP), mmdb)
        guard status == MMDB_SUCCESS else {
            let savedErrno = errno
            mmdb.deallocate()
            throw GeoIPDatabase.openError(status, errno: savedErrno, path: path)
        }
        self.mmdb = mmdb
        let raw = mmdb.pointee
        treeDepth = raw.metadata.ip_version == 4 ? 32 : 128

        // The data section as the spec defines it: from the separator to the metadata marker.
        let dataStart = Int(cmmdb_data_section_offset(mmdb))
        let dataEnd = check.markerOffset
        guard let content = raw.file_content, dataStart <= dataEnd, dataEnd <= raw.file_size else {
            MMDB_close(mmdb)
            mmdb.deallocate()
            throw GeoIPError(.corrupt, path: path, "the search tree overlaps the metadata section")
        }
        data = DataSection(base: content + dataStart, count: dataEnd - dataStart)

        if treeDepth == 128, raw.ipv4_start_node.netmask == 96, raw.ipv4_start_node.node_value < raw.metadata.node_count {
            ipv4StartNode = raw.ipv4_start_node.node_value
        } else {
            ipv4StartNode = nil
        }

        var aliases: [GeoNetwork] = []
        if let start = ipv4StartNode {
            let candidates: [(UInt128, Int)] = [(0xffff << 32, 96), (0x2001 << 112, 32), (0x2002 << 112, 16)]
            for (address, length) in candidates
            where GeoIPDatabase.node(mmdb, at: address, depth: length) == start {
                aliases.append(GeoNetwork(family: .v6, address: address, prefixLength: length))
            }
        }
        ipv4Aliases = aliases

        var description: [String: String] = [:]
        if let descriptions = raw.metadata.description.descriptions {
            for i in 0..<raw.metadata.description.count {
                if let entry = descriptions[i], let language = entry.pointee.language, let text = entry.pointee.description {
                    description[String(cString: language)] = String(cString: text)
                }
            }
        }
        var languages: [String] = []
        if let names = raw.metadata.languages.names {
            for i in 0..<raw.metadata.languages.count {
                if let name = names[i] { languages.append(String(cString: name)) }
            }
        }
        metadata = GeoIPMetadata(
            databaseType: raw.metadata.database_type.map { String(cString: $0) } ?? "",
            ipVersion: Int(raw.metadata.ip_version),
            binaryFormatMajor: Int(raw.metadata.binary_format_major_version),
            binaryFormatMinor: Int(raw.metadata.binary_format_minor_version),
            buildEpoch: raw.metadata.build_epoch,
            nodeCount: Int(raw.metadata.node_count),
            recordSize: Int(raw.metadata.record_size),
            description: description,
            languages: languages)
    }

    deinit {
        MMDB_close(mmdb)
        mmdb.deallocate()
    }

    // MARK: - Lookup

    /// Looks up an IPv4 address given as its numeric value (192.0.2.1 == 0xC0000201).
    public func lookup(ipv4: UInt32) -> GeoLookup {
        var error: Int32 = 0
        let result = cmmdb_lookup_ipv4(mmdb, ipv4, &error)
        guard error == MMDB_SUCCESS else { return GeoLookup(record: nil, prefixLength: 0) }
        // In an IPv6 tree libmaxminddb counts from the root: ::a.b.c.d/120 is IPv4 /24.
        let netmask = Int(result.netmask)
        let prefix = treeDepth == 128 ? max(0, netmask - 96) : netmask
        guard result.found_entry else { return GeoLookup(record: nil, prefixLength: prefix) }
        return GeoLookup(record: try? data.geoRecord(at: Int(result.entry.offset)), prefixLength: prefix)
    }

    /// Looks up an IPv6 address given as its numeric value. IPv4-mapped addresses
    /// (::ffff:a.b.c.d) are answered as IPv4, with an IPv4 prefix length.
    public func lookup(ipv6: UInt128) -> GeoLookup {
        if ipv6 >> 32 == 0xffff {
            return lookup(ipv4: UInt32(truncatingIfNeeded: ipv6))
        }
        guard treeDepth == 128 else { return GeoLookup(record: nil, prefixLength: 0) }
        var bytes = IPAddressText.bytes(ipv6: ipv6)
        var error: Int32 = 0
        let result = cmmdb_lookup_ipv6(mmdb, &bytes, &error)
        guard error == MMDB_SUCCESS else { return GeoLookup(record: nil, prefixLength: 0) }
        let prefix = Int(result.netmask)
        guard result.found_entry else { return GeoLookup(record: nil, prefixLength: prefix) }
        return GeoLookup(record: try? data.geoRecord(at: Int(result.entry.offset)), prefixLength: prefix)
    }

    /// Parses "1.2.3.4" or "2001:db8::1" and looks it up; nil if the text is not an address.
    public func lookup(_ text: String) -> GeoLookup? {
        switch IPAddressText.parse(text) {
        case .v4(let v4): return lookup(ipv4: v4)
        case .v6(let v6): return lookup(ipv6: v6)
        case nil: return nil
        }
    }

    /// The record stored at a data section offset (as found by a lookup or the tree walk).
    func record(atDataOffset offset: UInt32) -> GeoRecord? {
        try? data.geoRecord(at: Int(offset))
    }

    // MARK: - Enumeration

    /// Every network with data exactly once. IPv4 space (::/96 in an IPv6 tree) is reported as
    /// family .v4 with IPv4 prefix lengths; the IPv4 aliases (::ffff:0:0/96, 2002::/16, and any
    /// other subtree pointing at the ::/96 node) are skipped. Networks are visited in ascending
    /// address order within each family.
    ///
    /// The walk uses MMDB_read_node with an explicit stack, visits each node at most once (so a
    /// corrupt tree with shared or cyclic nodes still terminates), and decodes each distinct
    /// record once (many networks share one record). Records that do not decode are skipped.
    /// A data record above ::/96 that covers it (e.g. ::/8) is reported as that IPv6 network
    /// and as 0.0.0.0/0.
    public func enumerateNetworks(_ body: (GeoNetwork, GeoRecord) throws -> Void) rethrows {
        // Data offset -> index into `records` (nil entries: records that did not decode).
        var cache: [UInt32: Int32] = [:]
        cache.reserveCapacity(Int(min(mmdb.pointee.metadata.node_count / 16, 1 << 20)))
        var records: [GeoRecord?] = []
        try walkTree(resolve: { offset in
            let index: Int
            if let cached = cache[offset] {
                index = Int(cached)
            } else {
                index = records.count
                records.append(try? data.geoRecord(at: Int(offset)))
                cache[offset] = Int32(truncatingIfNeeded: index)
            }
            return records[index]
        }, body)
    }

    /// The same walk as `enumerateNetworks(_:)` (same networks, same order), for callers that
    /// only need one small label per record: each distinct record is decoded once when first
    /// met, passed to `label`, and dropped; only the label is kept per data offset. Peak memory
    /// is then the tree walk plus an offset -> label map instead of every decoded record.
    /// Records that do not decode are skipped (and not labelled).
    public func enumerateNetworks(labelling label: (GeoRecord) throws -> Int32,
                                  _ body: (GeoNetwork, Int32) throws -> Void) rethrows {
        var labels: [UInt32: Int32] = [:]
        // Sized for the whole walk up front: growing it doubles the table and holds both copies
        // during the rehash, the walk's heap peak (GeoLite2-City: 458k records, 3.6 M nodes).
        // Buckets never used are never touched, so a small database pays little for this.
        labels.reserveCapacity(Int(min(mmdb.pointee.metadata.node_count / 8, 1 << 21)))
        var undecodable = Set<UInt32>()
        try walkTree(resolve: { offset in
            if let cached = labels[offset] { return cached }
            if undecodable.contains(offset) { return nil }
            guard let record = try? data.geoRecord(at: Int(offset)) else {
                undecodable.insert(offset)
                return nil
            }
            let value = try label(record)
            labels[offset] = value
            return value
        }, body)
    }

    /// One pending record of the tree walk.
    private struct WalkEntry {
        var type: UInt8      // MMDB_RECORD_TYPE_*
        var value: UInt32    // node number or data offset
        var depth: Int
        var address: UInt128
    }

    /// The tree walk behind both `enumerateNetworks` variants: `resolve` maps a data offset to
    /// the value handed to `body` (nil: skip the network).
    private func walkTree<Value>(resolve: (UInt32) throws -> Value?,
                                 _ body: (GeoNetwork, Value) throws -> Void) rethrows {
        let nodeCount = mmdb.pointee.metadata.node_count
        let width = treeDepth
        var visited = [UInt64](repeating: 0, count: Int(nodeCount) / 64 + 1)

        var stack: [WalkEntry] = [WalkEntry(type: UInt8(MMDB_RECORD_TYPE_SEARCH_NODE), value: 0, depth: 0, address: 0)]
        stack.reserveCapacity(2 * width + 2)
        var node = MMDB_search_node_s()
        // The walk reads the whole tree and most of the data section; without this every page
        // it touched would stay in our RSS (55 MB for GeoLite2-City) until the file is closed.
        var pages = WalkPages(mmdb)
        defer { releaseMappedPages() }

        while let entry = stack.popLast() {
            pages?.step()
            switch Int32(entry.type) {
            case MMDB_RECORD_TYPE_SEARCH_NODE:
                let n = entry.value
                guard n < nodeCount, entry.depth < width else { continue }
                if let v4 = ipv4StartNode, n == v4, !(entry.depth == 96 && entry.address == 0) { continue }
                let word = Int(n >> 6), bit = UInt64(1) << UInt64(n & 63)
                guard visited[word] & bit == 0 else { continue }
                visited[word] |= bit
                guard MMDB_read_node(mmdb, n, &node) == MMDB_SUCCESS else { continue }
                pages?.read(node: n)
                let depth = entry.depth + 1
                let right = entry.address | (UInt128(1) << (width - depth))
                stack.append(WalkEntry(type: node.right_record_type, value: node.right_record_type == UInt8(MMDB_RECORD_TYPE_DATA)
                                   ? node.right_record_entry.offset : UInt32(truncatingIfNeeded: node.right_record),
                                   depth: depth, address: right))
                stack.append(WalkEntry(type: node.left_record_type, value: node.left_record_type == UInt8(MMDB_RECORD_TYPE_DATA)
                                   ? node.left_record_entry.offset : UInt32(truncatingIfNeeded: node.left_record),
                                   depth: depth, address: entry.address))
            case MMDB_RECORD_TYPE_DATA:
                guard let record = try resolve(entry.value) else { continue }
                if width == 32 {
                    try body(GeoNetwork(family: .v4, address: entry.address, prefixLength: entry.depth), record)
                } else if entry.depth >= 96 && entry.address >> 32 == 0 {
                    try body(GeoNetwork(family: .v4, address: entry.address, prefixLength: entry.depth - 96), record)
                } else {
                    try body(GeoNetwork(family: .v6, address: entry.address, prefixLength: entry.depth), record)
                    if entry.address == 0 {
                        try body(GeoNetwork(family: .v4, address: 0, prefixLength: 0), record)
                    }
                }
            default:
                continue  // empty or invalid record
            }
        }
    }

    /// Gives the tree walk's file pages back as it goes (see `releaseMappedPages`), in two
    /// parts. The search tree is read once, in node order (MaxMind's writers number nodes
    /// depth-first, which is the walk's order), so the pages behind the highest node read are
    /// released often and never faulted back. The data section is read all over and its shared
    /// parts (names, maps) again and again, so it is released whole and less often; each time
    /// its hot pages fault back in from the page cache. If a database numbers its nodes
    /// otherwise, the cost is refaults, never wrong data.
    ///
    /// GeoLite2-City, `geodns check` (bench/RESULTS.md, Memory): peak RSS 98 MB without any
    /// release; 65 MB releasing only the tree; 63.5 MB also releasing the data section every
    /// 2^19 steps (~13 times, +4k page faults); 62 MB every 2^17 (+14k faults, ~+60 ms).
    /// The data section is 31 MB and its records spread over all of it, so releasing it more
    /// often buys little: this takes the middle, for ~40-60 ms more walk (~560 -> ~610 ms).
    private struct WalkPages {
        /// Walk steps (records popped; ~7 M for GeoLite2-City) between releases.
        static let treeInterval = 1 << 15
        static let dataInterval = 1 << 19

        let base: UnsafeMutableRawPointer
        let pageSize: Int
        let nodeBytes: Int
        let treeEnd: Int
        let fileSize: Int
        var treeReleased = 0
        var highestNode = 0
        var steps = 0

        init?(_ mmdb: UnsafeMutablePointer<MMDB_s>) {
            let raw = mmdb.pointee
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            guard let content = raw.file_content, raw.file_size > 0, page > 0 else { return nil }
            base = UnsafeMutableRawPointer(mutating: content)
            pageSize = page
            nodeBytes = Int(raw.full_record_byte_size)
            fileSize = Int(raw.file_size)
            treeEnd = min(Int(raw.metadata.node_count) * nodeBytes, fileSize)
        }

        mutating func read(node: UInt32) {
            highestNode = max(highestNode, Int(node))
        }

        mutating func step() {
            steps &+= 1
            if steps % WalkPages.treeInterval == 0 {
                let behind = min(highestNode * nodeBytes, treeEnd) / pageSize * pageSize
                if behind > treeReleased {
                    _ = madvise(base + treeReleased, behind - treeReleased, MADV_DONTNEED)
                    treeReleased = behind
                }
            }
            if steps % WalkPages.dataInterval == 0 {
                let from = treeEnd / pageSize * pageSize
                _ = madvise(base + from, fileSize - from, MADV_DONTNEED)
            }
        }
    }

    /// Drops the file mapping's pages from this process's resident set. The mapping is
    /// read-only and MAP_SHARED (libmaxminddb maps the file with PROT_READ, MAP_SHARED), so
    /// MADV_DONTNEED loses nothing: the pages stay in the page cache and a later access (a
    /// lookup, from any thread) faults them back in without I/O. What it saves is peak RSS
    /// after walks that touch the whole file (bench/RESULTS.md, Memory).
    public func releaseMappedPages() {
        guard let content = mmdb.pointee.file_content, mmdb.pointee.file_size > 0 else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: content), Int(mmdb.pointee.file_size), MADV_DONTNEED)
    }

    /// The search node at `address/depth`, or nil when the path ends (data or empty) before.
    static func node(_ mmdb: UnsafeMutablePointer<MMDB_s>, at address: UInt128, depth: Int) -> UInt32? {
        var n: UInt32 = 0
        var node = MMDB_search_node_s()
        for i in 0..<depth {
            guard MMDB_read_node(mmdb, n, &node) == MMDB_SUCCESS else { return nil }
            let right = (address >> (127 - i)) & 1 == 1
            let type = right ? node.right_record_type : node.left_record_type
            guard type == UInt8(MMDB_RECORD_TYPE_SEARCH_NODE) else { return nil }
            n = UInt32(truncatingIfNeeded: right ? node.right_record : node.left_record)
        }
        return n
    }

    // MARK: - Opening checks

    /// stat + open: the plain file-system reasons, each with its own message. Returns the size.
    static func checkFile(_ path: String) throws(GeoIPError) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw GeoIPError(.notFound, path: path, "no such file") }
            throw GeoIPError(.unreadable, path: path, "cannot read: \(errorText(code))")
        }
        let kind = info.st_mode & S_IFMT
        if kind == S_IFDIR { throw GeoIPError(.notAFile, path: path, "is a directory, not a MaxMind DB file") }
        guard kind == S_IFREG else { throw GeoIPError(.notAFile, path: path, "is not a regular file") }
        guard info.st_size > 0 else { throw GeoIPError(.empty, path: path, "empty file (0 bytes), not a MaxMind DB") }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw GeoIPError(.unreadable, path: path, "cannot open: \(errorText(errno))") }
        close(fd)
        return Int(info.st_size)
    }

    static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    static func openError(_ status: Int32, errno code: Int32, path: String) -> GeoIPError {
        let library = MMDB_strerror(status).map { String(cString: $0) } ?? "error \(status)"
        switch status {
        case MMDB_FILE_OPEN_ERROR: return GeoIPError(.unreadable, path: path, "cannot open: \(errorText(code))")
        case MMDB_IO_ERROR, MMDB_OUT_OF_MEMORY_ERROR: return GeoIPError(.unreadable, path: path, "cannot map the file: \(library)")
        case MMDB_UNKNOWN_DATABASE_FORMAT_ERROR: return GeoIPError(.unsupportedFormat, path: path, "libmaxminddb: \(library)")
        case MMDB_INVALID_METADATA_ERROR: return GeoIPError(.invalidMetadata, path: path, "libmaxminddb: \(library)")
        default: return GeoIPError(.corrupt, path: path, "libmaxminddb: \(library)")
        }
    }
}
