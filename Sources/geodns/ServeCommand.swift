#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Dispatch
import Logging
import Policy
import Server

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Answer DNS over UDP and TCP on every listen address of the policy. SIGHUP reloads, SIGTERM stops.")

    @OptionGroup var options: ConfigOption

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("listen"),
            help: "Listen address, e.g. 127.0.0.1:5353 or [::1]:5353 (repeatable); replaces the policy's server.listen.")
    var listen: [String] = []

    @Option(name: .customLong("control"),
            help: "Control endpoint address (HTTP: /metrics, /health, /v1/status), e.g. 127.0.0.1:8053, or off; replaces the policy's server.control.listen.")
    var control: String?

    @Option(help: "Event loops (threads) answering queries; default: one per core.")
    var threads: Int?

    @Option(help: "UDP engine: recvmmsg (a thread per SO_REUSEPORT socket, batched syscalls) or nio.")
    var udpEngine: String = DNSServer.UDPEngine.recvmmsg.rawValue

    func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "geodns")
        let started = DispatchTime.now()
        // Before the first slow step: a SIGHUP or SIGTERM while the policy loads must not kill us.
        let signals = ServeSignals(logger: logger)
        // The control endpoint first, so that /health answers 503 while the policy compiles.
        let routes = ControlRoutes.starting()
        let controlServer = try startControl(routes: routes, logger: logger)
        defer { controlServer?.stop() }
        // Built in its own function: nothing in this frame, which lives for the whole serve, may
        // hold the first policy, or its tables would stay allocated after the first reload.
        let server = try makeServer(logger: logger, routes: routes)
        do {
            try server.start()
        } catch {
            logger.critical("cannot listen: \(error)")
            server.stop()
            throw ExitCode.failure
        }
        // The ready line: only now is every socket bound, with the compiled policy behind it.
        // Before it nothing is bound, so an early client gets ICMP port unreachable / a TCP
        // reset (dig: "connection refused"), never an answer from a half-loaded policy.
        let startupMs = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
        logger.notice("serving: sockets bound, policy compiled, answering", metadata: [
            "pid": "\(getpid())", "listen": "\(server.listenAddresses.map(\.description).joined(separator: ","))",
            "startup_ms": "\(Int(startupMs))", "policy": "\(server.status.report.policy.file)",
            "database": "\(server.status.report.database?.path ?? "none")",
            "control": "\(controlServer?.address.flatMap { a in a.ipAddress.map { "\($0):\(a.port ?? 0)" } } ?? "off")",
        ])
        ServiceNotify.ready()
        signals.serve(server)
    }

    /// The control endpoint's address: `--control`, else the policy's `server.control.listen`
    /// (read from the file's server: section alone — the slow compile has not started).
    private func startControl(routes: ControlRoutes, logger: Logger) throws -> ControlServer? {
        let address: ServerSettings.ListenAddress?
        if let control {
            if control == "off" {
                address = nil
            } else if let parsed = ServerSettings.ListenAddress(parsing: control) {
                address = parsed
            } else {
                logger.critical("bad --control \(control): expected IP:PORT or [IPv6]:PORT with a port 1...65535, like 127.0.0.1:8053, or off")
                throw ExitCode.failure
            }
        } else {
            // A policy with errors here fails the full load just after, with every diagnostic.
            address = PolicyLoader.serverSettings(path: options.path)?.control.listen
                ?? ServerSettings().control.listen
        }
        guard let address else { return nil }
        let server = ControlServer(routes: routes)
        do {
            let bound = try server.start(address)
            logger.info("control endpoint listening", metadata: ["address": "\(bound.map { "\($0)" } ?? "\(address)")",
                                                                  "paths": "\(routes.paths.joined(separator: " "))"])
        } catch {
            logger.critical("cannot listen on the control endpoint \(address): \(error) (set server.control.listen to another address, or off)")
            server.stop()
            throw ExitCode.failure
        }
        return server
    }

    /// Loads the policy (exiting on errors) and makes the server; the catalog's only owner from
    /// then on is the server's snapshot store.
    private func makeServer(logger: Logger, routes: ControlRoutes) throws -> DNSServer {
        let started = DispatchTime.now()
        let catalog: Catalog
        do {
            catalog = try PolicyLoader.load(path: options.path)
        } catch {
            logger.critical("cannot load the policy:\n\(error)")
            throw ExitCode.failure
        }
        let loadMs = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
        logger.info("policy loaded", metadata: [
            "file": "\(options.path)", "zones": "\(catalog.zones.count)",
            "database": "\(catalog.settings.databasePath ?? "none")", "ms": "\(Int(loadMs))",
        ])
        if let report = catalog.report { logger.info("\(report)") }
        if let summary = catalog.databaseSummary { logger.info("\(summary)") }
        for warning in catalog.warnings { logger.warning("\(warning)") }
        guard let engine = DNSServer.UDPEngine(rawValue: udpEngine) else {
            logger.critical("bad --udp-engine \(udpEngine): expected recvmmsg or nio")
            throw ExitCode.failure
        }
        var overrides: [ServerSettings.ListenAddress] = []
        for text in listen {
            guard let address = ServerSettings.ListenAddress(parsing: text) else {
                logger.critical("bad --listen \(text): expected IP:PORT or [IPv6]:PORT with a port 1...65535, like 127.0.0.1:5353")
                throw ExitCode.failure
            }
            overrides.append(address)
        }
        let server = DNSServer(catalog: catalog, configPath: options.path, logger: logger,
                               threads: threads ?? DNSServer.defaultThreadCount,
                               listen: overrides.isEmpty ? nil : overrides,
                               udpEngine: engine, version: "\(BuildInfo.version) (commit \(BuildInfo.commit))", routes: routes)
        return server
    }
}
