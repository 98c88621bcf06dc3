import ArgumentParser
import Authority
import Policy

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the policy's `tests:` (query, subnet, expected answer and scope) without a network.")

    @OptionGroup var options: ConfigOption

    func run() throws {
        let catalog = try options.loadCatalog()
        let results = Authority.runTests(catalog)
        var failed = 0
        for result in results {
            print(result)
            if !result.passed { failed += 1 }
        }
        print("\(results.count - failed) passed, \(failed) failed")
        if failed > 0 || results.isEmpty && !catalog.tests.isEmpty { throw ExitCode.failure }
    }
}
