import DNSWire
import Foundation
import GeoIP
@testable import Policy
import TestSupport

/// A small valid policy; tests splice problems into it. Line numbers matter: keep in sync.
let basePolicy = """
regions:
  europe: { continents: [EU] }
pools:
  eu: { A: 192.0.2.10 }
  web: { A: 192.0.2.1, AAAA: "2001:db8::1" }
  cdn: { CNAME: cdn.example.net. }
zones:
  example.com:
    soa: { mname: ns1, rname: hostmaster, serial: 1 }
    ns: [ns1]
    records:
      ns1: { A: 192.0.2.53 }
    steer:
      www: { regions: { europe: [eu] }, default: web }

"""

func load(_ yaml: String, database: GeoIPDatabase? = nil) throws(PolicyError) -> Catalog {
    try PolicyLoader.load(yaml: yaml, path: "t.yaml", database: database)
}

/// The diagnostics of a policy that must fail ("" when it loads).
func diagnostics(_ yaml: String) -> [String] {
    do {
        _ = try load(yaml)
        return []
    } catch {
        return error.diagnostics.map(\.description)
    }
}

func name(_ text: String) -> DomainName {
    (try? DomainName(text)) ?? .root
}

/// The repository root.
let repositoryRoot: String = Repository.root.path

let demoDatabasePath = repositoryRoot + "/data/geodns-demo.mmdb"

let geoLite2Path: String? = {
    let candidates = [
        ProcessInfo.processInfo.environment["GEOLITE2_CITY"],
        "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/_maxminddb_geolite2/GeoLite2-City.mmdb",
    ]
    for c in candidates.compactMap({ $0 }) where FileManager.default.fileExists(atPath: c) { return c }
    // Ask python where the PyPI package put it.
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", "import _maxminddb_geolite2,os;print(os.path.join(os.path.dirname(_maxminddb_geolite2.__file__),'GeoLite2-City.mmdb'))"]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return nil }
    p.waitUntilExit()
    let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    return p.terminationStatus == 0 && FileManager.default.fileExists(atPath: out) ? out : nil
}()
