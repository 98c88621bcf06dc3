import Policy
import Testing

/// The abuse-limit keys of the policy (server.rrl, server.error_replies_per_second,
/// server.tcp.read_timeout): values, defaults and positioned errors.
@Suite("policy limit keys")
struct PolicyLimitsTests {
    static let zones = """
    zones:
      example.com:
        soa: { mname: ns1, rname: hostmaster, serial: 1 }
        ns: [ns1]
    """

    func load(_ server: String) throws(PolicyError) -> ServerSettings {
        try PolicyLoader.load(yaml: "server:\n" + server + "\n" + Self.zones, path: "t.yaml", database: nil).settings
    }

    func errors(_ server: String) -> [String] {
        do {
            _ = try load(server)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    @Test("values are read; unset keys keep their defaults")
    func values() throws {
        let s = try load("""
          rrl: { enabled: true, responses_per_second: 50, slip: 3, ipv4_prefix: 22, ipv6_prefix: 48, dry_run: yes }
          error_replies_per_second: 7
          tcp: { read_timeout: 500ms, idle_timeout: 5s }
        """)
        #expect(s.rrl.enabled && s.rrl.responsesPerSecond == 50 && s.rrl.slip == 3)
        #expect(s.rrl.ipv4Prefix == 22 && s.rrl.ipv6Prefix == 48 && s.rrl.dryRun)
        #expect(s.errorRepliesPerSecond == 7 && s.tcpReadTimeoutSeconds == 0.5 && s.tcpIdleTimeoutSeconds == 5)
        let d = try load("  rrl: { enabled: true }")
        #expect(d.rrl.responsesPerSecond == 200 && d.rrl.slip == 2 && !d.rrl.dryRun && d.errorRepliesPerSecond == 100)
        #expect(d.tcpReadTimeoutSeconds == 2)
    }

    @Test("bad values and unknown keys are errors at their line and column")
    func badValues() {
        #expect(errors("  rrl: { slip: 900 }").first?.hasPrefix("t.yaml:2:16: server.rrl.slip must be an integer in 0...255") == true, "\(errors("  rrl: { slip: 900 }"))")
        #expect(errors("  rrl: { responses_per_second: 0 }").first?.contains("server.rrl.responses_per_second") == true)
        #expect(errors("  rrl: { ipv4_prefix: 33 }").count == 1)
        #expect(errors("  rrl: { enabled: maybe }").first?.contains("true or false") == true)
        #expect(errors("  rrl: { slipp: 2 }").first?.contains("did you mean 'slip'") == true, "\(errors("  rrl: { slipp: 2 }"))")
        #expect(errors("  error_replies_per_second: -1").count == 1)
        #expect(errors("  tcp: { read_timeout: 0 }").first?.contains("server.tcp.read_timeout") == true)
        #expect(errors("  tcp: { read_timeout: 2h }").count == 1)
    }
}
