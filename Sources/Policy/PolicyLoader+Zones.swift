import DNSWire
import Yams

// zones:
extension PolicyLoader {
    static let recordTypes: [String] = ["A", "AAAA", "CNAME", "NS", "MX", "TXT", "SRV", "PTR", "CAA", "HTTPS", "SVCB"]
    /// Other registered types (IANA DNS parameters) a zone may carry elsewhere but records: does not.
    static let otherTypes: Set<String> = ["LOC", "SSHFP", "TLSA", "SMIMEA", "OPENPGPKEY", "NAPTR", "URI", "CERT", "DS",
                                          "DNSKEY", "RRSIG", "NSEC", "NSEC3", "CDS", "CDNSKEY", "ZONEMD", "HINFO", "RP", "AFSDB"]
    /// Types people reach for that records: does not take, with what to write instead.
    static let unsupportedTypes: [String: String] = [
        "SPF": "SPF policies are TXT records (RFC 7208 §3.1): write TXT: [\"v=spf1 ...\"]",
        "ALIAS": "ALIAS/ANAME is not a DNS type: write a CNAME below the apex, or steer the name to an A/AAAA pool",
        "ANAME": "ALIAS/ANAME is not a DNS type: write a CNAME below the apex, or steer the name to an A/AAAA pool",
        "DNAME": "DNAME is not served; write a CNAME per name",
    ]

    static func parseZones(_ node: YNode, reader: YAMLReader, into spec: inout PolicySpec) {
        guard let entries = reader.mapping(node, "zones") else { return }
        // All apexes first: a name in one zone may fall inside a more specific one.
        var apexes: [(name: DomainName, entry: Int)] = []
        var seen: [DomainName: SourcePosition] = [:]
        for (i, entry) in entries.enumerated() {
            guard let apex = parseName(entry.key, at: entry.keyNode, origin: .root, reader: reader,
                                       what: "zone name", allowWildcard: false) else { continue }
            if apex.isRoot { reader.error(entry.keyNode, "a zone cannot be the root"); continue }
            if let first = seen[apex] {
                reader.error(entry.keyNode, "zone \(apex.lowercased()) is defined twice (first at \(first))")
                continue
            }
            seen[apex] = SourcePosition(entry.keyNode.mark)
            apexes.append((apex, i))
        }
        if entries.isEmpty { reader.error(node, "zones: is empty; define at least one zone") }
        let allApexes = apexes.map(\.name)
        for (apex, i) in apexes {
            let entry = entries[i]
            let children = allApexes.filter { $0 != apex && $0.isSubdomain(of: apex) }
            if let zone = parseZone(apex: apex, entry: entry, children: children, reader: reader, spec: spec) {
                spec.zones.append(zone)
            }
        }
    }

    static func parseZone(apex: DomainName, entry: (key: String, keyNode: YNode, value: YNode), children: [DomainName],
                          reader: YAMLReader, spec: PolicySpec) -> ZoneSpec? {
        let zoneName = apex.lowercased().description
        let what = "zone \(zoneName)"
        guard let f = reader.fields(entry.value, what, known: ["soa", "ns", "ttl", "records", "steer"]) else { return nil }
        var defaultTTL: UInt32 = 3600
        if let n = f["ttl"], let t = reader.ttl(n, "\(what) ttl") { defaultTTL = t }

        // SOA (RFC 1035 §3.3.13)
        var soa: ResourceRecord? = nil
        var negativeTTL: UInt32 = 300
        if let n = f["soa"] {
            if let s = reader.fields(n, "\(what) soa", known: ["mname", "rname", "serial", "refresh", "retry", "expire", "minimum", "ttl"]) {
                var mname: DomainName? = nil, rname: DomainName? = nil
                if let m = s["mname"], let t = reader.scalar(m, "soa mname") {
                    mname = parseName(t, at: m, origin: apex, reader: reader, what: "soa mname", allowWildcard: false)
                } else if s.values["mname"] == nil {
                    reader.error(n, "\(what) soa needs mname: (the primary name server, like ns1.\(zoneName))")
                }
                if let r = s["rname"], let t = reader.scalar(r, "soa rname") {
                    rname = parseName(mailbox(t), at: r, origin: apex, reader: reader, what: "soa rname", allowWildcard: false)
                } else if s.values["rname"] == nil {
                    reader.error(n, "\(what) soa needs rname: (the admin mailbox, like hostmaster.\(zoneName))")
                }
                func u32(_ key: String, _ def: UInt32) -> UInt32 {
                    guard let v = s[key] else { return def }
                    if key == "serial" { return reader.integer(v, "soa serial", UInt32(0)...UInt32.max) ?? def }
                    return reader.ttl(v, "soa \(key)") ?? def
                }
                let serial = u32("serial", 1), refresh = u32("refresh", 7200), retry = u32("retry", 3600)
                let expire = u32("expire", 1_209_600), minimum = u32("minimum", 300)
                var soaTTL = defaultTTL
                if let t = s["ttl"], let v = reader.ttl(t, "soa ttl") { soaTTL = v }
                if let mname, let rname {
                    soa = ResourceRecord(name: apex, ttl: soaTTL, rdata: .soa(SOAData(
                        mname: mname, rname: rname, serial: serial, refresh: refresh, retry: retry, expire: expire, minimum: minimum)))
                    negativeTTL = min(soaTTL, minimum)   // RFC 2308 §3
                }
            }
        } else {
            reader.error(entry.keyNode, "\(what) has no soa: (required for an authoritative zone); add soa: { mname: ns1.\(zoneName), rname: hostmaster.\(zoneName), serial: 1 }")
        }

        // NS at the apex: a list, or { names: [...], ttl: N }.
        var nsSet: RRSet? = nil
        if let n = f["ns"] {
            var ttl = defaultTTL
            var namesNode: YNode? = n
            if case .mapping = n {
                if let m = reader.fields(n, "\(what) ns", known: ["names", "ttl"]) {
                    if let t = m["ttl"], let v = reader.ttl(t, "ns ttl") { ttl = v }
                    namesNode = m["names"]
                    if namesNode == nil { reader.error(n, "\(what) ns needs names: [ns1.\(zoneName), ...]") }
                } else { namesNode = nil }
            }
            if let namesNode, let items = reader.list(namesNode, "\(what) ns") {
                var rdata: [RData] = []
                for item in items {
                    guard let t = reader.scalar(item, "an NS name"),
                          let name = parseName(t, at: item, origin: apex, reader: reader, what: "NS name", allowWildcard: false) else { continue }
                    noteRelative(name, t, "NS name", item, reader)
                    if rdata.contains(.ns(name)) { reader.error(item, "NS \(name) is listed twice"); continue }
                    rdata.append(.ns(name))
                }
                if items.isEmpty { reader.error(n, "\(what) ns is empty; list the zone's name servers") }
                if !rdata.isEmpty { nsSet = RRSet(type: .ns, ttl: ttl, rdata: rdata) }
            }
        } else {
            reader.error(entry.keyNode, "\(what) has no ns: (the zone's name servers, like [ns1.\(zoneName), ns2.\(zoneName)])")
        }

        var nodes: [DomainName: Node] = [:]
        var defined: [DomainName: (position: SourcePosition, steered: Bool)] = [:]
        var apexNode = Node()
        if let soa { apexNode.rrsets[.soa] = RRSet(type: .soa, ttl: soa.ttl, rdata: [soa.rdata]) }
        if let nsSet { apexNode.rrsets[.ns] = nsSet }
        nodes[apex.lowercased()] = apexNode

        /// Checks an owner name: inside this zone and not inside a more specific one.
        func owner(_ text: String, _ keyNode: YNode, _ kind: String) -> DomainName? {
            guard let name = parseName(text, at: keyNode, origin: apex, reader: reader, what: "\(kind) name", allowWildcard: true) else { return nil }
            guard name.isSubdomain(of: apex) else {
                reader.error(keyNode, "\(kind) name \(name) is outside zone \(zoneName) (write it relative, or absolute ending in the zone name and '.')")
                return nil
            }
            if let child = children.first(where: { name.isSubdomain(of: $0) }) {
                reader.error(keyNode, "\(kind) name \(name) belongs to zone \(child.lowercased()), not \(zoneName); define it there")
                return nil
            }
            return name
        }

        if let n = f["records"], let entries = reader.mapping(n, "\(what) records") {
            for e in entries {
                guard let name = owner(e.key, e.keyNode, "record") else { continue }
                let key = name.lowercased()
                if let first = defined[key] {
                    reader.error(e.keyNode, "\(key) is defined twice in \(what) records (first at \(first.position))")
                    continue
                }
                defined[key] = (SourcePosition(e.keyNode.mark), false)
                let rrsets = parseRecords(e.value, owner: name, apex: apex, defaultTTL: defaultTTL, reader: reader)
                if key == apex.lowercased() {
                    var merged = nodes[key] ?? Node()
                    for (type, set) in rrsets { merged.rrsets[type] = set }
                    nodes[key] = merged
                } else {
                    nodes[key] = Node(rrsets: rrsets)
                }
            }
        }

        var steers: [SteerSpec] = []
        // Equal pool lists share one storage: many names usually share a few rules (YAML
        // anchors), and each parsed copy would otherwise live until the compile is done.
        var regionLists = Set<[RegionID: [Int]]>()
        var defaultLists = Set<[Int]>()
        var placeholders: [String: SteeringBox] = [:]
        if let n = f["steer"], let entries = reader.mapping(n, "\(what) steer") {
            for e in entries {
                guard let name = owner(e.key, e.keyNode, "steered") else { continue }
                let key = name.lowercased()
                // Static records of other types (MX, TXT, SRV, ...) may sit beside a steered name;
                // the types the pools answer may not (they would shadow the steering).
                var beside: [RRType] = []
                if let first = defined[key] {
                    if first.steered {
                        reader.error(e.keyNode, "\(key) is steered twice in \(what) (first at \(first.position))")
                        continue
                    }
                    let rrsets = nodes[key]?.rrsets ?? [:]
                    let clash = [RRType.a, .aaaa, .cname].filter { rrsets[$0] != nil } + (key == apex.lowercased() || rrsets[.ns] == nil ? [] : [.ns])
                    if !clash.isEmpty {
                        let types = clash.map(\.description).joined(separator: ", ")
                        reader.error(e.keyNode, "\(key) is steered and also has static \(types) (records: at \(first.position)); "
                                     + "the pools answer A/AAAA/CNAME at a steered name and NS would make it a delegation: keep only other types (MX, TXT, SRV, ...) in records:")
                        continue
                    }
                    beside = rrsets.keys.filter { $0 != .soa && $0 != .ns }.sorted { $0.rawValue < $1.rawValue }
                }
                defined[key] = (SourcePosition(e.keyNode.mark), true)
                guard var steer = parseSteer(e.value, owner: name, keyNode: e.keyNode, isApex: key == apex.lowercased(),
                                             reader: reader, spec: spec, beside: beside) else { continue }
                steer.regionPools = regionLists.insert(steer.regionPools).memberAfterInsert
                steer.defaultPools = defaultLists.insert(steer.defaultPools).memberAfterInsert
                steers.append(steer)
                var node = nodes[key] ?? Node()
                // A placeholder until the compiler fills in the decisions (one per TTL and fallback).
                let placeholder = "\(steer.ttl) \(steer.fallback.rawValue)"
                if placeholders[placeholder] == nil {
                    placeholders[placeholder] = SteeringBox(Steering(ttl: steer.ttl, fallback: steer.fallback, decisions: [:]))
                }
                node.steeringBox = placeholders[placeholder]
                nodes[key] = node
            }
        }

        // Empty non-terminals (RFC 8020 / RFC 4592 §2.2.2): every name between a node and the apex exists.
        let apexKey = apex.lowercased()
        for name in Array(nodes.keys) {
            var current = name.parent()
            while let c = current, c != apexKey, c.isSubdomain(of: apexKey) {
                if nodes[c] == nil { nodes[c] = Node() }
                current = c.parent()
            }
        }

        // Data below a delegation (NS below the apex) is never served (RFC 1034 §4.2.1).
        let cuts = Set(nodes.filter { $0.key != apexKey && $0.value.rrsets[.ns] != nil }.map(\.key))
        for (key, def) in defined where !cuts.isEmpty {
            var ancestor = key.parent()
            while let a = ancestor, a != apexKey, a.isSubdomain(of: apexKey) {
                if cuts.contains(a) {
                    reader.warn(def.position, "\(key) is below the delegation at \(a) (NS records there) and will never be served")
                    break
                }
                ancestor = a.parent()
            }
        }
        // Static CNAMEs that come back to where they started (reported once per loop, at its
        // first name by text order).
        func target(_ key: DomainName) -> DomainName? {
            guard case .cname(let t)? = nodes[key]?.rrsets[.cname]?.rdata.first else { return nil }
            return t.lowercased()
        }
        for (key, def) in defined where !def.steered && target(key) != nil {
            var chain = [key]
            var current = key
            while let next = target(current), chain.count <= 16 {
                if next == key {
                    if key.description == chain.map(\.description).min() {
                        reader.warn(def.position, "CNAME loop: " + (chain + [key]).map(\.description).joined(separator: " -> "))
                    }
                    break
                }
                if chain.contains(next) { break }
                chain.append(next)
                current = next
            }
        }

        warnRelativeTargets(nodes: nodes, apex: apex, reader: reader)

        guard let soa else { return nil }
        return ZoneSpec(apex: apex, soa: soa, negativeTTL: negativeTTL, nodes: nodes, steers: steers)
    }

    /// Remembers a target written without the final dot (zone-file rules made it relative).
    static func noteRelative(_ name: DomainName?, _ text: String, _ what: String, _ node: YNode, _ reader: YAMLReader) {
        let t = text.trimmingSpaces()
        guard let name, t != "@", !t.hasSuffix(".") else { return }
        reader.relativeTargets.append((name, t, what, SourcePosition(node.mark)))
    }

    /// A relative target that expands to a name of this zone with no records (and no wildcard
    /// to answer it) goes nowhere: almost always the final dot was forgotten
    /// (`CNAME: cdn.example.net` is cdn.example.net.example.com.).
    static func warnRelativeTargets(nodes: [DomainName: Node], apex: DomainName, reader: YAMLReader) {
        defer { reader.relativeTargets = [] }
        let zone = String(apex.lowercased().description.dropLast())
        for r in reader.relativeTargets {
            let lower = r.text.lowercased()
            if lower == zone || lower.hasSuffix("." + zone) { continue }   // parseName warned already
            let key = r.name.lowercased()
            guard key.isSubdomain(of: apex.lowercased()), nodes[key] == nil else { continue }
            // The closest existing ancestor answers with its wildcard child, if it has one.
            var encloser = key.parent()
            while let e = encloser, nodes[e] == nil, e != apex.lowercased() { encloser = e.parent() }
            if let e = encloser, let wild = try? e.prepending("*"), nodes[wild] != nil { continue }
            let hint = r.text.contains(".") ? "write '\(r.text).' (final dot) if you mean that absolute name"
                : "define it in records:, or end it with a dot for an absolute name"
            reader.warn(r.at, "'\(r.text)' (\(r.what)) is relative: it expands to \(key), which has no records in \(apex.lowercased()); " + hint)
        }
    }

    /// "hostmaster@example.com" -> "hostmaster.example.com." (dots in the local part escaped, RFC 1035 §8).
    static func mailbox(_ text: String) -> String {
        guard let at = text.firstIndex(of: "@"), text != "@" else { return text }
        let local = text[..<at].replacingDots()
        let domain = text[text.index(after: at)...]
        return local + "." + domain + (domain.hasSuffix(".") ? "" : ".")
    }

    // MARK: records

    static func parseRecords(_ node: YNode, owner: DomainName, apex: DomainName, defaultTTL: UInt32,
                             reader: YAMLReader) -> [RRType: RRSet] {
        let what = "records for \(owner.lowercased())"
        guard let pairs = reader.mapping(node, what) else { return [:] }
        var ttl = defaultTTL
        for p in pairs where p.key.lowercased() == "ttl" {
            if let t = reader.ttl(p.value, "\(what) ttl") { ttl = t }
        }
        var out: [RRType: RRSet] = [:]
        var cnameKey: YNode? = nil
        var keyNodes: [RRType: YNode] = [:]
        let isApex = owner == apex
        for p in pairs {
            let upper = p.key.uppercased()
            if p.key.lowercased() == "ttl" { continue }
            guard recordTypes.contains(upper), let type = RRType(mnemonic: upper) else {
                var message = YAMLReader.unknownKey(p.key, in: what, known: recordTypes + ["ttl"])
                if upper == "SOA" { message = "SOA is set with the zone's soa: key, not in records" }
                else if let hint = unsupportedTypes[upper] { message = "record type \(upper) is not supported in records; \(hint)" }
                else if RRType(mnemonic: upper) != nil || otherTypes.contains(upper) {
                    message = "record type \(upper) is not supported in records; supported: \(recordTypes.joined(separator: ", "))"
                }
                reader.error(p.keyNode, message)
                continue
            }
            if keyNodes[type] != nil {
                reader.error(p.keyNode, "\(upper) is given twice for \(owner.lowercased())")
                continue
            }
            keyNodes[type] = p.keyNode
            if type == .ns && isApex {
                reader.error(p.keyNode, "NS at the apex comes from the zone's ns: key, not records")
                continue
            }
            var rdata = parseRData(type, p.value, apex: apex, reader: reader, what: "\(upper) at \(owner.lowercased())")
            // Duplicate RRs in an RRset are one RR (RFC 2181 §5): say so rather than serve them twice.
            var unique: [RData] = []
            for r in rdata where !unique.contains(r) { unique.append(r) }
            if unique.count != rdata.count {
                reader.error(p.value, "\(upper) at \(owner.lowercased()) lists the same data twice")
            }
            rdata = unique
            if type == .cname {
                cnameKey = p.keyNode
                if rdata.count > 1 { reader.error(p.value, "a name has at most one CNAME (RFC 1034 §3.6.2)"); rdata = [rdata[0]] }
            }
            if !rdata.isEmpty { out[type] = RRSet(type: type, ttl: ttl, rdata: rdata) }
        }
        if let c = cnameKey {
            if isApex {
                reader.error(c, "a CNAME at the zone apex would sit beside the SOA and NS (RFC 1034 §3.6.2)")
            } else if out.count > 1 {
                let others = out.keys.filter { $0 != .cname }.map(\.description).sorted().joined(separator: ", ")
                reader.error(c, "CNAME at \(owner.lowercased()) beside other data (\(others)); a CNAME owner holds nothing else (RFC 1034 §3.6.2): keep the CNAME alone, or drop it and keep the \(others)")
            }
        }
        return out
    }

    static func parseRData(_ type: RRType, _ node: YNode, apex: DomainName, reader: YAMLReader, what: String) -> [RData] {
        func name(_ text: String, _ n: YNode, _ label: String) -> DomainName? {
            let parsed = parseName(text, at: n, origin: apex, reader: reader, what: "\(label) in \(what)", allowWildcard: false)
            noteRelative(parsed, text, "\(label) in \(what)", n, reader)
            return parsed
        }
        var out: [RData] = []
        switch type {
        case .a, .aaaa, .cname, .ns, .ptr:
            guard let items = reader.list(node, what) else { return [] }
            if items.isEmpty { reader.error(node, "\(what) is empty") }
            for item in items {
                guard let text = reader.scalar(item, "a value in \(what)") else { continue }
                let t = text.trimmingSpaces()
                switch type {
                case .a:
                    if let a = IPv4Address(t) { out.append(.a(a)) } else { reader.error(item, "'\(text)' is not an IPv4 address (in \(what)); \(addressHint(text, v6: false))") }
                case .aaaa:
                    if let a = IPv6Address(t) { out.append(.aaaa(a)) } else { reader.error(item, "'\(text)' is not an IPv6 address (in \(what)); \(addressHint(text, v6: true))") }
                case .cname:
                    if let n = name(t, item, "target") { out.append(.cname(n)) }
                case .ns:
                    if let n = name(t, item, "name server") { out.append(.ns(n)) }
                default:
                    if let n = name(t, item, "target") { out.append(.ptr(n)) }
                }
            }
        case .txt:
            guard let items = reader.list(node, what) else { return [] }
            if items.isEmpty { reader.error(node, "\(what) is empty") }
            for item in items {
                if case .sequence(let parts) = item {
                    // One TXT record made of several <character-string>s.
                    var strings: [[UInt8]] = []
                    for part in parts {
                        guard let t = reader.scalar(part, "a TXT string") else { continue }
                        strings.append(contentsOf: RData.splitCharacterStrings(Array(t.utf8)))
                    }
                    if strings.isEmpty { strings = [[]] }
                    out.append(.txt(strings))
                } else if let t = reader.scalar(item, "a TXT string") {
                    out.append(.txt(text: t))
                }
            }
        case .mx:
            for (fields, at) in tuples(node, arity: 2, reader: reader, what: what, shape: "[preference, exchange]") {
                guard let pref = UInt16(fields[0]) else {
                    reader.error(at, "MX preference '\(fields[0])' must be an integer in 0...65535 (in \(what))")
                    continue
                }
                if let n = name(fields[1], at, "exchange") { out.append(.mx(preference: pref, exchange: n)) }
            }
        case .srv:
            for (fields, at) in tuples(node, arity: 4, reader: reader, what: what, shape: "[priority, weight, port, target]") {
                let labels = ["priority", "weight", "port"]
                var numbers: [UInt16] = []
                for i in 0..<3 {
                    if let v = UInt16(fields[i]) { numbers.append(v) }
                    else { reader.error(at, "SRV \(labels[i]) '\(fields[i])' must be an integer in 0...65535 (in \(what))") }
                }
                guard numbers.count == 3, let n = name(fields[3], at, "target") else { continue }
                out.append(.srv(priority: numbers[0], weight: numbers[1], port: numbers[2], target: n))
            }
        case .caa, .https, .svcb:
            // Presentation form, one record per string: `0 issue "letsencrypt.org"` (RFC 8659
            // §4.1.1), `1 . alpn=h2,h3 ipv4hint=192.0.2.1` (RFC 9460 §2.1); a YAML list of the
            // fields works too. Stored as RDATA bytes (RData.unknown), which the wire path carries.
            guard let items = reader.list(node, what) else { return [] }
            if items.isEmpty { reader.error(node, "\(what) is empty") }
            let shape = type == .caa ? "'0 issue \"letsencrypt.org\"'" : "'1 . alpn=h2,h3 ipv4hint=192.0.2.1'"
            for item in items {
                var text: String
                if case .sequence(let parts) = item {
                    text = parts.compactMap { $0.scalar?.string }.map { $0.contains(" ") ? "\"\($0)\"" : $0 }.joined(separator: " ")
                } else {
                    guard let t = reader.scalar(item, "a value in \(what)") else { continue }
                    text = t
                }
                do {
                    if type == .caa {
                        let caa = try CAARecord(presentation: text)
                        if !CAARecord.knownTags.contains(caa.tag.lowercased()) {
                            var message = "CAA tag '\(caa.tag)' in \(what) is not one CAs act on (\(CAARecord.knownTags.joined(separator: ", ")))"
                            if let near = YAMLReader.closest(to: caa.tag, in: CAARecord.knownTags) { message += "; did you mean '\(near)'?" }
                            reader.warn(item, message)
                        }
                        out.append(caa.rdata)
                    } else {
                        let tokens = try PresentationTokens.split(text)
                        guard tokens.count >= 2, let priority = UInt16(tokens[0].text) else {
                            reader.error(item, "\(what) must be 'PRIORITY TARGET [key=value ...]', like \(shape), found '\(text)'")
                            continue
                        }
                        guard let target = name(tokens[1].text, item, "TargetName") else { continue }
                        out.append(try SVCBRecord(priority: priority, target: target, parameters: Array(tokens.dropFirst(2))).rdata(type: type))
                    }
                } catch {
                    reader.error(item, "\(error) (in \(what); write it like \(shape))")
                }
            }
            // RFC 9460 §2.4.2: with an AliasMode record present, clients ignore the ServiceMode ones.
            let priorities = out.compactMap { if case .unknown(_, let d) = $0, d.count >= 2 { return UInt16(d[0]) << 8 | UInt16(d[1]) }; return nil }
            if type != .caa, priorities.contains(0), priorities.contains(where: { $0 != 0 }) {
                reader.warn(node, "\(what) mixes AliasMode (priority 0) and ServiceMode records; clients ignore the ServiceMode ones (RFC 9460 §2.4.2): keep one kind")
            }
        default:
            break
        }
        return out
    }

    /// Tuples for MX/SRV, accepted as `[[10, mx]]`, `[10, mx]` (a single one), `"10 mx"` or
    /// `["10 mx", "20 mx2"]`. Each comes with the node to blame.
    static func tuples(_ node: YNode, arity: Int, reader: YAMLReader, what: String, shape: String) -> [([String], YNode)] {
        func words(_ n: YNode) -> [String]? {
            guard let t = reader.scalar(n, "a value in \(what)") else { return nil }
            return t.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        }
        func check(_ fields: [String]?, _ n: YNode) -> ([String], YNode)? {
            guard let fields else { return nil }
            guard fields.count == arity else {
                reader.error(n, "\(what) must be \(shape), found \(fields.count) field\(fields.count == 1 ? "" : "s")")
                return nil
            }
            return (fields, n)
        }
        switch node {
        case .scalar:
            if YAMLReader.isNull(node) { reader.error(node, "\(what) is empty"); return [] }
            return check(words(node), node).map { [$0] } ?? []
        case .sequence(let seq):
            let items = Array(seq)
            if items.isEmpty { reader.error(node, "\(what) is empty"); return [] }
            let allScalars = items.allSatisfy { if case .scalar = $0 { return true }; return false }
            if allScalars, items.count == arity, let first = items[0].scalar?.string, UInt16(first) != nil,
               !items.contains(where: { ($0.scalar?.string ?? "").contains(" ") }) {
                return check(items.compactMap { $0.scalar?.string }, node).map { [$0] } ?? []
            }
            var out: [([String], YNode)] = []
            for item in items {
                switch item {
                case .sequence(let inner):
                    var fields: [String] = []
                    var ok = true
                    for x in inner {
                        if let t = reader.scalar(x, "a field in \(what)") { fields.append(t.trimmingSpaces()) } else { ok = false }
                    }
                    if ok, let t = check(fields, item) { out.append(t) }
                case .scalar:
                    if let t = check(words(item), item) { out.append(t) }
                default:
                    reader.error(item, "\(what) must be \(shape), found \(YAMLReader.kind(item))")
                }
            }
            return out
        default:
            reader.error(node, "\(what) must be \(shape), found \(YAMLReader.kind(node))")
            return []
        }
    }

    // MARK: steer

    static func parseSteer(_ node: YNode, owner: DomainName, keyNode: YNode, isApex: Bool, reader: YAMLReader,
                           spec: PolicySpec, beside: [RRType] = []) -> SteerSpec? {
        let what = "steer \(owner.lowercased())"
        guard let f = reader.fields(node, what, known: ["ttl", "regions", "default", "fallback"]) else { return nil }
        var ttl: UInt32 = 60
        if let n = f["ttl"], let t = reader.ttl(n, "\(what) ttl") { ttl = t }
        var fallback = Fallback.soa
        if let n = f["fallback"], let t = reader.scalar(n, "\(what) fallback") {
            if let fb = Fallback(rawValue: t.lowercased()) { fallback = fb }
            else { reader.error(n, "\(what) fallback must be soa or notimp, found '\(t)'") }
        }
        var usesCNAME: YNode? = nil
        func pools(_ n: YNode, _ label: String) -> [Int]? {
            guard let items = reader.list(n, label) else { return nil }
            var out: [Int] = []
            var cnameBefore: String? = nil
            for item in items {
                guard let name = reader.scalar(item, "a pool name") else { continue }
                guard let index = spec.poolIndex[name] else {
                    var message = "undefined pool '\(name)' in \(label)"
                    if let near = YAMLReader.closest(to: name, in: spec.pools.map(\.name)) { message += "; did you mean '\(near)'?" }
                    else if spec.pools.isEmpty { message += " (no pools: are defined)" }
                    reader.error(item, message)
                    continue
                }
                if out.contains(index) { reader.error(item, "pool '\(name)' is listed twice in \(label)"); continue }
                if let c = cnameBefore {
                    reader.warn(item, "pool '\(name)' in \(label) is never used: CNAME pool '\(c)' before it answers every type")
                }
                if spec.pools[index].cname != nil {
                    if usesCNAME == nil { usesCNAME = item }
                    cnameBefore = cnameBefore ?? name
                }
                out.append(index)
            }
            return out
        }
        var regionPools: [RegionID: [Int]] = [:]
        if let n = f["regions"], let entries = reader.mapping(n, "\(what) regions") {
            for e in entries {
                guard let id = spec.regionIndex[e.key] else {
                    var message = "undefined region '\(e.key)' in \(what)"
                    if let near = YAMLReader.closest(to: e.key, in: spec.regions.map(\.name)) { message += "; did you mean '\(near)'?" }
                    else if spec.regions.isEmpty { message += " (no regions: are defined)" }
                    reader.error(e.keyNode, message)
                    continue
                }
                if let list = pools(e.value, "\(what) region \(e.key)") { regionPools[id] = list }
            }
        }
        var defaultPools: [Int] = []
        if let n = f["default"], let list = pools(n, "\(what) default") { defaultPools = list }
        if regionPools.isEmpty && defaultPools.isEmpty && f["regions"] == nil && f["default"] == nil {
            reader.error(keyNode, "\(what) answers nobody: give regions: and/or default:")
        }
        if isApex, let c = usesCNAME {
            reader.error(c, "a CNAME pool cannot steer the zone apex: it would sit beside the SOA and NS (RFC 1034 §3.6.2)")
        } else if let c = usesCNAME, !beside.isEmpty {
            let types = beside.map(\.description).joined(separator: ", ")
            reader.error(c, "a CNAME pool cannot steer \(owner.lowercased()): it would sit beside its static \(types) records, "
                         + "and a CNAME owner holds nothing else (RFC 1034 §3.6.2); use address pools or move the records")
        }
        return SteerSpec(owner: owner, ttl: ttl, fallback: fallback, regionPools: regionPools, defaultPools: defaultPools)
    }
}

extension Substring {
    func replacingDots() -> String {
        var out = ""
        for c in self { if c == "." { out += "\\." } else { out.append(c) } }
        return out
    }
}
