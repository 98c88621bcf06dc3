import Authority
import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Policy

#if canImport(Glibc)
import Glibc
#endif

/// The daemon: UDP and TCP listeners on every configured address, one UDP socket per event
/// loop (SO_REUSEPORT) so every core answers, the policy snapshot store, reload and shutdown.
public final class DNSServer: @unchecked Sendable {
    /// Lifecycle (Hummingbird-style explicit states). Guarded by `lock`.
    public enum State: Sendable { case idle, running, stopping, stopped }

    /// How UDP is served: our own recvmmsg/sendmmsg threads, or NIO datagram channels.
    public enum UDPEngine: String, Sendable, CaseIterable { case recvmmsg, nio }

    public let store: CatalogStore
    public let metrics = ServerMetrics()
    /// UDP error-reply limiting and RRL; settings follow reloads (ReplyLimits.swift).
    public let limits: ReplyLimits
    /// Open TCP connections, for the cap (TCPConnectionTable.swift).
    private let tcpConnections = TCPConnectionTable()
    private var statsSignal: DispatchSourceSignal?
    private let configPath: String
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let lock = NIOLock()
    private var state = State.idle
    private var channels: [Channel] = []
    private var workers: [UDPWorker] = []
    private let udpEngine: UDPEngine
    private let threads: Int
    private let reloadQueue = DispatchQueue(label: "geodns.reload")
    /// Listen addresses from the command line, which beat the policy's `server.listen`.
    private let listenOverride: [ServerSettings.ListenAddress]?
    /// The addresses bound at start (reloads cannot change them).
    private var bound: [ServerSettings.ListenAddress] = []

    /// - Parameters:
    ///   - catalog: the policy loaded at start (already validated).
    ///   - configPath: where reloads read the policy from.
    ///   - threads: event loops (default: one per core).
    public init(catalog: Catalog, configPath: String, logger: Logger, threads: Int = System.coreCount,
                listen: [ServerSettings.ListenAddress]? = nil, udpEngine: UDPEngine = .recvmmsg) {
        var catalog = catalog
        // Queries use the decision tables only (Catalog.dropExplainData).
        catalog.dropExplainData()
        self.udpEngine = udpEngine
        self.threads = max(1, threads)
        self.store = CatalogStore(catalog)
        self.limits = ReplyLimits(settings: catalog.settings, metrics: metrics)
        self.listenOverride = listen
        self.configPath = configPath
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
    }

    /// One event loop per core.
    public static var defaultThreadCount: Int { System.coreCount }

    /// Binds every listen address (UDP on each event loop, TCP once), then returns.
    public func start() throws {
        lock.withLock { state = .running }
        let settings = store.load().catalog.settings
        let loops = Array(group.makeIterator())
        let addresses = listenOverride ?? settings.listen
        lock.withLock { bound = addresses }
        for address in addresses {
            if udpEngine == .recvmmsg {
                for _ in 0..<threads {
                    let worker = try UDPWorker(address: address, metrics: metrics, answer: answerer())
                    worker.limits = limits
                    lock.withLock { workers.append(worker) }
                    worker.start()
                }
            }
            let df = UDPWorker.dontFragment(isV6: address.host.contains(":"))
            for loop in loops where udpEngine == .nio {
                let udp = try DatagramBootstrap(group: loop)
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                    .channelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: 1)
                    .channelOption(.datagramVectorReadMessageCount, value: 16)
                    .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16 * 2048))
                    // The workers' socket options (UDPWorker.applyDatagramOptions).
                    .channelOption(ChannelOptions.Types.SocketOption(level: .init(rawValue: df.level), name: .init(rawValue: df.name)),
                                   value: Int(df.value))
                    .channelOption(.socketOption(.so_rcvbuf), value: Int(UDPWorker.receiveBuffer))
                    .channelInitializer { [self] channel in
                        // The same answerer (its own scratch buffers) and limits as the workers'.
                        channel.eventLoop.makeCompletedFuture {
                            let handler = UDPHandler(answer: answerer(), limits: limits, metrics: metrics)
                            try channel.pipeline.syncOperations.addHandler(handler)
                        }
                    }
                    .bind(host: address.host, port: address.port).wait()
                append(udp)
            }
            let tcp = try makeTCPBootstrap().bind(host: address.host, port: address.port).wait()
            append(tcp)
            logger.info("listening", metadata: [
                "address": "\(address)", "udp_engine": "\(udpEngine.rawValue)",
                "udp_sockets": "\(udpEngine == .nio ? loops.count : threads)",
            ])
        }
        // SIGUSR1: one log line with every counter (`counters geodns_...=N ...`), for operators
        // and for the hostile-traffic check (Sources/hostile) to account for every packet.
        signal(SIGUSR1, SIG_IGN)
        let usr1 = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: reloadQueue)
        usr1.setEventHandler { [logger, metrics] in
            let counters = metrics.snapshot().map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            logger.notice("counters", metadata: ["counters": "\(counters)"])
        }
        usr1.resume()
        lock.withLock { statsSignal = usr1 }
    }

    /// The per-datagram entry of both UDP engines (UDPWorker, UDPHandler; `ReplyLimits.respond`):
    /// the current snapshot, the fast path (no heap allocation; `Authority.FastPath`), or the
    /// general engine for what the plan does not cover; the reply written into the engine's
    /// buffer. Each worker or handler gets its own scratch buffers: one answerer per thread.
    private func answerer() -> UDPWorker.Answerer {
        let scratch = ScratchBox()
        return { [store] query, client, out in
            let snapshot = store.load()
            let n = snapshot.fastPath.respond(to: query, source: client, into: out, scratch: &scratch.pointer.pointee)
            guard n == Authority.FastPath.askGeneral else { return n }
            guard let reply = Authority.respond(to: scratch.pointer.pointee.input, source: client, transport: .udp,
                                                catalog: snapshot.catalog),
                  reply.count <= out.count else { return 0 }
            reply.withUnsafeBytes { out.copyMemory(from: $0) }
            return reply.count
        }
    }

    /// One worker's fast-path buffers (used by that worker's thread only). Behind a pointer so
    /// the per-datagram `inout` access skips the runtime exclusivity check a class property costs.
    private final class ScratchBox {
        let pointer = UnsafeMutablePointer<Authority.FastPathScratch>.allocate(capacity: 1)
        init() { pointer.initialize(to: Authority.FastPathScratch()) }
        deinit {
            pointer.deinitialize(count: 1)
            pointer.deallocate()
        }
    }

    private func append(_ channel: Channel) {
        lock.withLock { channels.append(channel) }
    }

    /// TCP limits come from the policy in force when each connection is accepted, so a reload
    /// applies them to new connections; a connection keeps the idle timeout, read timeout and
    /// query cap it was accepted with. A lower connection cap also applies at once (`reload`).
    private func makeTCPBootstrap() -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // TCP_NODELAY lives at IPPROTO_TCP: `.socketOption(.tcp_nodelay)` would set option 1 at
            // SOL_SOCKET, which is SO_DEBUG (CAP_NET_ADMIN only), and NIO then resets every
            // accepted connection of a daemon that is not root (issue 16).
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [store, metrics, tcpConnections] channel in
                let settings = store.load().catalog.settings
                let idle = TimeAmount.milliseconds(Int64(settings.tcpIdleTimeoutSeconds * 1000))
                let maxQueries = settings.tcpMaxQueriesPerConnection
                let readTimeout = TimeAmount.milliseconds(Int64(settings.tcpReadTimeoutSeconds * 1000))
                // At the cap, the longest-idle connection makes room (TCPConnectionTable.swift).
                let entry = TCPConnectionTable.Entry(channel: channel)
                if let victim = tcpConnections.add(entry, limit: settings.tcpMaxConnections) {
                    metrics.tcpConnectionsEvicted.wrappingIncrement(ordering: .relaxed)
                    victim.close(promise: nil)
                }
                return channel.eventLoop.makeCompletedFuture {
                    let ops = channel.pipeline.syncOperations
                    try ops.addHandler(IdleStateHandler(readTimeout: idle))
                    try ops.addHandler(TCPReadDeadlineHandler(timeout: readTimeout, metrics: metrics))
                    try ops.addHandler(ByteToMessageHandler(DNSFrameDecoder()))
                    try ops.addHandler(TCPQueryHandler(store: store, metrics: metrics, maxQueries: maxQueries,
                                                       remote: channel.remoteAddress,
                                                       connections: tcpConnections, entry: entry))
                }
            }
    }

    /// Loads the policy (and database) again, all or nothing: on any error the running policy
    /// stays in force and the error is returned (and logged).
    @discardableResult
    public func reload() -> Result<Int, PolicyError> {
        do {
            let started = DispatchTime.now()
            var catalog = try PolicyLoader.load(path: configPath)
            catalog.dropExplainData()   // see init: queries use the compiled tables only
            let old = store.load().catalog.settings
            let new = catalog.settings
            let snapshot = store.replace(with: catalog)
            limits.configure(new)
            // TCP: new connections read their limits from the snapshot; a lower cap applies now.
            let evicted = tcpConnections.trim(to: new.tcpMaxConnections)
            for victim in evicted {
                metrics.tcpConnectionsEvicted.wrappingIncrement(ordering: .relaxed)
                victim.close(promise: nil)
            }
            if !evicted.isEmpty {
                logger.notice("TCP connection cap lowered: closed the longest-idle connections", metadata: [
                    "max_connections": "\(new.tcpMaxConnections)", "closed": "\(evicted.count)",
                ])
            }
            for (setting, why) in notApplied(old: old, new: new) {
                logger.warning("reload could not apply \(setting): \(why)", metadata: ["setting": "\(setting)"])
            }
            metrics.reloads.wrappingIncrement(ordering: .relaxed)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
            logger.notice("policy reloaded", metadata: [
                "generation": "\(snapshot.generation)", "file": "\(configPath)",
                "ms": "\(Int(ms))",
            ])
            if let summary = catalog.databaseSummary { logger.notice("\(summary)") }
            return .success(snapshot.generation)
        } catch {
            metrics.reloadFailures.wrappingIncrement(ordering: .relaxed)
            logger.error("reload refused, the running policy keeps serving:\n\(error)")
            return .failure(error)
        }
    }

    /// The settings of a reloaded policy that a reload cannot apply, with why. Everything else in
    /// `server:` applies on reload: ECS and the payload size (in the snapshot), the error-reply
    /// limit and RRL (`limits`), the TCP limits (`makeTCPBootstrap`). Threads and the UDP engine
    /// are command-line options, so a reload never sees them change.
    private func notApplied(old: ServerSettings, new: ServerSettings) -> [(String, String)] {
        var out: [(String, String)] = []
        let bound = lock.withLock { self.bound }
        if let listenOverride {
            if new.listen != old.listen {
                out.append(("server.listen", "--listen on the command line is in force (\(Self.list(listenOverride)))"))
            }
        } else if new.listen != bound {
            // Compared with what is bound, not the previous policy: repeated on every reload
            // until a restart, so an operator never mistakes the policy's addresses for the live ones.
            out.append(("server.listen", "sockets are bound at start; restart to listen on \(Self.list(new.listen)) (now \(Self.list(bound)))"))
        }
        return out
    }

    private static func list(_ addresses: [ServerSettings.ListenAddress]) -> String {
        addresses.map(\.description).joined(separator: ", ")
    }

    /// `reload()` on the reload queue (one at a time, off the answering threads): SIGHUP.
    public func reloadInBackground() {
        reloadQueue.async { self.reload() }
    }

    /// Closes every listener, lets in-flight writes finish, and stops the event loops.
    public func stop() {
        let (toClose, toStop): ([Channel], [UDPWorker]) = lock.withLock {
            guard state == .running else { return ([], []) }
            state = .stopping
            return (channels, workers)
        }
        for worker in toStop {
            worker.stop()
        }
        for channel in toClose {
            try? channel.close().wait()
        }
        try? group.syncShutdownGracefully()
        lock.withLock { state = .stopped }
        let counters = metrics.snapshot().map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        logger.notice("stopped", metadata: ["counters": "\(counters)"])
    }
}
