import Foundation

// What several test targets share: the checkout's root and a seeded random generator.

/// The repository root (this file is Tests/TestSupport/TestSupport.swift).
public enum Repository {
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `relative` below the root, as a path.
    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a seeded generator, so a property test that fails
/// fails again with the same inputs.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
