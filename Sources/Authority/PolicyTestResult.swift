import DNSWire
import Policy

/// The outcome of one `tests:` entry of the policy (`geodns test`).
public struct PolicyTestResult: Sendable, Hashable, CustomStringConvertible {
    public var test: PolicyTest
    public var passed: Bool
    /// What the engine answered, in the form `expect` uses: the answer data in presentation form
    /// (sorted), or one RCODE word: "NXDOMAIN", "NODATA" (NOERROR without answers), "REFUSED", ...
    public var got: [String]
    /// The ECS scope of the reply (nil when the test sends no ECS, or the reply carries none).
    public var gotScope: UInt8?
    /// Why it failed, in words; nil when it passed.
    public var problem: String?

    public var expected: [String] { test.expect }
    public var line: Int { test.line }

    public init(test: PolicyTest, passed: Bool, got: [String], gotScope: UInt8?, problem: String?) {
        self.test = test; self.passed = passed; self.got = got; self.gotScope = gotScope; self.problem = problem
    }

    /// `line 42: www.example.com. A from 81.2.69.0/24: ok` or the same with FAIL and got vs expected.
    public var description: String {
        let from = test.subnet.map { "from \($0)" } ?? "without ECS from 127.0.0.1"
        var s = "line \(test.line): \(test.name) \(test.type) \(from): "
        if passed {
            s += "ok (\(got.joined(separator: ", "))"
            if let scope = gotScope { s += ", scope /\(scope)" }
            return s + ")"
        }
        s += "FAIL"
        if let problem { s += ": \(problem)" }
        return s
    }
}

extension Authority {
    /// Runs every `tests:` entry of the policy against the catalog, in order.
    ///
    /// Each test is a query for `name type` class IN: with `subnet`, an EDNS query carrying that
    /// ECS option from 127.0.0.1; without, a plain query from 127.0.0.1. The reply's answer data
    /// is compared order-insensitively with `expect` (addresses in any text form, names with or
    /// without the final dot, case-insensitively); an `expect` of one RCODE word ("NXDOMAIN",
    /// "NODATA", "REFUSED", "NOTIMP", ...; "NOERROR" = any successful answer) checks the RCODE instead; `expectScope` checks the ECS
    /// scope (0 when the reply carries none).
    public static func runTests(_ catalog: Catalog) -> [PolicyTestResult] {
        catalog.tests.map { run($0, catalog: catalog) }
    }

    static let loopback = ClientAddress.v4(0x7F00_0001)
    static let rcodeWords: Set<String> = ["NOERROR", "NODATA", "NXDOMAIN", "REFUSED", "NOTIMP", "SERVFAIL",
                                          "FORMERR", "BADVERS", "NOTZONE"]

    static func run(_ test: PolicyTest, catalog: Catalog) -> PolicyTestResult {
        let query: Query
        switch testQuery(name: test.name, type: test.type, subnet: test.subnet) {
        case .success(let q): query = q
        case .failure(let problem):
            return PolicyTestResult(test: test, passed: false, got: [], gotScope: nil, problem: problem.description)
        }
        let client = clientAddress(for: query, source: loopback, settings: catalog.settings.ecs)
        let reply = answer(query, client: client, catalog: catalog)
        let got = outcome(of: reply)
        let gotScope = reply.edns?.clientSubnet?.scopePrefix

        var problems: [String] = []
        let expectWord = test.expect.count == 1 ? test.expect[0].uppercased() : nil
        if let word = expectWord, rcodeWords.contains(word) {
            // NOERROR: any successful answer, with data or without.
            let matches = word == "NOERROR" ? reply.rcode == .noError : got == [word]
            if !matches { problems.append("got \(show(got)), expected \(word)") }
        } else {
            let want = test.expect.map(normalized).sorted()
            let have = got.map(normalized).sorted()
            if want != have { problems.append("got \(show(got)), expected \(show(test.expect))") }
        }
        if let wantScope = test.expectScope, (gotScope ?? 0) != wantScope {
            problems.append("got scope /\(gotScope ?? 0), expected /\(wantScope)")
        }
        return PolicyTestResult(test: test, passed: problems.isEmpty, got: got, gotScope: gotScope,
                                problem: problems.isEmpty ? nil : problems.joined(separator: "; "))
    }

    /// The query a test (or `geodns explain`) sends: id 0, RD clear, class IN; with a subnet, EDNS
    /// (our payload size) carrying ECS for it, source prefix = the subnet's length.
    static func testQuery(name: DomainName, type: RRType, subnet: String?) -> Result<Query, SetupProblem> {
        var header = Header()
        header.questionCount = 1
        var query = Query(header: header, question: Question(name: name, type: type))
        guard let subnet else { return .success(query) }
        switch IPNetwork.parse(subnet) {
        case .failure(let problem):
            return .failure(SetupProblem(description: "subnet '\(subnet)': \(problem)"))
        case .success(.v4(let address, let length)):
            query.edns = EDNS(clientSubnet: ClientSubnet(ipv4: IPv4Address(rawValue: address),
                                                         sourcePrefix: UInt8(clamping: length)))
        case .success(.v6(let address, let length)):
            query.edns = EDNS(clientSubnet: ClientSubnet(ipv6: IPv6Address(rawValue: address),
                                                         sourcePrefix: UInt8(clamping: length)))
        }
        return .success(query)
    }

    /// The reply as `expect` words: sorted answer data, or the RCODE word.
    static func outcome(of reply: Message) -> [String] {
        let rcode = reply.rcode
        if rcode != .noError { return [rcode.description] }
        if reply.answers.isEmpty { return ["NODATA"] }
        return reply.answers.map { $0.rdata.presentationText }.sorted()
    }

    /// Comparison form: canonical address text; otherwise lowercased, unquoted, no final dot.
    static func normalized(_ text: String) -> String {
        var s = text.trimmingCharacters()
        if let a = IPv4Address(s) { return a.description }
        if let a = IPv6Address(s) { return a.description }
        if s.count >= 2, s.hasPrefix("\""), s.hasSuffix("\"") { s = String(s.dropFirst().dropLast()) }
        s = s.lowercased()
        if s.count > 1, s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// A test or explain request that cannot be turned into a query.
    struct SetupProblem: Error, CustomStringConvertible { var description: String }

    static func show(_ list: [String]) -> String { "[" + list.joined(separator: ", ") + "]" }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
