import Foundation

// server: identity:, server: version: (ServerSettings.identity/.version; answered by
// Authority+Identity.swift; called from parseServer in PolicyLoader+Sections.swift).
extension PolicyLoader {
    /// The longest value: one TXT <character-string> (RFC 1035 §3.3).
    static let identityMaxBytes = 255

    static func parseIdentity(_ server: Fields, reader: YAMLReader, into settings: inout ServerSettings) {
        if let n = server["identity"], let text = reader.scalar(n, "server.identity") {
            // `hostname`: this host's name, read now (at load and at every reload), as Knot's default.
            let value = text == "hostname" ? hostName() : text
            if let value, checkIdentity(value, n, "server.identity", reader: reader) { settings.identity = value }
            if value == nil { reader.error(n, "server.identity: hostname: the host name could not be read (gethostname failed); write the name itself") }
        }
        if let n = server["version"], let text = reader.scalar(n, "server.version"),
           checkIdentity(text, n, "server.version", reader: reader) {
            settings.version = text
        }
    }

    static func checkIdentity(_ value: String, _ node: YNode, _ what: String, reader: YAMLReader) -> Bool {
        let bytes = value.utf8.count
        guard bytes > 0 else {
            reader.error(node, "\(what) is empty: write a name like \"edge-1\", or leave the key out to answer REFUSED")
            return false
        }
        guard bytes <= identityMaxBytes else {
            reader.error(node, "\(what) is \(bytes) bytes long; at most \(identityMaxBytes) fit in one TXT string")
            return false
        }
        return true
    }

    /// gethostname(2), as `hostname` prints it.
    static func hostName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? nil : name
    }
}
