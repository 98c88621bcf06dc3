import Authority
import DNSWire
import Foundation
import GeoIP
import Policy
import Testing
import TestSupport

/// Every input in Tests/ServerTests/Corpus is replayed here on every `make test`: the seeds of
/// `make fuzz` and every input that ever crashed a fuzzer (copied in from `crash-*` files).
/// Nothing may trap; the checks are the fuzz targets' own invariants, in short.
@Suite("fuzz corpus replay")
struct CorpusReplayTests {
    static let root = Repository.root
    static let corpus = Repository.root.appendingPathComponent("Tests/ServerTests/Corpus")

    static func files(_ sub: String) -> [URL] {
        let dir = corpus.appendingPathComponent(sub)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir.appendingPathComponent($0) }
    }

    static let database = try? GeoIPDatabase(path: root.appendingPathComponent("data/geodns-demo.mmdb").path)

    @Test("policy corpus: each file loads or fails with positioned diagnostics, the same way twice")
    func policy() throws {
        let inputs = Self.files("policy")
        #expect(inputs.count >= 5)
        for url in inputs {
            let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
            func outcome() -> String {
                do {
                    return "ok \(try PolicyLoader.load(yaml: text, path: "fuzz.yaml", database: Self.database).zones.count)"
                } catch {
                    #expect(!error.diagnostics.isEmpty, "\(url.lastPathComponent)")
                    #expect(error.diagnostics.allSatisfy { $0.line >= 1 && $0.column >= 1 && !$0.message.isEmpty }, "\(url.lastPathComponent)")
                    return error.description
                }
            }
            #expect(outcome() == outcome(), "\(url.lastPathComponent)")
        }
    }

    @Test("message corpus: every packet gets a decodable reply with its ID, or none")
    func message() throws {
        let config = Self.root.appendingPathComponent("config.yaml")
        let yaml = try String(contentsOf: config, encoding: .utf8)
        let catalog = try PolicyLoader.load(yaml: yaml, path: config.path, database: Self.database)
        for url in Self.files("message") {
            let bytes = [UInt8](try Data(contentsOf: url))
            for transport in [Transport.udp, .tcp] {
                guard let reply = Authority.respond(to: bytes, source: .v4(0x5102_4501), transport: transport, catalog: catalog) else { continue }
                let message = try? Message(decoding: reply)
                #expect(message?.header.isResponse == true, "\(url.lastPathComponent)")
                if bytes.count >= 2 { #expect(message?.header.id == UInt16(bytes[0]) << 8 | UInt16(bytes[1]), "\(url.lastPathComponent)") }
            }
        }
    }

    /// The UDP fast path (what the daemon's workers run first) must agree with the general engine
    /// on every corpus packet: the same bytes, or no reply where it gives none, or a hand-over.
    @Test("message corpus: the UDP fast path agrees with the general engine")
    func fastPathAgrees() throws {
        let config = Self.root.appendingPathComponent("config.yaml")
        let yaml = try String(contentsOf: config, encoding: .utf8)
        let catalog = try PolicyLoader.load(yaml: yaml, path: config.path, database: Self.database)
        let fast = Authority.FastPath(catalog: catalog)
        var scratch = Authority.FastPathScratch()
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        defer { out.deallocate() }
        for url in Self.files("message") {
            let bytes = [UInt8](try Data(contentsOf: url))
            let n = bytes.withUnsafeBytes { fast.respond(to: $0, source: .v4(0x5102_4501), into: out, scratch: &scratch) }
            guard n != Authority.FastPath.askGeneral else { continue }
            let general = Authority.respond(to: bytes, source: .v4(0x5102_4501), transport: .udp, catalog: catalog)
            let agrees = n == Authority.FastPath.drop ? general == nil : Array(out[0..<min(n, out.count)]) == general
            // The fuzz-found case (fastpath-*.bin: bytes after the question) must now agree too:
            // the express tier hands such datagrams to the general engine (b29d067).
            #expect(agrees, "\(url.lastPathComponent): fast path and general engine disagree")
        }
    }
}
