import DNSWire

// Listen addresses: parsed in one place for the policy (server.listen, server.control.listen)
// and the command line (--listen, --control).

extension ServerSettings.ListenAddress {
    /// "127.0.0.1:5353" or "[::1]:5353": an IPv4 or IPv6 address and a port 1...65535. The one
    /// parser of listen addresses: `server.listen`, `server.control.listen`, `--listen`, `--control`.
    public init?(parsing text: String) {
        let host: String, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            guard IPv6Address(host) != nil else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
            guard IPv4Address(host) != nil else { return nil }
        }
        guard portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText), (1...65535).contains(port) else { return nil }
        self.init(host: host, port: port)
    }

    /// 127.0.0.0/8 or ::1.
    public var isLoopback: Bool {
        if let v4 = IPv4Address(host) { return v4.rawValue >> 24 == 127 }
        if let v6 = IPv6Address(host) { return v6.rawValue == 1 }
        return false
    }
}
