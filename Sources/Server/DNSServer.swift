import Authority
import DNSWire
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
    /// Phase, policy and database in force, last reload: the control endpoint's view.
    public let status: ServerStatus
    /// The control endpoint's paths; DNSServer registers `/metrics`, `/health`, `/v1/status`.
    public let routes: ControlRoutes
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
    ///   - routes: the control endpoint's paths (already listening when the server is made, so
    ///     `/health` says 503 while the policy compiles); this server takes them over.
    public init(catalog: Catalog, configPath: String, logger: Logger, threads: Int = System.coreCount,
                listen: [ServerSettings.ListenAddress]? = nil, udpEngine: UDPEngine = .recvmmsg,
                version: String = "unknown", routes: ControlRoutes = ControlRoutes()) {
        var catalog = catalog
        // Before the database is dropped: its metadata is part of the status.
        self.status = ServerStatus(version: version, catalog: catalog)
        self.routes = routes
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
        ControlEndpoints.register(on: routes, metrics: metrics, status: status)
    }

    /// The addresses bound by `start()` (empty before).
    public var listenAddresses: [ServerSettings.ListenAddress] { lock.withLock { bound } }

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
        logger.info("DNS cookies", metadata: [
            "secret": "\(settings.cookies.secret == nil ? "generated at start" : "server.cookies.secret")",
        ])
        // SIGUSR1: one log line with every counter (`counters geodns_...=N ...`), for operators
        // and for the hostile-traffic check (Sources/hostile) to account for every packet.
        signal(SIGUSR1, SIG_IGN)
        let usr1 = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: reloadQueue)
        usr1.setEventHandler { [logger, metrics] in
            let counters = metrics.logLine
            logger.notice("counters", metadata: ["counters": "\(counters)"])
        }
        usr1.resume()
        lock.withLock { statsSignal = usr1 }
        status.serving(listen: addresses)
    }

    /// The per-datagram entry of both UDP engines (UDPWorker, UDPHandler; `ReplyLimits.respond`):
    /// the current snapshot, the fast path (no heap allocation; `Authority.FastPath`), or the
    /// general engine for what the plan does not cover; the reply written into the engine's
    /// buffer. Each worker or handler gets its own scratch buffers: one answerer per thread.
    private func answerer() -> UDPWorker.Answerer {
        let scratch = ScratchBox()
        return { [store, metrics] query, client, unixTime, out in
            let snapshot = store.load()
            let cookies = snapshot.cookies(now: unixTime)
            let n = snapshot.fastPath.respond(to: query, source: client, into: out, scratch: &scratch.pointer.pointee,
                                              cookies: cookies)
            guard n == Authority.FastPath.askGeneral else {
                let valid = scratch.pointer.pointee.validCookie
                if valid { metrics.validCookies.wrappingIncrement(ordering: .relaxed) }
                return (n, valid)
            }
            guard let (reply, cookie) = Authority.respond(to: scratch.pointer.pointee.input, source: client, transport: .udp,
                                                          catalog: snapshot.catalog, cookies: cookies),
                  reply.count <= out.count else { return (0, false) }
            reply.withUnsafeBytes { out.copyMemory(from: $0) }
            if cookie == .valid { metrics.validCookies.wrappingIncrement(ordering: .relaxed) }
            return (reply.count, cookie == .valid)
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
            // accept(2) failures (out of file descriptors, ...): the connection the kernel queued
            // is lost to us; counted as rejected.
            .serverChannelInitializer { [metrics] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptErrorCounter(metrics: metrics))
                }
            }
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
            ServiceNotify.reloading()
            defer { ServiceNotify.ready() }
            var catalog = try PolicyLoader.load(path: configPath)
            let fresh = catalog
            catalog.dropExplainData()   // see init: queries use the compiled tables only
            // Values only: holding the old snapshot here would keep its tables from being freed
            // (and trimmed) by `replace`.
            let old = store.load().catalog.settings
            let oldSecret = store.load().cookieSecrets.current
            let new = catalog.settings
            let snapshot = store.replace(with: catalog)
            if snapshot.cookieSecrets.current != oldSecret {
                // Never the secrets themselves (CookieRotation.swift).
                logger.notice("DNS cookie secret rotated: cookies of the previous secret are still accepted")
            }
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
            status.reloaded(fresh, generation: snapshot.generation)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
            logger.notice("policy reloaded", metadata: [
                "generation": "\(snapshot.generation)", "file": "\(configPath)",
                "ms": "\(Int(ms))",
            ])
            if let summary = catalog.databaseSummary { logger.notice("\(summary)") }
            return .success(snapshot.generation)
        } catch {
            metrics.reloadFailures.wrappingIncrement(ordering: .relaxed)
            status.reloadFailed("\(error)")
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
        if new.control != old.control {
            out.append(("server.control", "the control endpoint is bound at start; restart to apply \(new.control.listen.map(\.description) ?? "off")"))
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
        status.stopping()
        ServiceNotify.stopping()
        for worker in toStop {
            worker.stop()
        }
        for channel in toClose {
            try? channel.close().wait()
        }
        try? group.syncShutdownGracefully()
        lock.withLock { state = .stopped }
        let counters = metrics.logLine
        logger.notice("stopped", metadata: ["counters": "\(counters)"])
    }
}

/// On the listening TCP channel: an accept(2) failure (out of file descriptors, memory) leaves
/// the connection queued, so the socket stays readable and NIO would retry at once, spinning a
/// core; instead reads pause for a backoff that doubles from 5 ms to 1 s while accepts keep
/// failing (as Go's net/http does) and resets on the next accepted connection. Each failure
/// counts in `geodns_tcp_connections_rejected_total`.
final class AcceptErrorCounter: ChannelDuplexHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel
    typealias OutboundIn = Never
    private let metrics: ServerMetrics
    private var backoff = TimeAmount.milliseconds(0)
    private var paused = false

    init(metrics: ServerMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        backoff = .milliseconds(0)
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        metrics.tcpConnectionsRejected.wrappingIncrement(ordering: .relaxed)
        guard !paused else { return }
        paused = true
        backoff = min(max(backoff * 2, .milliseconds(5)), .seconds(1))
        context.channel.setOption(.autoRead, value: false).whenComplete { _ in }
        let channel = context.channel
        context.eventLoop.assumeIsolated().scheduleTask(in: backoff) { [self] in
            paused = false
            channel.setOption(.autoRead, value: true).whenComplete { _ in }
            channel.read()
        }
    }
}
