import DNSWire
import Policy

#if canImport(Glibc)
import Glibc
#endif

// The DNS Cookie secrets in force (RFC 7873 §7.1, RFC 9018 §5: rollover). They live in the
// catalog snapshot, so one atomic load per query gives the policy and the secrets together.
//
// - At start: `server.cookies.secret`, or a random secret when none is configured.
// - On a reload that changes `secret`, the secret that was in force becomes the previous one
//   (unless `previous_secret` names one), so clients holding a cookie of the old secret stay
//   valid until they get a new one: no client breaks mid-rotation.
// - On a reload that configures no secret: the secret in force stays (a generated one lives as
//   long as the process); if a configured one was removed, a random one replaces it and the
//   removed one is the previous.
extension CookieSecrets {
    /// The secrets at start.
    static func initial(_ settings: ServerSettings.Cookies) -> CookieSecrets {
        CookieSecrets(current: settings.secret ?? .random(), previous: settings.previousSecret)
    }

    /// The secrets after a reload from `old` (configured as `oldSettings`) to `new`.
    static func next(after old: CookieSecrets, configured oldSettings: ServerSettings.Cookies,
                     new: ServerSettings.Cookies) -> CookieSecrets {
        if let secret = new.secret {
            if secret == old.current { return CookieSecrets(current: secret, previous: new.previousSecret ?? old.previous) }
            return CookieSecrets(current: secret, previous: new.previousSecret ?? old.current)
        }
        if oldSettings.secret == nil { return old }
        return CookieSecrets(current: .random(), previous: old.current)
    }

    /// Unix time in seconds from the coarse real-time clock (one vDSO read): the timestamp of
    /// RFC 9018 server cookies. Read by the transports and handed to the engine, which reads no clock.
    static func now() -> UInt32 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &ts)
        return UInt32(truncatingIfNeeded: ts.tv_sec)
    }
}
