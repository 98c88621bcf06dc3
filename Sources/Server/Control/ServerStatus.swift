import Crypto
import DNSWire
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import Policy

/// What the control endpoint reports about the running daemon (`/health`, `/v1/status`, the
/// gauges of `/metrics`): its phase, the policy and database in force, the last reload. Written
/// at start, on every reload and at stop — never by the answering threads.
public final class ServerStatus: Sendable {
    public enum Phase: String, Sendable, Codable { case starting, serving, stopping }

    /// The policy in force, as `/v1/status` shows it.
    public struct Policy: Sendable, Codable, Equatable {
        public var file: String
        /// SHA-256 of the policy file's bytes as loaded (compare with `sha256sum config.yaml`).
        public var sha256: String
        /// SOA serial of each zone.
        public var serials: [String: UInt32]
        public var generation: Int
        /// Seconds since the Unix epoch when it took effect.
        public var loadedAt: Double
        /// The compiler's report line (database walk, table sizes, time), if it compiled steering.
        public var compile: String?
        public var compileSeconds: Double?
    }

    public struct Database: Sendable, Codable, Equatable {
        public var path: String
        public var type: String
        public var buildEpoch: UInt64
        public var nodeCount: Int
        public var ipVersion: Int
        public var languages: [String]
    }

    public struct Reload: Sendable, Codable, Equatable {
        public var at: Double
        public var ok: Bool
        /// The refusal, with file:line:column, when `ok` is false.
        public var error: String?
    }

    public struct Report: Sendable, Codable, Equatable {
        public var version: String
        public var phase: Phase
        public var startedAt: Double
        public var listen: [String]
        public var policy: Policy
        public var database: Database?
        public var lastReload: Reload?
    }

    private let state: NIOLockedValueBox<Report>

    public init(version: String, catalog: Catalog) {
        let now = Date().timeIntervalSince1970
        state = NIOLockedValueBox(Report(version: version, phase: .starting, startedAt: Self.processStart ?? now, listen: [],
                                         policy: Self.policy(catalog, generation: 0, at: now),
                                         database: Self.database(catalog), lastReload: nil))
    }

    public var report: Report { state.withLockedValue { $0 } }

    /// 200 on `/health`: the first policy is loaded and every socket is bound.
    public var isServing: Bool { report.phase == .serving }

    func serving(listen: [ServerSettings.ListenAddress]) {
        state.withLockedValue {
            $0.phase = .serving
            $0.listen = listen.map(\.description)
        }
    }

    func stopping() { state.withLockedValue { $0.phase = .stopping } }

    /// A reload took effect: `catalog` (before its explain data was dropped) is in force.
    func reloaded(_ catalog: Catalog, generation: Int) {
        let now = Date().timeIntervalSince1970
        let policy = Self.policy(catalog, generation: generation, at: now)
        let database = Self.database(catalog)
        state.withLockedValue {
            $0.policy = policy
            $0.database = database
            $0.lastReload = Reload(at: now, ok: true, error: nil)
        }
    }

    func reloadFailed(_ error: String) {
        let now = Date().timeIntervalSince1970
        state.withLockedValue { $0.lastReload = Reload(at: now, ok: false, error: error) }
    }

    /// When this process started, seconds since the Unix epoch: /proc/self/stat's start time
    /// (clock ticks after boot) plus /proc/stat's boot time.
    static let processStart: Double? = {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")"),
              let boot = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let btime = boot.split(separator: "\n").first(where: { $0.hasPrefix("btime ") })?.split(separator: " ").last.flatMap({ Double($0) })
        else { return nil }
        // Fields after the command: state is field 3, starttime field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        return btime + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }()

    static func policy(_ catalog: Catalog, generation: Int, at time: Double) -> Policy {
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: catalog.sourcePath))) ?? Data()
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        var serials: [String: UInt32] = [:]
        for zone in catalog.zones {
            if case .soa(let soa) = zone.soa.rdata { serials[zone.apex.description] = soa.serial }
        }
        let seconds = catalog.report.map { Double($0.duration.components.seconds) + Double($0.duration.components.attoseconds) / 1e18 }
        let file = URL(fileURLWithPath: catalog.sourcePath).standardizedFileURL.path
        return Policy(file: file, sha256: digest, serials: serials, generation: generation,
                      loadedAt: time, compile: catalog.report?.description, compileSeconds: seconds)
    }

    static func database(_ catalog: Catalog) -> Database? {
        guard let db = catalog.database else { return nil }
        let m = db.metadata
        return Database(path: db.path, type: m.databaseType, buildEpoch: m.buildEpoch, nodeCount: m.nodeCount,
                        ipVersion: m.ipVersion, languages: m.languages)
    }
}
