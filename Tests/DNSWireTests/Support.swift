import DNSWire
import Foundation
import Testing

/// Hex helpers and fixture loading shared by the test files.
enum Hex {
    static func bytes(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var pending: UInt8? = nil
        for c in text.utf8 {
            let v: UInt8
            switch c {
            case 0x30...0x39: v = c - 0x30
            case 0x61...0x66: v = c - 0x61 + 10
            case 0x41...0x46: v = c - 0x41 + 10
            default: continue
            }
            if let p = pending { out.append(p << 4 | v); pending = nil } else { pending = v }
        }
        return out
    }

    static func string(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// One `.hex` fixture: '#' lines are comments (the first one describes it), the rest is hex.
struct Fixture: CustomTestStringConvertible, Sendable {
    let name: String
    let description: String
    let comments: [String]
    let bytes: [UInt8]
    let directory: URL

    var testDescription: String { name }

    static func directory(_ sub: String) -> URL {
        guard let base = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            return URL(fileURLWithPath: "/nonexistent")
        }
        return base.appendingPathComponent(sub)
    }

    static func load(_ sub: String) -> [Fixture] {
        let dir = directory(sub)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasSuffix(".hex") }.sorted().compactMap { file in
            guard let text = try? String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8) else { return nil }
            var comments: [String] = []
            var hex = ""
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("#") {
                    comments.append(line.dropFirst().trimmingCharacters(in: .whitespaces))
                } else {
                    hex += line
                }
            }
            return Fixture(name: String(file.dropLast(4)), description: comments.first ?? "", comments: comments,
                           bytes: Hex.bytes(hex), directory: dir)
        }
    }

    /// The `# expect: KIND` value, for the malformed corpus.
    var expectedKind: String? {
        comments.first { $0.hasPrefix("expect:") }.map { $0.dropFirst(7).trimmingCharacters(in: .whitespaces) }
    }

    var isInexact: Bool { comments.contains { $0.hasPrefix("inexact") } }

    /// The `.expect` lines next to a golden `.hex`.
    var expectLines: [String] {
        let url = directory.appendingPathComponent(name + ".expect")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }
}

/// The same normalised lines as scripts/wire/wirefmt.py prints from dnspython's values.
enum ExpectLines {
    static let modelled: Set<UInt16> = [1, 2, 5, 6, 12, 13, 15, 16, 28, 33]

    static func rdataText(_ rr: ResourceRecord) -> String {
        switch rr.rdata {
        case .a(let v4): return v4.description
        case .aaaa(let v6): return Hex.string(v6.bytes)
        case .cname(let n), .ns(let n), .ptr(let n): return n.description
        case .mx(let p, let n): return "\(p) \(n)"
        case .soa(let s):
            return "\(s.mname) \(s.rname) \(s.serial) \(s.refresh) \(s.retry) \(s.expire) \(s.minimum)"
        case .txt(let strings): return strings.map(Hex.string).joined(separator: " ")
        case .srv(let p, let w, let port, let t): return "\(p) \(w) \(port) \(t)"
        case .hinfo(let cpu, let os): return "\(Hex.string(cpu)) \(Hex.string(os))"
        case .unknown(_, let data): return "generic " + Hex.string(data)
        }
    }

    /// `counts` are the message's own section sizes (plus OPT), i.e. what an encoding without truncation writes.
    static func lines(_ m: Message) -> [String] {
        var out = ["id \(m.header.id)", String(format: "flags %04x", m.header.flags)]
        out.append("counts \(m.questions.count) \(m.answers.count) \(m.authorities.count) \(m.additionals.count + (m.edns == nil ? 0 : 1))")
        for q in m.questions { out.append("question \(q.name) \(q.type.rawValue) \(q.rrClass.rawValue)") }
        for (label, list) in [("an", m.answers), ("ns", m.authorities), ("ar", m.additionals)] {
            for rr in list {
                out.append("rr \(label) \(rr.name) \(rr.ttl) \(rr.rrClass.rawValue) \(rr.type.rawValue) \(rdataText(rr))")
            }
        }
        if let e = m.edns {
            let ext = m.header.rcode.rawValue > 15 ? UInt8(truncatingIfNeeded: m.header.rcode.rawValue >> 4) : e.extendedRCode
            out.append("edns \(e.version) \(e.udpPayloadSize) \(e.dnssecOK ? 1 : 0) \(ext)")
            if let cs = e.clientSubnet {
                out.append("ecs \(cs.family) \(cs.sourcePrefix) \(cs.scopePrefix) \(Hex.string(cs.address))")
            }
            for o in e.options { out.append("option \(o.code) \(Hex.string(o.data))") }
        }
        return out
    }
}
