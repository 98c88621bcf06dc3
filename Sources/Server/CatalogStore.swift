import Atomics
import Authority
import DNSWire
import Policy

#if canImport(Glibc)
/// glibc's malloc_trim(3) (declared in malloc.h, which the Glibc module does not import).
@_silgen_name("malloc_trim") private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// The policy being served. The data path does one atomic load per query and nothing else;
/// a reload builds a whole new `Catalog` off the data path and swaps it in (all or nothing).
public final class CatalogStore: Sendable {
    /// Reference wrapper so the catalog can sit in a `ManagedAtomic`.
    public final class Snapshot: AtomicReference, Sendable {
        public let catalog: Catalog
        /// Increases by one on every successful reload (0 = the policy loaded at start).
        public let generation: Int
        /// The UDP fast path's plan, compiled from `catalog` with it (off the data path).
        public let fastPath: Authority.FastPath
        /// The DNS Cookie secrets in force (CookieRotation.swift).
        public let cookieSecrets: CookieSecrets
        init(catalog: Catalog, generation: Int, cookieSecrets: CookieSecrets) {
            self.catalog = catalog
            self.generation = generation
            self.fastPath = Authority.FastPath(catalog: catalog)
            self.cookieSecrets = cookieSecrets
        }

        /// What the engine needs for cookies at Unix time `now`.
        @inline(__always)
        public func cookies(now: UInt32) -> Authority.Cookies {
            Authority.Cookies(secrets: cookieSecrets, now: now)
        }
    }

    private let current: ManagedAtomic<Snapshot>

    public init(_ catalog: Catalog) {
        current = ManagedAtomic(Snapshot(catalog: catalog, generation: 0,
                                         cookieSecrets: .initial(catalog.settings.cookies)))
        CatalogStore.returnFreedMemory()
    }

    /// The snapshot in force (one atomic load).
    @inline(__always)
    public func load() -> Snapshot {
        current.load(ordering: .acquiring)
    }

    /// Installs `catalog` as the next generation and returns it.
    @discardableResult
    public func replace(with catalog: Catalog) -> Snapshot {
        let next = install(catalog)
        // After `install` returned: the old snapshot is released by then (unless a query still
        // holds it for a moment), so its tables are among what malloc_trim can give back.
        CatalogStore.returnFreedMemory()
        return next
    }

    private func install(_ catalog: Catalog) -> Snapshot {
        let old = current.load(ordering: .acquiring)
        let secrets = CookieSecrets.next(after: old.cookieSecrets, configured: old.catalog.settings.cookies,
                                         new: catalog.settings.cookies)
        let next = Snapshot(catalog: catalog, generation: old.generation + 1, cookieSecrets: secrets)
        current.store(next, ordering: .releasing)
        return next
    }

    /// Compiling a policy against a large database (GeoLite2: millions of networks walked,
    /// merged and sorted) frees far more heap than the snapshot keeps; glibc holds freed chunks
    /// in its arenas, so without this the daemon's steady RSS stays near the compile's peak.
    static func returnFreedMemory() {
        #if canImport(Glibc)
        _ = glibcMallocTrim(0)
        #endif
    }
}
