import DNSWire
import Foundation
import Testing
@testable import Policy

/// The mistakes a newcomer makes first in config.yaml (issue 10): each gets `file:line:column`
/// and a message that says what to write instead. One row per mistake: the edit made to the
/// base policy (Support.swift), where the diagnostic must point, and the whole message.
@Suite struct OperatorMistakeTests {
    struct Mistake: CustomTestStringConvertible, Sendable {
        var name: String
        var replace: String
        var with: String
        /// "line:column", or "@needle" / "@needle#n" (LoaderValidationTests.resolve).
        var at: String
        var message: String
        var testDescription: String { name }
    }

    static let mistakes: [Mistake] = [
        .init(name: "typo in a key", replace: "    soa:", with: "    sao:", at: "9:5",
              message: "unknown key 'sao' in zone example.com.; did you mean 'soa'?"),
        .init(name: "undefined pool", replace: "[eu]", with: "[eu-web]", at: "14:34",
              message: "undefined pool 'eu-web' in steer www.example.com. region europe; did you mean 'eu'?"),
        .init(name: "bad IPv4 address", replace: "A: 192.0.2.10", with: "A: 192.0.2.300", at: "4:12",
              message: "'192.0.2.300' is not an IPv4 address (in pool 'eu' A); write four numbers 0-255 like 192.0.2.10"),
        .init(name: "IPv6 address under A", replace: "A: 192.0.2.53", with: "A: \"2001:db8::53\"", at: "@\"2001:db8::53",
              message: "'2001:db8::53' is not an IPv4 address (in A at ns1.example.com.); an IPv6 address goes under AAAA"),
        .init(name: "host bits set", replace: "{ continents: [EU] }", with: "{ networks: [203.0.113.7/24] }", at: "@203.0.113.7",
              message: "bad network '203.0.113.7/24': address has bits set past the prefix length; did you mean 203.0.113.0/24?"),
        .init(name: "duplicated region key", replace: "  europe: { continents: [EU] }",
              with: "  europe: { continents: [EU] }\n  europe: { countries: [GB] }", at: "3:3",
              message: "duplicate key 'europe' (first defined at 2:3); a key appears once per mapping: rename this one, or merge the two"),
        .init(name: "a country in two regions", replace: "  europe: { continents: [EU] }",
              with: "  europe: { continents: [EU], countries: [GB] }\n  uk: { countries: [GB] }", at: "@GB#2",
              message: "country GB is already in region 'europe' (at 2:43); a client may belong to one region per rule: remove it from one of the two"),
        .init(name: "CNAME beside an A", replace: "ns1: { A: 192.0.2.53 }", with: "ns1: { A: 192.0.2.53, CNAME: www }", at: "@CNAME: www",
              message: "CNAME at ns1.example.com. beside other data (A); a CNAME owner holds nothing else (RFC 1034 §3.6.2): keep the CNAME alone, or drop it and keep the A"),
        .init(name: "wrong indentation", replace: "    ns: [ns1]", with: "     ns: [ns1]", at: "10:6",
              message: "YAML syntax error: did not find expected key (while parsing a block mapping at 9:5); wrong indentation? this line starts in column 6, no block above starts there: indent it like line 9 (column 5), with spaces"),
        .init(name: "a tab", replace: "    ns: [ns1]", with: "\tns: [ns1]", at: "10:1",
              message: "YAML syntax error: found character that cannot start any token (while scanning for the next token at 10:1); a tab at 10:1: YAML indents with spaces only, replace the tab with spaces"),
        .init(name: "missing SOA", replace: "    soa: { mname: ns1, rname: hostmaster, serial: 1 }\n", with: "", at: "8:3",
              message: "zone example.com. has no soa: (required for an authoritative zone); add soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 1 }"),
        .init(name: "UK for GB", replace: "{ continents: [EU] }", with: "{ countries: [UK] }", at: "@UK",
              message: "'UK' is not an ISO 3166-1 alpha-2 country code; the United Kingdom is GB"),
        .init(name: "a three-letter country code", replace: "{ continents: [EU] }", with: "{ countries: [DEU] }", at: "@DEU",
              message: "'DEU' is not an ISO 3166-1 alpha-2 country code; write the two-letter code DE, not the three-letter DEU"),
        .init(name: "a country code that does not exist", replace: "{ continents: [EU] }", with: "{ countries: [XY] }", at: "@XY",
              message: "'XY' is not an ISO 3166-1 alpha-2 country code; write a two-letter code like GB, US or JP"),
        .init(name: "a continent by name", replace: "[EU]", with: "[Europe]", at: "@Europe",
              message: "'Europe' is not a continent code: write EU for Europe"),
        .init(name: "a country as a continent", replace: "[EU]", with: "[FR]", at: "@FR",
              message: "'FR' is not a continent code: FR is a country: write it under countries:"),
        .init(name: "TTL written 5 minutes", replace: "www: {", with: "www: { ttl: 5 minutes,", at: "@5 minutes",
              message: "steer www.example.com. ttl must be a TTL in seconds (0...2147483647, or with units like 5m, 1h, 1d), found '5 minutes'; write 300 or 5m"),
        .init(name: "TTL written 1 hour 30 mins", replace: "ns1: { A", with: "ns1: { ttl: 1 hour 30 mins, A", at: "@1 hour",
              message: "records for ns1.example.com. ttl must be a TTL in seconds (0...2147483647, or with units like 5m, 1h, 1d), found '1 hour 30 mins'; write 5400 or 1h30m"),
        .init(name: "unsupported record type", replace: "ns1: { A: 192.0.2.53 }", with: "ns1: { A: 192.0.2.53, LOC: x }", at: "@LOC",
              message: "record type LOC is not supported in records; supported: \(PolicyLoader.recordTypes.joined(separator: ", "))"),
        .init(name: "SPF record type", replace: "ns1: { A: 192.0.2.53 }", with: "ns1: { A: 192.0.2.53, SPF: x }", at: "@SPF",
              message: "record type SPF is not supported in records; SPF policies are TXT records (RFC 7208 §3.1): write TXT: [\"v=spf1 ...\"]"),
        .init(name: "a CAA tag with a typo (warning)", replace: "ns1: { A: 192.0.2.53 }", with: "ns1: { A: 192.0.2.53, CAA: '0 isue \"ca.example.net\"' }",
              at: "@'0 isue", message: "warning: CAA tag 'isue' in CAA at ns1.example.com. is not one CAs act on (\(CAARecord.knownTags.joined(separator: ", "))); did you mean 'issue'?"),
        .init(name: "HTTPS in AliasMode with parameters", replace: "ns1: { A: 192.0.2.53 }", with: "ns1: { A: 192.0.2.53, HTTPS: '0 . alpn=h2' }",
              at: "@'0 .", message: "priority 0 is AliasMode, which takes no SvcParams (RFC 9460 §2.4.2): use priority 1 or more, or drop the parameters (in HTTPS at ns1.example.com.; write it like '1 . alpn=h2,h3 ipv4hint=192.0.2.1')"),
        .init(name: "HTTPS mixing AliasMode and ServiceMode (warning)", replace: "ns1: { A: 192.0.2.53 }", with: "ns1: { A: 192.0.2.53, HTTPS: ['0 svc', '1 .'] }",
              at: "@['0 svc'", message: "warning: HTTPS at ns1.example.com. mixes AliasMode (priority 0) and ServiceMode records; clients ignore the ServiceMode ones (RFC 9460 §2.4.2): keep one kind"),
        .init(name: "a pool no name uses (warning)", replace: "  eu: { A: 192.0.2.10 }", with: "  eu: { A: 192.0.2.10 }\n  spare: { A: 192.0.2.99 }",
              at: "@spare", message: "warning: pool 'spare' is not used by any steered name; list it in a steer's regions: or default:, or remove it"),
    ]

    @Test(arguments: mistakes)
    func mistakeGetsPositionAndFix(_ m: Mistake) throws {
        #expect(basePolicy.contains(m.replace), "the row edits text the base policy has")
        let yaml = basePolicy.replacingOccurrences(of: m.replace, with: m.with)
        let position = LoaderValidationTests.resolve(m.at, in: yaml)
        let found: [String]
        if m.message.hasPrefix("warning: ") {
            found = try load(yaml).warnings.map(\.description)
        } else {
            found = diagnostics(yaml)
            #expect(!found.isEmpty, "the policy must not load")
        }
        #expect(found.contains("t.yaml:\(position): \(m.message)"),
                "wanted t.yaml:\(position): \(m.message)\ngot:\n\(found.joined(separator: "\n"))")
    }

    @Test func everyISOCountryAndKosovoLoad() throws {
        #expect(ISO3166.alpha2.count == 250)
        for code in ["GB", "US", "JP", "DE", "XK", "SC", "AQ"] { #expect(ISO3166.hint(for: code) == nil, "\(code)") }
        let yaml = basePolicy.replacingOccurrences(of: "{ continents: [EU] }", with: "{ countries: [gb, XK] }")
        #expect(try load(yaml).regions.first?.countries == ["GB", "XK"])
    }

    @Test func spelledDurations() {
        #expect(YAMLReader.spelledDuration("5 minutes")! == (300, "5m"))
        #expect(YAMLReader.spelledDuration("2 days")! == (172_800, "2d"))
        #expect(YAMLReader.spelledDuration("30 secs")! == (30, "30s"))
        #expect(YAMLReader.spelledDuration("soon") == nil)
        #expect(YAMLReader.spelledDuration("5 fortnights") == nil)
    }
}
