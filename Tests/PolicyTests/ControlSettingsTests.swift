import Foundation
import Testing
@testable import Policy

/// `server.control`: the HTTP control endpoint's address, loopback unless opted out.
@Suite struct ControlSettingsTests {
    @Test("default 127.0.0.1:8053; off; [::1]; a non-loopback address only with allow_remote")
    func addresses() throws {
        #expect(try load(basePolicy).settings.control.listen == ServerSettings.ListenAddress(host: "127.0.0.1", port: 8053))
        #expect(try load("server:\n  control: { listen: off }\n" + basePolicy).settings.control.listen == nil)
        #expect(try load("server:\n  control: { listen: \"[::1]:9153\" }\n" + basePolicy).settings.control.listen
                == ServerSettings.ListenAddress(host: "::1", port: 9153))
        let remote = try load("server:\n  control: { listen: \"192.0.2.1:8053\", allow_remote: true }\n" + basePolicy)
        #expect(remote.settings.control.listen == ServerSettings.ListenAddress(host: "192.0.2.1", port: 8053))
        #expect(remote.settings.control.allowRemote)
    }

    @Test("each mistake gets file:line:column and what to write instead")
    func mistakes() {
        #expect(diagnostics("server:\n  control: { listen: \"192.0.2.1:8053\" }\n" + basePolicy) == [
            "t.yaml:2:22: server.control.listen 192.0.2.1:8053 is not a loopback address: the control endpoint has no authentication; use 127.0.0.1 or [::1] (a reverse proxy can expose it), or set server.control.allow_remote: true",
        ])
        #expect(diagnostics("server:\n  control: { listen: localhost:80 }\n" + basePolicy) == [
            "t.yaml:2:22: server.control.listen 'localhost:80' must be IP:PORT, like \"127.0.0.1:8053\" or \"[::1]:8053\" (port 1...65535), or off",
        ])
        #expect(diagnostics("server:\n  listen: [\"127.0.0.1:8053\"]\n  control: { listen: \"127.0.0.1:8053\" }\n" + basePolicy) == [
            "t.yaml:3:22: server.control.listen 127.0.0.1:8053 is also a DNS listen address: give the control endpoint its own port (default 127.0.0.1:8053)",
        ])
        #expect(diagnostics("server:\n  control: { lisen: off }\n" + basePolicy).first?.contains("t.yaml:2:14: unknown key 'lisen' in server.control; did you mean 'listen'?") == true)
    }

    @Test("serverSettings(path:) reads the server: section alone, before the compile")
    func earlyRead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("geodns-control-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("config.yaml")
        // A zone error later in the file does not hide the control address (the full load reports it).
        try ("server:\n  control: { listen: \"127.0.0.1:9999\" }\n  geoip: missing.mmdb\nzones: 5\n").write(to: file, atomically: true, encoding: .utf8)
        #expect(PolicyLoader.serverSettings(path: file.path)?.control.listen == ServerSettings.ListenAddress(host: "127.0.0.1", port: 9999))
        try ("server:\n  control: { listen: \"8.8.8.8:1\" }\n").write(to: file, atomically: true, encoding: .utf8)
        #expect(PolicyLoader.serverSettings(path: file.path) == nil)
        #expect(PolicyLoader.serverSettings(path: dir.appendingPathComponent("absent.yaml").path) == nil)
    }
}
