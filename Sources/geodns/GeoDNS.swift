import ArgumentParser

@main
struct GeoDNS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "geodns",
        abstract: "An authoritative GeoDNS nameserver.",
        subcommands: [])
}
