import Testing
@testable import GeoIP

/// The record decoder reads untrusted bytes: pointers, sizes and nesting come from the file.
@Suite("Data section decoder")
struct DataSectionTests {
    func decode(_ bytes: [UInt8], at offset: Int = 0) -> Result<GeoRecord, DataSection.DecodeError> {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return .failure(.init(offset: 0, reason: "empty")) }
            let section = DataSection(base: base, count: buffer.count)
            do throws(DataSection.DecodeError) { return .success(try section.geoRecord(at: offset)) } catch { return .failure(error) }
        }
    }

    func encoded(_ value: MMDBValue) -> [UInt8] {
        var e = MMDBEncoder()
        e.encode(value)
        return e.bytes
    }

    @Test func decodesWhatTheEncoderWrites() throws {
        let record = GeoRecord(continent: "EU", country: "GB", subdivisions: ["ENG", "LND"], latitude: 51.5, longitude: -0.12, asn: 64_512)
        var value = record.mmdbValue
        if case .map(var m) = value {
            // Unknown keys with nested containers must be skipped, not misread.
            m["city"] = .map(["names": .map(["en": .string("London"), "de": .string("London")]), "geoname_id": .uint32(2_643_743)])
            m["traits"] = .map(["is_anycast": .boolean(true)])
            value = .map(m)
        }
        #expect(try decode(encoded(value)).get() == record)
        // ASN under traits (GeoIP2 Enterprise shape) when there is none at top level.
        #expect(try decode(encoded(.map(["traits": .map(["autonomous_system_number": .uint32(7)])]))).get().asn == 7)
    }

    @Test func followsPointersButNotPointerChains() throws {
        // [0] map{continent: ptr->X}  ... X = map{code: "EU"}
        let target = encoded(.map(["code": .string("EU")]))
        var bytes = encoded(.string("continent"))
        let header: [UInt8] = [0xE1]                                     // map, 1 pair
        let pointerAt = header.count + bytes.count
        bytes = header + bytes + [0x20, 0x00]                            // pointer (11-bit) to offset patched below
        let targetOffset = bytes.count
        bytes[pointerAt + 1] = UInt8(targetOffset)
        bytes += target
        #expect(try decode(bytes).get().continent == "EU")
        // A pointer to a pointer is invalid (spec: "pointers to pointers are not valid").
        var chain = bytes
        chain[pointerAt + 1] = UInt8(chain.count)
        chain += [0x20, UInt8(targetOffset)]
        if case .failure(let e) = decode(chain) { #expect(e.reason == "pointer to a pointer") } else { Issue.record("accepted a pointer chain") }
    }

    @Test(arguments: [
        ([0xE1], "read past the end of the data section"),                     // map of 1, no key
        ([0x5F], "read past the end of the data section"),                     // string of size class 31: its 3 size bytes are missing
        ([0x44, 0x61], "record is not a map"),                                 // a string, not a map
        ([0xE1, 0x41, 0x61, 0x58, 0x61], "value of 24 bytes runs past the end of the data section"),
        ([0xE1, 0x20, 0xFF], "read past the end of the data section"),         // key is a pointer far away
        ([0x00, 0x20], "unknown extended type 39"),
    ] as [([UInt8], String)])
    func rejectsMalformedRecords(bytes: [UInt8], reason: String) {
        if case .failure(let e) = decode(bytes) { #expect(e.reason == reason) } else { Issue.record("decoded \(bytes)") }
    }

    @Test func deepNestingIsBounded() {
        // {"x": [[[[...]]]]} 40 levels deep: skipping stops at the depth limit instead of recursing on.
        var value = MMDBValue.array([])
        for _ in 0..<40 { value = .array([value]) }
        if case .failure(let e) = decode(encoded(.map(["x": value]))) { #expect(e.reason == "data nested too deeply") } else { Issue.record("no limit") }
    }

    /// Random bytes at random offsets: every call returns (a record or an error).
    @Test func randomBytesNeverCrash() {
        var rng = Support.XorShift32(state: 31337)
        var decoded = 0
        for _ in 0..<2000 {
            let count = Int(rng.next() % 512) + 1
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            // Bias towards plausible structure: start with a map control byte.
            bytes[0] = 0xE0 | UInt8(rng.next() % 8)
            for _ in 0..<8 {
                if case .success = decode(bytes, at: Int(rng.next() % UInt32(count))) { decoded += 1 }
            }
        }
        print("decoder fuzz: \(decoded) of 16000 random inputs decoded to a record")
        #expect(decoded < 16000)
    }
}
