/// One problem found in a policy file, located as `file:line:column` (1-based, columns counted
/// in Unicode scalars as libyaml does) so editors and CI annotate the exact spot.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file; self.line = line; self.column = column; self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Why a policy could not be loaded: one or more diagnostics, in file order. `geodns check`
/// prints `description` (one diagnostic per line) and exits non-zero.
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public init(file: String, line: Int = 1, column: Int = 1, _ message: String) {
        self.diagnostics = [Diagnostic(file: file, line: line, column: column, message: message)]
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
