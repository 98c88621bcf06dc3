import ArgumentParser
import Policy

@main
struct GeoDNS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "geodns",
        abstract: "An authoritative GeoDNS nameserver: per-region answers chosen by EDNS Client Subnet and a MaxMind database.",
        version: BuildInfo.versionLine,
        subcommands: [ServeCommand.self, CheckCommand.self, TestCommand.self, ExplainCommand.self, MMDBCommand.self])
}

/// Options shared by the commands that read a policy: `--config FILE` or `FILE` (the last
/// positional argument), the same for every subcommand.
struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "The policy file (default config.yaml); may also be given as FILE.")
    var config: String?

    @Argument(help: "The policy file, the same as --config FILE.")
    var file: String?

    /// The policy's path: --config, else FILE, else config.yaml.
    var path: String { config ?? file ?? "config.yaml" }

    func validate() throws {
        if let config, let file, config != file {
            throw ValidationError("the policy is given twice (--config \(config) and \(file)); give one")
        }
    }
}

extension ConfigOption {
    /// The compiled policy, or its errors (file:line:column) on stderr and exit status 1.
    func loadCatalog() throws -> Catalog {
        do {
            return try PolicyLoader.load(path: path)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}
