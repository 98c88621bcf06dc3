#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a MaxMind DB (format 2.0) file in pure Swift: an IPv6 search tree with IPv4 networks
/// under ::/96 and the aliases ::ffff:0:0/96 (IPv4-mapped) and 2002::/16 (6to4) pointing at the
/// same node, a data section holding each distinct record once, and the metadata map.
///
/// Output is deterministic: networks are inserted in (prefix length, address) order, nodes are
/// numbered in creation order, records are laid out in order of first use, and map keys are
/// sorted — so the same input gives the same bytes.
///
/// Layout (spec "Database Format"): `node_count * record_size * 2 / 8` bytes of search tree,
/// 16 zero bytes, the data section, then "\xAB\xCD\xEFMaxMind.com" and the metadata map.
/// A record value < node_count is a node, == node_count is "no data", and
/// node_count + 16 + offset points at data section `offset`.
public struct MMDBWriter: Sendable {
    public var databaseType: String
    public var description: [String: String]
    public var languages: [String]
    /// Seconds since the epoch; must be non-zero (libmaxminddb rejects 0).
    public var buildEpoch: UInt64
    /// 24, 28 or 32; nil picks the smallest that can address the tree and data.
    public var recordSize: Int?
    /// 6 (default): an IPv6 tree holding IPv4 under ::/96 with the ::ffff:0:0/96 alias.
    /// 4: an IPv4-only tree (32 levels); IPv6 networks are then an error.
    public var ipVersion: Int = 6

    struct Entry: Sendable {
        var network: GeoNetwork
        var value: MMDBValue
        var line: Int?
    }
    private(set) var entries: [Entry] = []

    public init(databaseType: String, description: [String: String] = [:], languages: [String] = ["en"],
                buildEpoch: UInt64, recordSize: Int? = nil) {
        self.databaseType = databaseType
        self.description = description
        self.languages = languages
        self.buildEpoch = buildEpoch
        self.recordSize = recordSize
    }

    /// Adds a network with a GeoIP2-City-shaped record. `line` is quoted in errors.
    public mutating func insert(_ network: GeoNetwork, record: GeoRecord, line: Int? = nil) {
        entries.append(Entry(network: network, value: record.mmdbValue, line: line))
    }

    /// Adds a network with an arbitrary data value (a map, for GeoIP2-compatible readers).
    public mutating func insert(_ network: GeoNetwork, value: MMDBValue, line: Int? = nil) {
        entries.append(Entry(network: network, value: value, line: line))
    }

    /// Slot of a tree node: what one of its two records holds.
    private enum Slot: Equatable {
        case empty
        case node(Int)
        case data(Int)
    }

    /// Builds the file. `path` only labels errors.
    public func serialize(path: String = "<mmdb>") throws(GeoIPError) -> [UInt8] {
        guard buildEpoch > 0 else { throw GeoIPError(.invalidSource, path: path, "build_epoch must be non-zero (libmaxminddb rejects 0)") }
        guard !databaseType.isEmpty else { throw GeoIPError(.invalidSource, path: path, "database_type must not be empty") }

        // Place every network in the IPv6 tree; reject what would collide with the alias.
        struct Placed { var address: UInt128; var length: Int; var entry: Entry }
        var placed: [Placed] = []
        placed.reserveCapacity(entries.count)
        let mappedPrefix: UInt128 = 0xffff << 32
        for entry in entries {
            let n = entry.network
            guard n.prefixLength >= 0, n.prefixLength <= n.width, n.address & ~GeoNetwork.mask(n.prefixLength, width: n.width) == 0 else {
                throw GeoIPError(.invalidSource, path: path, line: entry.line, "\(n): bits set past the prefix length")
            }
            if ipVersion == 4 {
                guard n.family == .v4 else {
                    throw GeoIPError(.invalidSource, path: path, line: entry.line, "\(n): an IPv4 database cannot hold IPv6 networks")
                }
                // Same code path as IPv6: the 32 bits sit at the top of the 128-bit path.
                placed.append(Placed(address: n.address << 96, length: n.prefixLength, entry: entry))
            } else if n.family == .v4 {
                placed.append(Placed(address: n.address, length: n.prefixLength + 96, entry: entry))
            } else {
                if n.prefixLength >= 96, n.address >> 32 == 0xffff || n.address >> 32 == 0 {
                    throw GeoIPError(.invalidSource, path: path, line: entry.line,
                                     "\(n): IPv4-mapped and IPv4-compatible networks must be written as IPv4 networks")
                }
                if n.prefixLength >= 16, n.address >> 112 == 0x2002 {
                    throw GeoIPError(.invalidSource, path: path, line: entry.line,
                                     "\(n): 2002::/16 (6to4) is an alias of IPv4 space; write the IPv4 network instead")
                }
                placed.append(Placed(address: n.address, length: n.prefixLength, entry: entry))
            }
        }
        // Less specific first, so a more specific network splits an existing leaf.
        placed.sort { ($0.length, $0.address) < ($1.length, $1.address) }
        for i in placed.indices.dropFirst() where placed[i].length == placed[i - 1].length && placed[i].address == placed[i - 1].address {
            let first = placed[i - 1].entry.line.map { " (first on line \($0))" } ?? ""
            throw GeoIPError(.invalidSource, path: path, line: placed[i].entry.line, "duplicate network \(placed[i].entry.network)\(first)")
        }

        // Distinct records, in order of first use.
        var recordIndex: [MMDBValue: Int] = [:]
        var records: [MMDBValue] = []
        func index(of value: MMDBValue) -> Int {
            if let i = recordIndex[value] { return i }
            records.append(value)
            recordIndex[value] = records.count - 1
            return records.count - 1
        }

        var nodes: [[Slot]] = [[.empty, .empty]]
        func bit(_ address: UInt128, _ i: Int) -> Int { Int(truncatingIfNeeded: (address >> (127 - i)) & 1) }
        /// The node whose child `bit(address, length - 1)` is the slot of `address/length`,
        /// creating nodes (and splitting data leaves) on the way.
        func parentNode(of address: UInt128, length: Int) -> Int {
            var n = 0
            for i in 0..<(length - 1) {
                let b = bit(address, i)
                switch nodes[n][b] {
                case .node(let m):
                    n = m
                case .empty:
                    nodes.append([.empty, .empty])
                    nodes[n][b] = .node(nodes.count - 1)
                    n = nodes.count - 1
                case .data(let r):
                    nodes.append([.data(r), .data(r)])
                    nodes[n][b] = .node(nodes.count - 1)
                    n = nodes.count - 1
                }
            }
            return n
        }

        var hasIPv4 = false
        for p in placed {
            let r = index(of: p.entry.value)
            if p.entry.network.family == .v4 { hasIPv4 = true }
            if p.length == 0 {
                // ::/0 (sorted first): the root node's two halves both hold the record.
                nodes[0] = [.data(r), .data(r)]
                continue
            }
            let parent = parentNode(of: p.address, length: p.length)
            nodes[parent][bit(p.address, p.length - 1)] = .data(r)
        }
        guard ipVersion == 4 || ipVersion == 6 else {
            throw GeoIPError(.invalidSource, path: path, "ip_version \(ipVersion) is not 4 or 6")
        }
        if hasIPv4 && ipVersion == 6 {
            // ::ffff:0:0/96 -> whatever ::/96 holds (node or data): v4-mapped queries answer as IPv4.
            let v4Parent = parentNode(of: 0, length: 96)
            let v4Slot = nodes[v4Parent][0]
            let aliasParent = parentNode(of: mappedPrefix, length: 96)
            nodes[aliasParent][1] = v4Slot
            // 2002::/16 -> the same: a 6to4 address 2002:AABB:CCDD::/48 embeds IPv4 a.b.c.d
            // (RFC 3056), as MaxMind's own databases alias it.
            let sixToFour: UInt128 = 0x2002 << 112
            let sixToFourParent = parentNode(of: sixToFour, length: 16)
            nodes[sixToFourParent][bit(sixToFour, 15)] = v4Slot
        }

        // Data section.
        var encoder = MMDBEncoder()
        var offsets: [Int] = []
        offsets.reserveCapacity(records.count)
        for value in records {
            offsets.append(encoder.bytes.count)
            encoder.encode(value)
        }
        guard !encoder.overflowed else { throw GeoIPError(.invalidSource, path: path, "a value is too large for the MaxMind DB format") }
        let dataBytes = encoder.bytes

        let nodeCount = nodes.count
        let largest = nodeCount + 16 + dataBytes.count
        let size: Int
        if let recordSize {
            guard [24, 28, 32].contains(recordSize) else {
                throw GeoIPError(.invalidSource, path: path, "record size \(recordSize) is not 24, 28 or 32")
            }
            guard UInt64(largest) < UInt64(1) << UInt64(recordSize) else {
                throw GeoIPError(.invalidSource, path: path, "\(recordSize)-bit records cannot address \(nodeCount) nodes and \(dataBytes.count) data bytes")
            }
            size = recordSize
        } else if largest < 1 << 24 { size = 24 }
        else if largest < 1 << 28 { size = 28 }
        else if UInt64(largest) < UInt64(1) << 32 { size = 32 }
        else { throw GeoIPError(.invalidSource, path: path, "database too large for 32-bit records") }

        func value(_ slot: Slot) -> UInt32 {
            switch slot {
            case .empty: return UInt32(nodeCount)
            case .node(let m): return UInt32(m)
            case .data(let r): return UInt32(nodeCount + 16 + offsets[r])
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(nodeCount * size / 4 + 16 + dataBytes.count + 256)
        for node in nodes {
            let l = value(node[0]), r = value(node[1])
            switch size {
            case 24:
                out += [UInt8(truncatingIfNeeded: l >> 16), UInt8(truncatingIfNeeded: l >> 8), UInt8(truncatingIfNeeded: l),
                        UInt8(truncatingIfNeeded: r >> 16), UInt8(truncatingIfNeeded: r >> 8), UInt8(truncatingIfNeeded: r)]
            case 28:
                out += [UInt8(truncatingIfNeeded: l >> 16), UInt8(truncatingIfNeeded: l >> 8), UInt8(truncatingIfNeeded: l),
                        UInt8(truncatingIfNeeded: (l >> 24) & 0x0f) << 4 | UInt8(truncatingIfNeeded: (r >> 24) & 0x0f),
                        UInt8(truncatingIfNeeded: r >> 16), UInt8(truncatingIfNeeded: r >> 8), UInt8(truncatingIfNeeded: r)]
            default:
                out += [UInt8(truncatingIfNeeded: l >> 24), UInt8(truncatingIfNeeded: l >> 16), UInt8(truncatingIfNeeded: l >> 8), UInt8(truncatingIfNeeded: l),
                        UInt8(truncatingIfNeeded: r >> 24), UInt8(truncatingIfNeeded: r >> 16), UInt8(truncatingIfNeeded: r >> 8), UInt8(truncatingIfNeeded: r)]
            }
        }
        out += [UInt8](repeating: 0, count: 16)
        out += dataBytes
        out += MetadataCheck.marker
        var meta = MMDBEncoder()
        meta.encode(.map([
            "node_count": .uint32(UInt32(nodeCount)),
            "record_size": .uint16(UInt16(size)),
            "ip_version": .uint16(UInt16(truncatingIfNeeded: ipVersion)),
            "database_type": .string(databaseType),
            "languages": .array(languages.map { .string($0) }),
            "binary_format_major_version": .uint16(2),
            "binary_format_minor_version": .uint16(0),
            "build_epoch": .uint64(buildEpoch),
            "description": .map(description.mapValues { .string($0) }),
        ]))
        guard !meta.overflowed else { throw GeoIPError(.invalidSource, path: path, "metadata too large") }
        out += meta.bytes
        return out
    }

    /// Serializes and writes atomically (temporary file + rename) to `path`.
    public func write(to path: String) throws(GeoIPError) {
        let bytes = try serialize(path: path)
        try MMDBWriter.writeFile(bytes, to: path)
    }

    static func writeFile(_ bytes: [UInt8], to path: String) throws(GeoIPError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw GeoIPError(.writeFailed, path: path, "cannot create: \(GeoIPDatabase.errorText(errno))") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                posixWrite(fd, raw.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let message = GeoIPDatabase.errorText(errno)
                close(fd)
                unlink(temporary)
                throw GeoIPError(.writeFailed, path: path, "write failed: \(message)")
            }
            written += n
        }
        guard close(fd) == 0, rename(temporary, path) == 0 else {
            let message = GeoIPDatabase.errorText(errno)
            unlink(temporary)
            throw GeoIPError(.writeFailed, path: path, "cannot write: \(message)")
        }
    }
}

#if canImport(Glibc)
private let posixWrite = Glibc.write
#elseif canImport(Musl)
private let posixWrite = Musl.write
#elseif canImport(Darwin)
private let posixWrite = Darwin.write
#endif
