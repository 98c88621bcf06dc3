import Foundation
import Testing

/// `geodns --version` (issue 10): the release and the git commit the binary was built from. The
/// Makefile exports GEODNS_GIT_COMMIT to the build (and so to `make test`); a plain `swift build`
/// says "unknown" rather than guessing.
@Suite struct VersionTests {
    @Test func versionNamesTheReleaseAndTheCommitOfTheBuild() throws {
        let out = run(Paths.geodns, ["--version"])
        #expect(out.status == 0, "\(out.stderr)")
        let line = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let match = try #require(line.wholeMatch(of: /geodns (\d+\.\d+\.\d+) \(commit ([0-9a-f]{40}(?:-dirty)?|unknown)\)/), "\(line)")
        let commit = String(match.2)
        if let built = ProcessInfo.processInfo.environment["GEODNS_GIT_COMMIT"], !built.isEmpty {
            // Under `make test` the binary was built with this environment: it must carry it.
            #expect(commit == built, "binary says \(commit), the build had \(built)")
            let head = run("/usr/bin/git", ["-C", Paths.packageRoot.path, "rev-parse", "HEAD"])
            #expect(commit.hasPrefix(head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "HEAD is \(head.stdout)")
        }
    }

    @Test func subcommandsStillParseBesideVersion() {
        let out = run(Paths.geodns, ["mmdb", "info", Paths.packageRoot.appendingPathComponent("data/geodns-demo.mmdb").path])
        #expect(out.status == 0 && out.stdout.contains("database_type: GeoDNS-City"), "\(out)")
    }
}
