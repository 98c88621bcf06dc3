import CBuildInfo

/// What `geodns --version` prints: the release and the git commit of the build.
enum BuildInfo {
    static let version = "0.1.0"
    /// From the build (CBuildInfo): a 40-hex commit, `-dirty` when the tree had changes, or
    /// "unknown" when built without the Makefile (plain `swift build`).
    static let commit = String(cString: geodns_build_commit())
    static let versionLine = "geodns \(version) (commit \(commit))"
}
