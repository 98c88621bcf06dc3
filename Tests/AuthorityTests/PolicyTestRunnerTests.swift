import DNSWire
import Policy
import Testing
@testable import Authority

@Suite struct PolicyTestRunnerTests {
    @Test func runsEveryPolicyTest() {
        let results = Authority.runTests(Fixture.catalog())
        #expect(results.map(\.line) == [10, 11, 12, 13, 14, 15, 16, 17, 18])
        let passed = results.filter(\.passed).map(\.line)
        #expect(passed == [10, 11, 12, 13, 14, 15, 16])
        for r in results where r.passed { #expect(r.problem == nil) }
    }

    @Test func saysWhatWasGotAndExpected() throws {
        let results = Authority.runTests(Fixture.catalog())
        let wrongAnswer = try #require(results.first { $0.line == 17 })
        #expect(!wrongAnswer.passed)
        #expect(wrongAnswer.got == ["198.51.100.10"])
        #expect(wrongAnswer.description.contains("line 17"))
        #expect(wrongAnswer.description.contains("FAIL"))
        #expect(wrongAnswer.description.contains("198.51.100.10"))
        #expect(wrongAnswer.description.contains("198.51.100.1]"))
        let wrongScope = try #require(results.first { $0.line == 18 })
        #expect(!wrongScope.passed)
        #expect(wrongScope.gotScope == 16)
        #expect(wrongScope.problem == "got scope /16, expected /24")
    }

    @Test func reportsUnparsableSubnets() {
        var catalog = Fixture.catalog()
        catalog.tests = [PolicyTest(name: Fixture.name("www.example.com."), type: .a, subnet: "81.2.69.0/99",
                                    expect: ["198.51.100.10"], expectScope: nil, line: 3)]
        let r = Authority.runTests(catalog)
        #expect(r.count == 1 && !r[0].passed)
        #expect(r[0].problem?.contains("81.2.69.0/99") == true)
    }

    @Test func acceptsRCodeWords() {
        var catalog = Fixture.catalog()
        let www = Fixture.name("www.example.com.")
        catalog.tests = [
            PolicyTest(name: www, type: .a, subnet: nil, expect: ["NOERROR"], expectScope: nil, line: 1),
            PolicyTest(name: www, type: .txt, subnet: nil, expect: ["noerror"], expectScope: nil, line: 2),
            PolicyTest(name: Fixture.name("x.example.org."), type: .a, subnet: nil, expect: ["REFUSED"], expectScope: nil, line: 3),
            PolicyTest(name: Fixture.name("tcp.example.com."), type: .mx, subnet: nil, expect: ["NOTIMP"], expectScope: nil, line: 4),
            PolicyTest(name: Fixture.name("nx.example.com."), type: .a, subnet: nil, expect: ["NOERROR"], expectScope: nil, line: 5),
        ]
        #expect(Authority.runTests(catalog).map(\.passed) == [true, true, true, true, false])
    }

    @Test func normalizesExpectations() {
        #expect(Authority.normalized("2001:DB8:E:0:0:0:0:10") == "2001:db8:e::10")
        #expect(Authority.normalized("EU.cdn.example.net.") == "eu.cdn.example.net")
        #expect(Authority.normalized("\"v=spf1 -all\"") == "v=spf1 -all")
    }
}

@Suite struct ExplainPoolsTests {
    func steering(_ regionPools: [Int: [String]], _ defaults: [String]) -> Steering {
        var s = Steering(ttl: 60, fallback: .soa, decisions: [:])
        s.regionPools = regionPools
        s.defaultPools = defaults
        return s
    }

    @Test func listsThePoolsTriedUpToTheOneThatAnswered() {
        let s = steering([0: ["eu-web", "global-web"], 3: ["office-web", "global-web"]], ["global-web"])
        #expect(Authority.poolsTried(s, region: 0, answered: "eu-web") == ["eu-web"])
        #expect(Authority.poolsTried(s, region: 3, answered: "global-web") == ["office-web", "global-web"])
        #expect(Authority.poolsTried(s, region: 1, answered: "global-web") == ["global-web"])
        #expect(Authority.poolsTried(s, region: 0, answered: nil) == ["eu-web", "global-web", "global-web"])
        #expect(Authority.poolsTried(steering([:], []), region: 0, answered: "x") == [])
    }
}
