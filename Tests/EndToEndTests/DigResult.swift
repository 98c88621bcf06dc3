import Foundation

/// What `dig` or `kdig` printed, read the way a user reads it.
struct DigResult: CustomStringConvertible {
    struct Record: Equatable {
        var name: String
        var ttl: Int
        var type: String
        var data: String
    }
    var raw: String
    var exitStatus: Int32
    var status: String?            // NOERROR, NXDOMAIN, ...
    var flags: Set<String> = []    // qr, aa, rd, tc, ...
    var answer: [Record] = []
    var authority: [Record] = []
    var additional: [Record] = []
    /// "81.2.69.0/24" and the scope, from the echoed ECS option.
    var ecsSubnet: String?
    var ecsScope: Int?
    var hasOPT = false
    var udpSize: Int?

    var description: String { raw }

    /// The answer section's data for `type` (all types when nil), sorted.
    func data(_ type: String? = nil) -> [String] {
        answer.filter { type == nil || $0.type == type }.map(\.data).sorted()
    }

    init(_ result: CommandResult) {
        raw = result.stdout + result.stderr
        exitStatus = result.status
        var section: String?
        for line in result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { section = nil; continue }
            if let m = trimmed.firstMatch(of: /status: (\w+)/), status == nil { status = String(m.1) }
            if let m = trimmed.firstMatch(of: /^;; [Ff]lags: ([a-z ]*)[;]/) {
                flags = Set(m.1.split(separator: " ").map(String.init))
            }
            if let m = trimmed.firstMatch(of: #/CLIENT-SUBNET: ([0-9a-fA-F:.]+/\d+)/(\d+)/#) {
                ecsSubnet = String(m.1); ecsScope = Int(m.2)
            }
            if trimmed.hasPrefix(";; OPT PSEUDOSECTION") || trimmed.hasPrefix(";; EDNS PSEUDOSECTION") { hasOPT = true }
            if let m = trimmed.firstMatch(of: /udp: (\d+)/) { udpSize = Int(m.1) }
            if let m = trimmed.firstMatch(of: /UDP size: (\d+)/) { udpSize = Int(m.1) }
            if trimmed.hasPrefix(";; ANSWER SECTION") { section = "answer"; continue }
            if trimmed.hasPrefix(";; AUTHORITY SECTION") { section = "authority"; continue }
            if trimmed.hasPrefix(";; ADDITIONAL SECTION") { section = "additional"; continue }
            if trimmed.hasPrefix(";") { if trimmed.hasPrefix(";;") && trimmed.hasSuffix("SECTION:") { section = "other" }; continue }
            guard let section, section != "other" else { continue }
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 4, let ttl = Int(fields[1]) else { continue }
            // name ttl class type rdata...
            let typeIndex = fields[2] == "IN" || fields[2] == "CH" ? 3 : 2
            guard fields.count > typeIndex else { continue }
            let record = Record(name: fields[0].lowercased(), ttl: ttl, type: fields[typeIndex],
                                data: fields[(typeIndex + 1)...].joined(separator: " "))
            switch section {
            case "answer": answer.append(record)
            case "authority": authority.append(record)
            default: additional.append(record)
            }
        }
    }
}
