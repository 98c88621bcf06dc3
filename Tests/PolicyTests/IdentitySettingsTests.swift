import Foundation
import Testing
@testable import Policy

/// `server.identity` and `server.version` (issue 16): default none, `hostname` = this host's name
/// read at load, and mistakes reported at file:line:column.
@Suite struct IdentitySettingsTests {
    @Test func defaultIsNone() throws {
        let c = try load(basePolicy)
        #expect(c.settings.identity == nil && c.settings.version == nil)
    }

    @Test func valuesAreTakenAsWritten() throws {
        let c = try load("server: { identity: edge-1, version: \"geodns 1.0\" }\n" + basePolicy)
        #expect(c.settings.identity == "edge-1")
        #expect(c.settings.version == "geodns 1.0")
    }

    @Test func hostnameMeansTheHostsName() throws {
        let c = try load("server: { identity: hostname }\n" + basePolicy)
        // What the kernel holds (Linux), as `hostname` prints it.
        let kernel = try String(contentsOfFile: "/proc/sys/kernel/hostname", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!kernel.isEmpty)
        #expect(c.settings.identity == kernel)
    }

    @Test func emptyOrTooLongIsAnErrorWithItsPosition() {
        let empty = diagnostics("server: { identity: \"\" }\n" + basePolicy)
        #expect(empty.contains { $0.hasPrefix("t.yaml:1:21: ") && $0.contains("server.identity is empty") }, "\(empty)")
        let long = diagnostics("server:\n  version: \(String(repeating: "v", count: 256))\n" + basePolicy)
        #expect(long.contains { $0.hasPrefix("t.yaml:2:12: ") && $0.contains("256 bytes long; at most 255") }, "\(long)")
        let list = diagnostics("server: { identity: [a, b] }\n" + basePolicy)
        #expect(list.contains { $0.hasPrefix("t.yaml:1:21: ") && $0.contains("server.identity must be a single value") }, "\(list)")
    }
}
