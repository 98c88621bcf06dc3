import Testing
@testable import Policy

/// One parser for listen addresses: the policy's `server.listen` / `server.control.listen` and
/// the command line's `--listen` / `--control` accept and refuse the same texts.
@Suite struct ListenAddressTests {
    @Test("IP:PORT and [IPv6]:PORT with a port 1...65535; anything else is refused", arguments: [
        ("127.0.0.1:5353", "127.0.0.1", 5353), ("[::1]:53", "::1", 53), ("0.0.0.0:65535", "0.0.0.0", 65535),
        ("[2001:db8::1]:8053", "2001:db8::1", 8053),
        ("localhost:53", nil, 0), ("127.0.0.1:0", nil, 0), ("127.0.0.1:65536", nil, 0), ("::1:53", nil, 0),
        ("127.0.0.1:+53", nil, 0), ("127.0.0.1", nil, 0), ("[::1]53", nil, 0), ("[127.0.0.1]:53", nil, 0),
        ("1.2.3:53", nil, 0), ("", nil, 0),
    ] as [(String, String?, Int)])
    func parse(_ text: String, _ host: String?, _ port: Int) {
        let parsed = ServerSettings.ListenAddress(parsing: text)
        #expect(parsed?.host == host)
        if host != nil { #expect(parsed?.port == port) }
    }
}
