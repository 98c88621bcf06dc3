import ArgumentParser
import Authority
import DNSWire
import Policy

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show why a client subnet gets its answer: prefix used, database record, region and rule, pools, answer, TTL, scope.")

    @Argument(help: "The query name, e.g. www.example.com")
    var name: String

    @Argument(help: "The query type, e.g. A, AAAA, CNAME.")
    var type: String = "A"

    @Option(help: "The client subnet as a resolver would send it in ECS, e.g. 81.2.69.0/24 or 2a02:26f0::/48.")
    var subnet: String

    @OptionGroup var options: ConfigOption

    func run() throws {
        var options = options
        var type = type
        // `explain NAME FILE`: the type left out, the policy given as FILE.
        if RRType(mnemonic: type) == nil, options.file == nil, type.hasSuffix(".yaml") || type.hasSuffix(".yml") {
            options.file = type
            type = "A"
        }
        guard let qtype = RRType(mnemonic: type) else {
            printError("unknown type \(type)")
            throw ExitCode.failure
        }
        let qname: DomainName
        do { qname = try DomainName(name) } catch {
            printError("bad name \(name): \(error)")
            throw ExitCode.failure
        }
        let catalog = try options.loadCatalog()
        let explanation = Authority.explain(name: qname, type: qtype, subnet: subnet, catalog: catalog)
        print(explanation)
    }
}
