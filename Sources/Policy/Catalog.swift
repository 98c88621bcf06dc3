import DNSWire
import GeoIP

/// A compiled, validated, immutable policy: what the daemon serves. Built by `PolicyLoader`
/// from `config.yaml` plus the MaxMind database; readers only ever see a finished one and a
/// reload swaps the whole value (DESIGN.md "Parse, don't validate").
public struct Catalog: Sendable {
    public var settings: ServerSettings
    /// Zones, most labels first, so the first `apex` that contains a name is its zone.
    public var zones: [Zone]
    /// Regions in declaration order; `RegionID` indexes this array. `regions.count` is the
    /// implicit "no region matched" id used by decision tables.
    public var regions: [Region]
    public var tests: [PolicyTest]
    /// The file the policy came from (for messages).
    public var sourcePath: String
    /// The database the tables were compiled from (kept for `geodns explain`, never used per query).
    public var database: GeoIPDatabase?
    /// Client address -> region chain id (`regionChains`; `regions.count` = no region matched), the table every
    /// steered decision was relabelled from. Set by `PolicyLoader`.
    public var regionTable: DecisionTable?
    /// What the region table's values stand for: chain id -> regions containing the client,
    /// most specific first (`RegionChains`). Set by `PolicyLoader`.
    public var regionChains = RegionChains(regionCount: 0)
    /// The database's metadata in one line (type, tree, nodes, build time, languages), kept
    /// after `dropExplainData` for the daemon's load and reload logs.
    public var databaseSummary: String?
    /// With several `server.geoip` databases, all of them (`database` is the first), for
    /// `geodns explain`; dropped with it.
    public var databases: [GeoSource] = []
    /// Compile time and table sizes (set by `PolicyLoader`).
    public var report: CompileReport?
    /// Problems that do not stop the policy loading (`file:line:column: warning: ...`), e.g.
    /// regions keyed on the database while none is configured, pools that can never answer,
    /// regions no steered name uses. `geodns check` and reloads should print them.
    public var warnings: [Diagnostic] = []

    public init(settings: ServerSettings, zones: [Zone], regions: [Region], tests: [PolicyTest],
                sourcePath: String, database: GeoIPDatabase?) {
        self.settings = settings
        self.zones = zones.sorted { $0.apex.labelCount > $1.apex.labelCount }
        self.regions = regions
        self.tests = tests
        self.sourcePath = sourcePath
        self.database = database
    }

    /// Drops what only `geodns explain` and `geodns test` read — the database and the region
    /// table (GeoLite2-City: the 55 MB mapping and ~6 MB of runs) — for a server, whose queries
    /// use the compiled decision tables alone. Closing the database also means an operator
    /// replacing the file cannot fault the mapping under a running server.
    public mutating func dropExplainData() {
        database = nil
        databases = []
        regionTable = nil
    }

    /// The zone whose apex is the closest enclosing name of `name`, if any.
    public func zone(for name: DomainName) -> Zone? {
        zones.first { name.isSubdomain(of: $0.apex) }
    }
}

/// The client as the answer engine sees it: the (already truncated) ECS address, or the
/// packet's source address. Numeric values as in `IPv4Address.rawValue` / `IPv6Address.rawValue`.
public enum ClientAddress: Hashable, Sendable {
    case v4(UInt32)
    case v6(UInt128)
}

public struct ServerSettings: Sendable, Equatable {
    public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
        public var host: String      // "127.0.0.1" or "::1"
        public var port: Int
        public init(host: String, port: Int) { self.host = host; self.port = port }
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }
    public struct ECS: Sendable, Equatable {
        public var enabled: Bool = true
        public var maxSourceV4: UInt8 = 24
        public var maxSourceV6: UInt8 = 56
        public init() {}
    }
    public var listen: [ListenAddress] = [ListenAddress(host: "127.0.0.1", port: 5353)]
    /// Absolute path of the MaxMind database (relative paths in YAML resolve against the config's folder).
    public var databasePath: String?
    /// Every `server.geoip` database in order (a path, a list, or `{ location:, asn: }`);
    /// `databasePath` is the first one's.
    public var databases: [DatabaseSource] = []
    public var ecs = ECS()
    /// Our EDNS UDP payload size: the most we send over UDP (RFC 6891, DNS flag day 2020: 1232).
    public var udpPayloadSize: UInt16 = 1232
    public var tcpIdleTimeoutSeconds: Double = 10
    public var tcpMaxConnections: Int = 1024
    /// Queries answered on one TCP connection before the server closes it; nil: no cap (the
    /// default, as gdnsd, Knot and PowerDNS have none). RFC 7766 §6.2.1.1: at the cap the server
    /// stops reading and answers what it has received before it closes.
    public var tcpMaxQueriesPerConnection: Int? = nil
    /// Abuse limits (ServerSettings+Limits.swift): a TCP message once started must arrive whole
    /// within this many seconds; error replies a second per client prefix over UDP (0: no limit);
    /// response rate limiting.
    public var tcpReadTimeoutSeconds: Double = 2
    public var errorRepliesPerSecond: Int = 100
    public var rrl = RRL()
    /// The HTTP control endpoint (ServerSettings+Control.swift).
    public var control = Control()
    /// DNS Cookies (ServerSettings+Cookies.swift).
    public var cookies = Cookies()
    /// Which instance answered (PolicyLoader+Identity.swift): `identity` as NSID and CH TXT
    /// id.server./hostname.bind., `version` as CH TXT version.bind./version.server.; nil: REFUSED.
    public var identity: String? = nil
    public var version: String? = nil
    public init() {}
}

public typealias RegionID = Int

/// A named client set (`regions:` in YAML). Matching order is documented in the README:
/// explicit networks (longest prefix) > ASN > subdivision > country > continent.
public struct Region: Sendable, Hashable {
    public var name: String
    public var continents: [String]
    public var countries: [String]
    public var subdivisions: [String]   // "US-NY" (country-subdivision ISO 3166-2)
    public var asns: [UInt32]
    public var networks: [String]       // CIDR text as written, e.g. "203.0.113.0/24"
    public init(name: String, continents: [String] = [], countries: [String] = [], subdivisions: [String] = [],
                asns: [UInt32] = [], networks: [String] = []) {
        self.name = name; self.continents = continents; self.countries = countries
        self.subdivisions = subdivisions; self.asns = asns; self.networks = networks
    }
}

/// A set of RRs of one type at one name, one TTL (RFC 2181 §5).
public struct RRSet: Sendable, Hashable {
    public var type: RRType
    public var ttl: UInt32
    public var rdata: [RData]
    /// A pool's `order: rotate`: answered rotated by the query's ID (`rdata` from index
    /// id % count on, then wrapped), so each query gets its rotation and a retransmission the same.
    public var rotate = false
    public init(type: RRType, ttl: UInt32, rdata: [RData]) { self.type = type; self.ttl = ttl; self.rdata = rdata }

    /// The records in the order a query with ID `id` gets them.
    public func ordered(forQueryID id: UInt16) -> [RData] {
        guard rotate, rdata.count > 1 else { return rdata }
        let k = Int(id) % rdata.count
        return Array(rdata[k...] + rdata[..<k])
    }
}

public struct Zone: Sendable {
    public var apex: DomainName
    /// The SOA RRset at the apex (TTL as configured).
    public var soa: ResourceRecord
    /// TTL for the SOA in negative answers: min(SOA TTL, SOA minimum) (RFC 2308 §3).
    public var negativeTTL: UInt32
    /// Every name that exists in the zone, keyed by the LOWERCASED name: the apex, every name
    /// with data or steering, every empty non-terminal between them and the apex, and wildcard
    /// owners (`*.example.com.`, RFC 4592) as their literal names.
    public var nodes: [DomainName: Node]
    public init(apex: DomainName, soa: ResourceRecord, negativeTTL: UInt32, nodes: [DomainName: Node]) {
        self.apex = apex; self.soa = soa; self.negativeTTL = negativeTTL; self.nodes = nodes
    }
}

public struct Node: Sendable {
    /// Static RRsets (the apex holds SOA and NS here too). A name with a CNAME holds nothing else.
    public var rrsets: [RRType: RRSet]
    /// Set when the name is steered (`steer:` in YAML).
    public var steering: Steering? {
        get { steeringBox?.steering }
        set { steeringBox = newValue.map(SteeringBox.init) }
    }
    /// The steering behind one reference: a node is two words, and names with the same rule
    /// hold the same box (`Compiler`), so a steered name costs its node, not its rule.
    var steeringBox: SteeringBox?
    public init(rrsets: [RRType: RRSet] = [:], steering: Steering? = nil) {
        self.rrsets = rrsets; self.steeringBox = steering.map(SteeringBox.init)
    }
    /// An empty non-terminal: exists (NODATA, not NXDOMAIN) but holds nothing.
    public var isEmpty: Bool { rrsets.isEmpty && steering == nil }
}

/// What to answer for a type the steered name has no data for.
public enum Fallback: String, Sendable {
    case soa      // NOERROR/NODATA with the SOA in authority (default)
    case notimp   // NOTIMP, as the seed's TCP example does
}

/// An immutable `Steering`, shared by the nodes of every name with the same rule.
final class SteeringBox: Sendable {
    let steering: Steering
    init(_ steering: Steering) { self.steering = steering }
}

public struct Steering: Sendable {
    public var ttl: UInt32
    public var fallback: Fallback
    /// The decision for each query type class. Keys: `.a`, `.aaaa`, `.cname`, and `.any` meaning
    /// "every other type" (only a CNAME pool answers those). A missing key means no region has data.
    public var decisions: [RRType: SteeredDecision]
    /// The rule as written, for `geodns explain` only (never read per query): for each region id
    /// with its own list, the pools tried in order; regions without one use `defaultPools`.
    /// Empty when unknown (hand-built catalogs); `explain` then shows the pool that answered.
    public var regionPools: [RegionID: [String]] = [:]
    public var defaultPools: [String] = []
    public init(ttl: UInt32, fallback: Fallback, decisions: [RRType: SteeredDecision]) {
        self.ttl = ttl; self.fallback = fallback; self.decisions = decisions
    }

    /// The decision that applies to a query type.
    public func decision(for type: RRType) -> SteeredDecision? {
        switch type {
        case .a, .aaaa, .cname: return decisions[type]
        default: return decisions[.any]
        }
    }
}

/// One steered choice: client address -> index into `answers`, with the ECS scope.
public struct SteeredDecision: Sendable {
    public var table: DecisionTable
    public var answers: [SteeredAnswer]
    public init(table: DecisionTable, answers: [SteeredAnswer]) { self.table = table; self.answers = answers }

    /// The answer for a client and the widest ECS scope over which every address gets that same
    /// answer (never wider; DESIGN.md "ECS scope").
    public func answer(for client: ClientAddress) -> (answer: SteeredAnswer, scope: UInt8) {
        let hit = table.lookup(client)
        guard hit.value < answers.count else { return (.noData, hit.scope) }
        return (answers[hit.value], hit.scope)
    }
}

public enum SteeredAnswer: Sendable, Hashable {
    /// Address records from `pool` (A or AAAA, per the decision's type).
    case records(pool: String, rrset: RRSet)
    /// The pool is a CNAME: answered for every query type.
    case cname(pool: String, target: DomainName)
    /// No pool in the region's list (nor the default) has data for this type -> `Fallback`.
    case noData
}

/// A policy test (`tests:` in YAML), run by `geodns test`.
public struct PolicyTest: Sendable, Hashable {
    public var name: DomainName
    public var type: RRType
    /// Client subnet as written ("81.2.69.0/24"); nil = a query without ECS from 127.0.0.1.
    public var subnet: String?
    /// Expected answer data in presentation form ("198.51.100.10", "eu.cdn.example.net.", "NXDOMAIN", "NODATA", "REFUSED").
    public var expect: [String]
    public var expectScope: UInt8?
    public var line: Int
    public init(name: DomainName, type: RRType, subnet: String?, expect: [String], expectScope: UInt8?, line: Int) {
        self.name = name; self.type = type; self.subnet = subnet; self.expect = expect
        self.expectScope = expectScope; self.line = line
    }
}
