import DNSWire
import Yams

// server: cookies: (ServerSettings+Cookies.swift; called from parseServer in PolicyLoader+Sections.swift).
extension PolicyLoader {
    static func parseCookies(_ node: YNode?, reader: YAMLReader, into settings: inout ServerSettings) {
        guard let node, let c = reader.fields(node, "server.cookies", known: ["secret", "previous_secret"]) else { return }
        func secret(_ key: String) -> CookieSecret? {
            guard let n = c[key], let text = reader.scalar(n, "server.cookies.\(key)") else { return nil }
            // The value is never repeated in the message: it is a secret.
            guard let s = CookieSecret(hex: text) else {
                reader.error(n, "server.cookies.\(key) must be 32 hex digits (a 16-byte SipHash-2-4 key)")
                return nil
            }
            return s
        }
        settings.cookies.secret = secret("secret")
        settings.cookies.previousSecret = secret("previous_secret")
        if settings.cookies.previousSecret != nil, settings.cookies.secret == nil, let n = c["previous_secret"] {
            reader.error(n, "server.cookies.previous_secret needs server.cookies.secret")
        }
    }
}
