import Foundation
import Testing

/// CAA (RFC 8659) and HTTPS/SVCB (RFC 9460) as static records, written in presentation form in
/// the YAML and answered to dig, which decodes them itself (issue 10).
@Suite struct StaticRecordTypesTests {
    static let policy = """
        zones:
          example.com:
            soa: { mname: ns1, rname: hostmaster, serial: 1 }
            ns: [ns1]
            records:
              "@":
                CAA: ['0 issue "letsencrypt.org"', '0 iodef "mailto:security@example.com"', '128 issuewild ";"']
                HTTPS: '1 . alpn=h2,h3 ipv4hint=192.0.2.1'
              ns1: { A: 192.0.2.53 }
              svc:
                HTTPS: '1 . alpn="h2,h3" port=8443 ipv6hint=2001:db8::1,2001:db8::2 mandatory=alpn,port'
                SVCB: '2 svc2 key65000=hello no-default-alpn alpn=h2'
              alias: { HTTPS: '0 svc' }
        """

    @Test func digReadsCAAAndHTTPS() throws {
        let dir = try PolicyDir(yaml: Self.policy)
        defer { dir.remove() }
        let check = run(Paths.geodns, ["check", dir.configPath])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let daemon = try Daemon(config: dir.configPath)
        defer { daemon.stop() }
        let caa = daemon.dig("example.com", "CAA")
        #expect(caa.status == "NOERROR" && caa.flags.contains("aa"), "\(caa)")
        #expect(caa.data("CAA") == ["0 iodef \"mailto:security@example.com\"", "0 issue \"letsencrypt.org\"", "128 issuewild \";\""], "\(caa)")
        #expect(daemon.dig("example.com", "HTTPS").data("HTTPS") == ["1 . alpn=\"h2,h3\" ipv4hint=192.0.2.1"])
        #expect(daemon.dig("svc.example.com", "HTTPS").data("HTTPS")
                == ["1 . mandatory=alpn,port alpn=\"h2,h3\" port=8443 ipv6hint=2001:db8::1,2001:db8::2"])
        #expect(daemon.dig("svc.example.com", "SVCB").data("SVCB") == ["2 svc2.example.com. alpn=\"h2\" no-default-alpn key65000=\"hello\""])
        #expect(daemon.dig("alias.example.com", "HTTPS").data("HTTPS") == ["0 svc.example.com."])
        // Over TCP too (kdig), and NODATA for a type the name does not have.
        #expect(daemon.kdig("example.com", "CAA", tcp: true).data("CAA").count == 3)
        let nodata = daemon.dig("ns1.example.com", "HTTPS")
        #expect(nodata.status == "NOERROR" && nodata.answer.isEmpty && nodata.authority.first?.type == "SOA", "\(nodata)")
    }

    @Test func badSVCBIsAnErrorWithItsPosition() throws {
        let dir = try PolicyDir(yaml: Self.policy.replacingOccurrences(of: "'0 svc'", with: "'0 svc alpn=h2'"))
        defer { dir.remove() }
        let check = run(Paths.geodns, ["check", dir.configPath])
        #expect(check.status != 0)
        #expect(check.stderr.contains("config.yaml:13:23: priority 0 is AliasMode, which takes no SvcParams (RFC 9460 §2.4.2): use priority 1 or more, or drop the parameters (in HTTPS at alias.example.com.; write it like '1 . alpn=h2,h3 ipv4hint=192.0.2.1')"),
                "\(check.stdout)\(check.stderr)")
    }
}
