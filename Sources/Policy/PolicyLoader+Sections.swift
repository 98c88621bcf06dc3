import DNSWire
import Foundation
import Yams

// server:, regions:, pools:, tests:
extension PolicyLoader {
    static let continentCodes: [String: String] = [
        "AF": "Africa", "AN": "Antarctica", "AS": "Asia", "EU": "Europe",
        "NA": "North America", "OC": "Oceania", "SA": "South America",
    ]

    // MARK: server

    static func parseServer(_ node: YNode?, reader: YAMLReader, configPath: String, into spec: inout PolicySpec) {
        guard let node else { return }
        guard let f = reader.fields(node, "server", known: ["listen", "geoip", "ecs", "udp_payload_size", "tcp", "rrl", "error_replies_per_second", "control", "cookies", "identity", "version"]) else {
            return
        }
        var settings = spec.settings
        defer { spec.settings = settings }
        if let listen = f["listen"], let items = reader.list(listen, "server.listen") {
            var seen: [ServerSettings.ListenAddress: SourcePosition] = [:]
            var out: [ServerSettings.ListenAddress] = []
            for item in items {
                guard let text = reader.scalar(item, "a listen address") else { continue }
                guard let address = ServerSettings.ListenAddress(parsing: text) else {
                    reader.error(item, "listen address '\(text)' must be IP:PORT, like \"127.0.0.1:5353\" or \"[::1]:5353\" (port 1...65535)")
                    continue
                }
                if let first = seen[address] {
                    reader.error(item, "listen address \(address) is listed twice (first at \(first))")
                    continue
                }
                seen[address] = SourcePosition(item.mark)
                out.append(address)
            }
            if out.isEmpty, !reader.hasErrors { reader.error(listen, "server.listen needs at least one address") }
            if !out.isEmpty { settings.listen = out }
        }
        if let geoip = f["geoip"] {
            // A path, a list of paths (each field from the first that has it), or
            // { location: FILE, asn: FILE }.
            var sources: [DatabaseSource] = []
            if case .mapping = geoip, let m = reader.fields(geoip, "server.geoip", known: ["location", "asn"]) {
                for (key, fields) in [("location", DatabaseSource.Fields.location), ("asn", .asn)] {
                    if let n = m[key], let text = reader.scalar(n, "server.geoip.\(key)") {
                        sources.append(DatabaseSource(path: resolve(text, relativeTo: configPath), fields: fields))
                    }
                }
            } else if let items = reader.list(geoip, "server.geoip") {
                for item in items {
                    if let text = reader.scalar(item, "server.geoip") { sources.append(DatabaseSource(path: resolve(text, relativeTo: configPath), fields: .all)) }
                }
            }
            settings.databases = sources
            settings.databasePath = sources.first?.path
            spec.geoipMark = SourcePosition(geoip.mark)
        }
        if let ecs = f["ecs"], let e = reader.fields(ecs, "server.ecs", known: ["enabled", "max_source_v4", "max_source_v6"]) {
            if let n = e["enabled"], let b = reader.bool(n, "server.ecs.enabled") { settings.ecs.enabled = b }
            if let n = e["max_source_v4"], let v: UInt8 = reader.integer(n, "server.ecs.max_source_v4", 0...32) { settings.ecs.maxSourceV4 = v }
            if let n = e["max_source_v6"], let v: UInt8 = reader.integer(n, "server.ecs.max_source_v6", 0...128) { settings.ecs.maxSourceV6 = v }
        }
        if let n = f["udp_payload_size"], let v: UInt16 = reader.integer(n, "server.udp_payload_size", 512...65535) {
            settings.udpPayloadSize = v
        }
        if let tcp = f["tcp"], let t = reader.fields(tcp, "server.tcp", known: ["idle_timeout", "read_timeout", "max_connections", "max_queries_per_connection"]) {
            if let n = t["idle_timeout"], let text = reader.scalar(n, "server.tcp.idle_timeout") {
                if let seconds = seconds(text), seconds > 0, seconds <= 86400 {
                    settings.tcpIdleTimeoutSeconds = seconds
                } else {
                    reader.error(n, "server.tcp.idle_timeout must be a duration above 0 and at most 1d (like 10, 10s, 1.5, 2m), found '\(text)'")
                }
            }
            if let n = t["max_connections"], let v: Int = reader.integer(n, "server.tcp.max_connections", 1...1_000_000) {
                settings.tcpMaxConnections = v
            }
            if let n = t["max_queries_per_connection"], let text = reader.scalar(n, "server.tcp.max_queries_per_connection") {
                if text == "unlimited" {
                    settings.tcpMaxQueriesPerConnection = nil
                } else if let v: Int = reader.integer(n, "server.tcp.max_queries_per_connection (or unlimited)", 1...Int(Int32.max)) {
                    settings.tcpMaxQueriesPerConnection = v
                }
            }
            parseTCPReadTimeout(t["read_timeout"], reader: reader, into: &settings)
        }
        parseLimits(f, reader: reader, into: &settings)
        parseControl(f["control"], reader: reader, into: &settings)
        parseCookies(f["cookies"], reader: reader, into: &settings)
        parseIdentity(f, reader: reader, into: &settings)
    }

    static func seconds(_ text: String) -> Double? {
        if let d = Double(text), d.isFinite { return d }
        if text.hasSuffix("ms"), let d = Double(text.dropLast(2)), d.isFinite { return d / 1000 }
        if let d = YAMLReader.duration(text) { return Double(d) }
        return nil
    }

    /// "127.0.0.1:5353" or "[::1]:5353".
    /// A path from the policy, relative to the policy file's folder, made absolute.
    static func resolve(_ path: String, relativeTo configPath: String) -> String {
        if path.hasPrefix("/") { return path }
        var folder = ""
        if let slash = configPath.lastIndex(of: "/") { folder = String(configPath[..<slash]) }
        if !configPath.hasPrefix("/") {
            let cwd = FileManager.default.currentDirectoryPath
            folder = folder.isEmpty ? cwd : cwd + "/" + folder
        }
        if folder.isEmpty { return "/" + path }
        return folder + "/" + path
    }

    /// What to write instead of a malformed address: the other family's key, or the shape.
    static func addressHint(_ text: String, v6: Bool) -> String {
        let t = text.trimmingSpaces()
        if !v6, IPv6Address(t) != nil { return "an IPv6 address goes under AAAA" }
        if v6, IPv4Address(t) != nil { return "an IPv4 address goes under A" }
        if t.contains("/") { return "write a single address, without a prefix length" }
        return v6 ? "write an IPv6 address like 2001:db8::1 (quoted in YAML)" : "write four numbers 0-255 like 192.0.2.10"
    }

    // MARK: regions

    static func parseRegions(_ node: YNode, reader: YAMLReader, into spec: inout PolicySpec) {
        guard let entries = reader.mapping(node, "regions") else { return }
        // Each key may belong to one region only: "most specific wins" needs no tie-break.
        var owners: [String: (region: String, at: SourcePosition)] = [:]
        func claim(_ key: String, _ label: String, _ region: String, _ node: YNode) -> Bool {
            if let owner = owners[key] {
                if owner.region == region {
                    reader.error(node, "\(label) is listed twice in region '\(region)' (first at \(owner.at))")
                } else {
                    reader.error(node, "\(label) is already in region '\(owner.region)' (at \(owner.at)); a client may belong to one region per rule: remove it from one of the two")
                }
                return false
            }
            owners[key] = (region, SourcePosition(node.mark))
            return true
        }
        for entry in entries {
            let name = entry.key
            guard !name.isEmpty else { reader.error(entry.keyNode, "a region needs a name"); continue }
            if spec.regionIndex[name] != nil { reader.error(entry.keyNode, "region '\(name)' is defined twice"); continue }
            var region = Region(name: name)
            var networks: [IPNetwork] = []
            let errorsBefore = reader.diagnostics.count
            guard let f = reader.fields(entry.value, "region '\(name)'", known: ["continents", "countries", "subdivisions", "asns", "networks"]) else { continue }
            if let n = f["continents"], let items = reader.list(n, "continents") {
                for item in items {
                    guard let text = reader.scalar(item, "a continent") else { continue }
                    let code = text.uppercased()
                    guard continentCodes[code] != nil else {
                        // "Europe" -> EU; a country code -> countries:.
                        var hint = "write one of AF, AN, AS, EU, NA, OC, SA"
                        if let named = continentCodes.first(where: { $0.value.lowercased() == text.lowercased() }) {
                            hint = "write \(named.key) for \(named.value)"
                        } else if ISO3166.alpha2.contains(code) {
                            hint = "\(code) is a country: write it under countries:"
                        }
                        reader.error(item, "'\(text)' is not a continent code: \(hint)")
                        continue
                    }
                    if claim("continent " + code, "continent \(code)", name, item) { region.continents.append(code) }
                }
            }
            if let n = f["countries"], let items = reader.list(n, "countries") {
                for item in items {
                    guard let text = reader.scalar(item, "a country") else { continue }
                    let code = text.uppercased()
                    if let hint = ISO3166.hint(for: code) {
                        reader.error(item, "'\(text)' is not an ISO 3166-1 alpha-2 country code; \(hint)")
                        continue
                    }
                    if claim("country " + code, "country \(code)", name, item) { region.countries.append(code) }
                }
            }
            if let n = f["subdivisions"], let items = reader.list(n, "subdivisions") {
                for item in items {
                    guard let text = reader.scalar(item, "a subdivision") else { continue }
                    let code = text.uppercased()
                    let parts = code.split(separator: "-", omittingEmptySubsequences: false)
                    guard parts.count == 2, parts[0].count == 2, parts[0].unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }),
                          (1...3).contains(parts[1].count),
                          parts[1].unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) }) else {
                        reader.error(item, "'\(text)' is not an ISO 3166-2 subdivision (country-code, like US-NY or GB-ENG)")
                        continue
                    }
                    if claim("subdivision " + code, "subdivision \(code)", name, item) { region.subdivisions.append(code) }
                }
            }
            if let n = f["asns"], let items = reader.list(n, "asns") {
                for item in items {
                    guard let text = reader.scalar(item, "an ASN") else { continue }
                    var digits = Substring(text)
                    if digits.uppercased().hasPrefix("AS") { digits = digits.dropFirst(2) }
                    guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let asn = UInt32(digits) else {
                        reader.error(item, "'\(text)' is not an AS number (like 15169 or AS15169, at most 4294967295)")
                        continue
                    }
                    if claim("asn \(asn)", "AS\(asn)", name, item) { region.asns.append(asn) }
                }
            }
            if let n = f["networks"], let items = reader.list(n, "networks") {
                for item in items {
                    guard let text = reader.scalar(item, "a network") else { continue }
                    switch IPNetwork.parse(text) {
                    case .success(let net):
                        if claim("network \(net)", "network \(net)", name, item) {
                            region.networks.append(net.description)
                            networks.append(net)
                        }
                    case .failure(let problem):
                        reader.error(item, "bad network '\(text)': \(problem)")
                    }
                }
            }
            if region.continents.isEmpty && region.countries.isEmpty && region.subdivisions.isEmpty
                && region.asns.isEmpty && region.networks.isEmpty && reader.diagnostics.count == errorsBefore {
                reader.error(entry.keyNode, "region '\(name)' matches nobody: give continents, countries, subdivisions, asns or networks")
            }
            spec.regionIndex[name] = spec.regions.count
            spec.regionPositions.append(SourcePosition(entry.keyNode.mark))
            spec.regions.append(region)
            spec.regionNetworks.append(networks)
        }
        spec.selectorPositions = owners.mapValues(\.at)
    }

    // MARK: pools

    static func parsePools(_ node: YNode, reader: YAMLReader, into spec: inout PolicySpec) {
        guard let entries = reader.mapping(node, "pools") else { return }
        for entry in entries {
            let name = entry.key
            guard !name.isEmpty else { reader.error(entry.keyNode, "a pool needs a name"); continue }
            if spec.poolIndex[name] != nil { reader.error(entry.keyNode, "pool '\(name)' is defined twice"); continue }
            var pool = PoolSpec(name: name)
            let what = "pool '\(name)'"
            guard let pairs = reader.mapping(entry.value, what) else { continue }
            var cnameNode: YNode? = nil
            var addressNode: YNode? = nil
            for pair in pairs {
                switch pair.key.uppercased() {
                case "A":
                    addressNode = addressNode ?? pair.keyNode
                    guard let items = reader.list(pair.value, "\(what) A") else { continue }
                    for item in items {
                        guard let text = reader.scalar(item, "an IPv4 address") else { continue }
                        guard let a = IPv4Address(text.trimmingSpaces()) else {
                            reader.error(item, "'\(text)' is not an IPv4 address (in \(what) A); \(addressHint(text, v6: false))")
                            continue
                        }
                        if pool.a.contains(a) { reader.error(item, "\(a) is listed twice in \(what) A"); continue }
                        pool.a.append(a)
                    }
                case "AAAA":
                    addressNode = addressNode ?? pair.keyNode
                    guard let items = reader.list(pair.value, "\(what) AAAA") else { continue }
                    for item in items {
                        guard let text = reader.scalar(item, "an IPv6 address") else { continue }
                        guard let a = IPv6Address(text.trimmingSpaces()) else {
                            reader.error(item, "'\(text)' is not an IPv6 address (in \(what) AAAA); \(addressHint(text, v6: true))")
                            continue
                        }
                        if pool.aaaa.contains(a) { reader.error(item, "\(a) is listed twice in \(what) AAAA"); continue }
                        pool.aaaa.append(a)
                    }
                case "CNAME":
                    cnameNode = pair.keyNode
                    guard let items = reader.list(pair.value, "\(what) CNAME") else { continue }
                    guard items.count == 1 else {
                        reader.error(pair.value, "\(what) CNAME must be exactly one target name (RFC 1034 §3.6.2)")
                        continue
                    }
                    guard let text = reader.scalar(items[0], "a CNAME target") else { continue }
                    // Pools belong to no zone: a target is always absolute.
                    pool.cname = parseName(text, at: items[0], origin: .root, reader: reader, what: "CNAME target in \(what)", allowWildcard: false)
                case "ORDER":
                    guard let text = reader.scalar(pair.value, "\(what) order") else { continue }
                    switch text.lowercased() {
                    case "fixed": pool.rotate = false
                    case "rotate": pool.rotate = true
                    default: reader.error(pair.value, "\(what) order must be fixed or rotate, found '\(text)'")
                    }
                default:
                    reader.error(pair.keyNode, YAMLReader.unknownKey(pair.key, in: what, known: ["A", "AAAA", "CNAME", "order"]))
                }
            }
            if let c = cnameNode, addressNode != nil {
                reader.error(c, "\(what) has a CNAME beside A/AAAA data; a CNAME pool holds the CNAME only (RFC 1034 §3.6.2): split it into two pools, or drop one")
            }
            if pairs.isEmpty { reader.error(entry.keyNode, "\(what) is empty: give A, AAAA or CNAME") }
            spec.poolIndex[name] = spec.pools.count
            spec.poolPositions.append(SourcePosition(entry.keyNode.mark))
            spec.pools.append(pool)
        }
    }

    // MARK: tests

    static func parseTests(_ node: YNode, reader: YAMLReader, into spec: inout PolicySpec) {
        guard let items = reader.list(node, "tests") else { return }
        for item in items {
            guard let f = reader.fields(item, "a test", known: ["query", "subnet", "expect", "scope"]) else { continue }
            let line = item.mark?.line ?? 1
            guard let q = f["query"] else {
                reader.error(item, "a test needs query: (like \"www.example.com A\")")
                continue
            }
            guard let queryText = reader.scalar(q, "tests query") else { continue }
            let words = queryText.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count == 2 || words.count == 1 else {
                reader.error(q, "test query '\(queryText)' must be a name and a type, like \"www.example.com A\"")
                continue
            }
            let typeText = words.count == 2 ? String(words[1]) : "A"
            guard let type = RRType(mnemonic: typeText) else {
                reader.error(q, "test query '\(queryText)' has an unknown type '\(typeText)' (A, AAAA, CNAME, MX, TXT, ... or TYPEnnn)")
                continue
            }
            guard let name = parseName(String(words[0]), at: q, origin: .root, reader: reader, what: "test query name", allowWildcard: false) else { continue }
            var subnet: String? = nil
            var subnetNet: IPNetwork? = nil
            if let s = f["subnet"], let text = reader.scalar(s, "tests subnet") {
                switch IPNetwork.parse(text) {
                case .success(let net): subnet = net.description; subnetNet = net
                case .failure(let problem): reader.error(s, "bad test subnet '\(text)': \(problem)")
                }
            }
            var expect: [String] = []
            if let e = f["expect"], let values = reader.list(e, "tests expect") {
                for v in values { if let t = reader.scalar(v, "an expected answer") { expect.append(t) } }
            } else {
                reader.error(item, "a test needs expect: (addresses, a name, NXDOMAIN, NODATA, REFUSED or NOTIMP)")
            }
            var scope: UInt8? = nil
            if let s = f["scope"] {
                let max: UInt8 = { if case .v4 = subnetNet { return 32 }; return 128 }()
                scope = reader.integer(s, "tests scope", 0...max)
            }
            spec.tests.append(PolicyTest(name: name, type: type, subnet: subnet, expect: expect, expectScope: scope, line: line))
        }
    }

    // MARK: names

    /// A domain name from the policy: "@" is `origin`, a name ending in "." is absolute,
    /// anything else is relative to `origin` (zone-file rules, RFC 1035 §5.1). Letters, digits,
    /// '-', '_' and escapes only; '*' only as a whole leftmost label, and only where allowed.
    static func parseName(_ text: String, at node: YNode, origin: DomainName, reader: YAMLReader,
                          what: String, allowWildcard: Bool) -> DomainName? {
        let trimmed = text.trimmingSpaces()
        let full: String
        if trimmed == "@" {
            return origin
        } else if trimmed.hasSuffix(".") || origin.isRoot {
            full = trimmed
        } else {
            full = trimmed + "." + origin.description
            // "www.example.com" in zone example.com is www.example.com.example.com. (zone-file
            // rules); almost always the final dot was forgotten.
            let zone = String(origin.lowercased().description.dropLast())
            let lower = trimmed.lowercased()
            if lower == zone || lower.hasSuffix("." + zone) {
                reader.warn(node, "\(what) '\(text)' is relative, so it means \(trimmed).\(origin.lowercased()); write '\(trimmed).' if you meant the name itself")
            }
        }
        guard !trimmed.isEmpty else { reader.error(node, "\(what) is empty"); return nil }
        for scalar in trimmed.unicodeScalars {
            let ok = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || scalar == "-" || scalar == "_" || scalar == "." || scalar == "*" || scalar == "\\" || scalar == "/"
            if !ok {
                reader.error(node, "\(what) '\(text)' has a character DNS names do not use: '\(scalar)'")
                return nil
            }
        }
        let name: DomainName
        do {
            name = try DomainName(full)
        } catch {
            reader.error(node, "\(what) '\(text)' is not a valid domain name: \(error)")
            return nil
        }
        let labels = name.labels
        for (i, label) in labels.enumerated() where label.contains(UInt8(ascii: "*")) {
            if label != [UInt8(ascii: "*")] || i != 0 {
                reader.error(node, "\(what) '\(text)': '*' is only allowed as the whole leftmost label (RFC 4592 wildcard, like *.example.com)")
                return nil
            }
            if !allowWildcard {
                reader.error(node, "\(what) '\(text)' cannot be a wildcard here")
                return nil
            }
        }
        return name
    }
}
