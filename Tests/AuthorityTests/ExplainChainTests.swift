import DNSWire
import GeoIP
import Policy
import Testing
@testable import Authority

/// `geodns explain` prints the region chain and, per steered name, the regions it walked past
/// to the first one it lists (issue 17).
@Suite struct ExplainChainTests {
    static let policy = """
    regions:
      asia:   { continents: [AS] }
      japan:  { countries: [JP] }
      office: { networks: [1.0.16.0/24] }
    pools:
      as-web: { A: 198.51.100.30 }
      jp-web: { A: 198.51.100.32 }
      office: { A: 198.51.100.99 }
      global: { A: 198.51.100.1 }
    zones:
      example.com:
        soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 1 }
        ns: [ns1.example.com.]
        records: { ns1: { A: 192.0.2.53 } }
        steer:
          www: { regions: { asia: [as-web] }, default: global }
          img: { regions: { japan: [jp-web], office: [office] }, default: global }
          oc:  { regions: { office: [office] }, default: global }

    """

    static func explain(_ name: String, _ subnet: String) throws -> String {
        let path = YAMLScenarioTests.repository + "/data/geodns-demo.mmdb"
        let catalog = try PolicyLoader.load(yaml: policy, path: "t.yaml", database: try GeoIPDatabase(path: path))
        return Authority.explain(name: try DomainName(name), type: .a, subnet: subnet, catalog: catalog).description
    }

    @Test func printsTheChainAndTheRegionsEachNameWalked() throws {
        let www = try Self.explain("www.example.com.", "202.12.27.0/24")
        #expect(www.contains("region chain: japan (country JP) -> asia (continent AS)"), "\(www)")
        #expect(www.contains("regions walked: japan (not listed) -> asia (listed)"), "\(www)")
        #expect(www.contains("-> pool as-web: A 198.51.100.30"), "\(www)")
        let img = try Self.explain("img.example.com.", "1.0.16.0/24")
        #expect(img.contains("region chain: office (networks 1.0.16.0/24 (override)) -> japan (country JP) -> asia (continent AS)"), "\(img)")
        #expect(img.contains("regions walked: office (listed)") && img.contains("-> pool office"), "\(img)")
        // A name that lists none of the chain: its default.
        let oc = try Self.explain("oc.example.com.", "202.12.27.0/24")
        #expect(oc.contains("regions walked: japan (not listed) -> asia (not listed) -> default"), "\(oc)")
        #expect(oc.contains("-> pool global"), "\(oc)")
    }
}
