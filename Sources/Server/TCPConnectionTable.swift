import Atomics
import Dispatch
import NIOConcurrencyHelpers
import NIOCore

/// The open TCP connections, for the connection cap: when a new connection would exceed it, the
/// connection that has been idle longest (no complete query answered for the longest time) is
/// closed to make room, rather than refusing the newcomer (RFC 7766 §6.2.2: a server under
/// pressure closes idle connections first). A flood of silent or slow connections therefore
/// cannot lock out real clients, which are never the longest idle for long.
public final class TCPConnectionTable: Sendable {
    /// One connection: its channel and when it last completed a query (monotonic ns).
    final class Entry: Sendable {
        let channel: Channel
        let lastActive: ManagedAtomic<UInt64>
        init(channel: Channel) {
            self.channel = channel
            lastActive = ManagedAtomic(DispatchTime.now().uptimeNanoseconds)
        }
        func touch() { lastActive.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed) }
    }

    private let entries = NIOLockedValueBox<[ObjectIdentifier: Entry]>([:])

    public init() {}

    public var count: Int { entries.withLockedValue { $0.count } }

    /// Adds `channel`; when that makes more than `limit`, removes the longest-idle other
    /// connection from the table and returns its channel for the caller to close.
    func add(_ entry: Entry, limit: Int) -> Channel? {
        entries.withLockedValue { table in
            table[ObjectIdentifier(entry)] = entry
            guard table.count > limit else { return nil }
            var victim: Entry? = nil
            for candidate in table.values where candidate !== entry {
                if let v = victim, v.lastActive.load(ordering: .relaxed) <= candidate.lastActive.load(ordering: .relaxed) { continue }
                victim = candidate
            }
            guard let victim else { return nil }
            table[ObjectIdentifier(victim)] = nil
            return victim.channel
        }
    }

    /// Removes the longest-idle connections until at most `limit` remain (a reload lowered the
    /// cap) and returns their channels for the caller to close.
    func trim(to limit: Int) -> [Channel] {
        entries.withLockedValue { table in
            guard table.count > limit else { return [] }
            let victims = table.values
                .sorted { $0.lastActive.load(ordering: .relaxed) < $1.lastActive.load(ordering: .relaxed) }
                .prefix(table.count - max(0, limit))
            for victim in victims { table[ObjectIdentifier(victim)] = nil }
            return victims.map(\.channel)
        }
    }

    func remove(_ entry: Entry) {
        _ = entries.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(entry)) }
    }
}
