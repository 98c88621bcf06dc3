import DNSWire
import Foundation
import Yams

// `server: control:` — the HTTP control endpoint (Sources/Server/Control): metrics, health,
// status. Parsed here; served by Server's ControlServer.

extension ServerSettings {
    public struct Control: Sendable, Equatable {
        /// Where the endpoint listens; nil: `off`. Loopback unless `allowRemote`.
        public var listen: ListenAddress? = ListenAddress(host: "127.0.0.1", port: 8053)
        /// A non-loopback `listen` is refused unless this is set: the endpoint has no
        /// authentication, so exposing it is a decision, not a default.
        public var allowRemote = false
        public init() {}
    }
}

extension PolicyLoader {
    /// The `server:` section of the policy file alone (no database, no zones), for what must be
    /// known before the slow compile — the control endpoint's address. Nil when the file cannot
    /// be read or its server: section has errors (the full load reports them).
    public static func serverSettings(path: String) -> ServerSettings? {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
              aliasKey(in: text) == nil,
              let root = try? Yams.compose(yaml: text, .basic), countNodes(root, limit: nodeLimit) else { return nil }
        let reader = YAMLReader(file: path)
        var spec = PolicySpec()
        guard case .mapping(let top) = root, let server = top["server"] else { return spec.settings }
        parseServer(server, reader: reader, configPath: path, into: &spec)
        return reader.hasErrors ? nil : spec.settings
    }

    /// `control: { listen: "127.0.0.1:8053" | off, allow_remote: false }`.
    static func parseControl(_ node: YNode?, reader: YAMLReader, into settings: inout ServerSettings) {
        guard let node, let f = reader.fields(node, "server.control", known: ["listen", "allow_remote"]) else { return }
        if let n = f["allow_remote"], let b = reader.bool(n, "server.control.allow_remote") { settings.control.allowRemote = b }
        guard let n = f["listen"], let text = reader.scalar(n, "server.control.listen") else { return }
        if text == "off" {
            settings.control.listen = nil
            return
        }
        guard let address = ServerSettings.ListenAddress(parsing: text) else {
            reader.error(n, "server.control.listen '\(text)' must be IP:PORT, like \"127.0.0.1:8053\" or \"[::1]:8053\" (port 1...65535), or off")
            return
        }
        if !address.isLoopback, !settings.control.allowRemote {
            reader.error(n, "server.control.listen \(address) is not a loopback address: the control endpoint has no authentication; use 127.0.0.1 or [::1] (a reverse proxy can expose it), or set server.control.allow_remote: true")
            return
        }
        if settings.listen.contains(address) {
            reader.error(n, "server.control.listen \(address) is also a DNS listen address: give the control endpoint its own port (default 127.0.0.1:8053)")
            return
        }
        settings.control.listen = address
    }
}
