import Yams

// server: rrl:, server: error_replies_per_second:, server: tcp: read_timeout:
// (ServerSettings+Limits.swift; called from parseServer in PolicyLoader+Sections.swift).
extension PolicyLoader {
    static let rrlKeys = ["enabled", "responses_per_second", "slip", "ipv4_prefix", "ipv6_prefix", "dry_run"]

    static func parseLimits(_ server: Fields, reader: YAMLReader, into settings: inout ServerSettings) {
        if let n = server["error_replies_per_second"],
           let v: Int = reader.integer(n, "server.error_replies_per_second", 0...1_000_000) {
            settings.errorRepliesPerSecond = v
        }
        guard let node = server["rrl"], let r = reader.fields(node, "server.rrl", known: rrlKeys) else { return }
        if let n = r["enabled"], let v = reader.bool(n, "server.rrl.enabled") { settings.rrl.enabled = v }
        if let n = r["responses_per_second"], let v: Int = reader.integer(n, "server.rrl.responses_per_second", 1...1_000_000) {
            settings.rrl.responsesPerSecond = v
        }
        if let n = r["slip"], let v: Int = reader.integer(n, "server.rrl.slip", 0...255) { settings.rrl.slip = v }
        if let n = r["ipv4_prefix"], let v: Int = reader.integer(n, "server.rrl.ipv4_prefix", 1...32) { settings.rrl.ipv4Prefix = v }
        if let n = r["ipv6_prefix"], let v: Int = reader.integer(n, "server.rrl.ipv6_prefix", 1...128) { settings.rrl.ipv6Prefix = v }
        if let n = r["dry_run"], let v = reader.bool(n, "server.rrl.dry_run") { settings.rrl.dryRun = v }
    }

    static func parseTCPReadTimeout(_ node: YNode?, reader: YAMLReader, into settings: inout ServerSettings) {
        guard let node, let text = reader.scalar(node, "server.tcp.read_timeout") else { return }
        if let s = seconds(text), s > 0, s <= 3600 {
            settings.tcpReadTimeoutSeconds = s
        } else {
            reader.error(node, "server.tcp.read_timeout must be a duration above 0 and at most 1h (like 2, 2s, 500ms), found '\(text)'")
        }
    }
}
