import ArgumentParser
import Policy

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a policy (and its database); print file:line:column for every error, exit non-zero on any.")

    @OptionGroup var options: ConfigOption

    @Flag(help: "Exit non-zero on any warning too (for CI).")
    var strict = false

    func run() throws {
        let file = options.path
        do {
            let catalog = try PolicyLoader.load(path: file)
            let names = catalog.zones.reduce(0) { $0 + $1.nodes.count }
            let steered = catalog.zones.reduce(0) { $0 + $1.nodes.values.filter { $0.steering != nil }.count }
            print("\(file): OK: \(catalog.zones.count) zone(s), \(names) names, \(steered) steered, "
                + "\(catalog.regions.count) region(s), \(catalog.tests.count) test(s)")
            if let report = catalog.report { print(report) }
            for warning in catalog.warnings {
                printError(warning.message.hasPrefix("warning") ? "\(warning)"
                    : "\(warning.file):\(warning.line):\(warning.column): warning: \(warning.message)")
            }
            if strict && !catalog.warnings.isEmpty {
                printError("\(file): \(catalog.warnings.count) warning(s), and --strict makes warnings fail")
                throw ExitCode.failure
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}

func printError(_ text: String) {
    var stderr = StandardError()
    print(text, to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var bytes = Array(string.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
