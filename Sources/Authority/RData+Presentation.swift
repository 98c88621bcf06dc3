import DNSWire

extension RData {
    /// Zone-file presentation of the RDATA (RFC 1035 §5.1, RFC 3597 §5 for unknown types), as
    /// `dig` prints it; used by `geodns test` and `geodns explain`.
    var presentationText: String {
        switch self {
        case .a(let a): return a.description
        case .aaaa(let a): return a.description
        case .cname(let n), .ns(let n), .ptr(let n): return n.description
        case .soa(let s):
            return "\(s.mname) \(s.rname) \(s.serial) \(s.refresh) \(s.retry) \(s.expire) \(s.minimum)"
        case .mx(let preference, let exchange): return "\(preference) \(exchange)"
        case .txt(let strings): return strings.map(RData.quoted).joined(separator: " ")
        case .srv(let priority, let weight, let port, let target): return "\(priority) \(weight) \(port) \(target)"
        case .hinfo(let cpu, let os): return "\(RData.quoted(cpu)) \(RData.quoted(os))"
        case .unknown(.caa, let data) where (try? CAARecord(wire: data)) != nil:
            return (try? CAARecord(wire: data))?.presentation ?? ""
        case .unknown(let type, let data) where (type == .https || type == .svcb) && (try? SVCBRecord(wire: data)) != nil:
            return (try? SVCBRecord(wire: data))?.presentation ?? ""
        case .unknown(_, let data):
            let hex = data.map { b in
                let s = String(b, radix: 16, uppercase: true)
                return b < 16 ? "0" + s : s
            }.joined()
            return data.isEmpty ? "\\# 0" : "\\# \(data.count) \(hex)"
        }
    }

    /// A <character-string> in quotes, `"` and `\` escaped, non-printable bytes as \DDD.
    static func quoted(_ bytes: [UInt8]) -> String {
        var out = "\""
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append("\\"); out.append(Character(Unicode.Scalar(b)))
            case 0x20...0x7E:
                out.append(Character(Unicode.Scalar(b)))
            default:
                let d = String(b)
                out.append("\\" + String(repeating: "0", count: 3 - d.count) + d)
            }
        }
        return out + "\""
    }
}
