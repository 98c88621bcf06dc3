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

/// Options shared by the commands that read a policy.
struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "The policy file.")
    var config: String = "config.yaml"
}

extension ConfigOption {
    /// The compiled policy, or its errors (file:line:column) on stderr and exit status 1.
    func loadCatalog() throws -> Catalog {
        do {
            return try PolicyLoader.load(path: config)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}
