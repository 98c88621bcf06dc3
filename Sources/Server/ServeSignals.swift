import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP, SIGTERM and SIGINT for `geodns serve`, installed before the first slow step (loading
/// and compiling the policy takes about a second with GeoLite2-City), so that no signal ever
/// finds the default action (for SIGHUP: death with status 129, the logrotate or `systemctl
/// reload` that comes too early).
///
/// - Starting (policy loading, sockets binding): SIGHUP is remembered and becomes one reload as
///   soon as serving starts (several SIGHUPs make one: they all ask for "the file as it is now");
///   SIGTERM/SIGINT exit at once with status 0 — nothing is answering yet, so there is nothing
///   to drain.
/// - Serving: SIGHUP reloads (all or nothing, off the answering threads); SIGTERM/SIGINT stop.
/// - Stopping: further signals are ignored.
public final class ServeSignals: @unchecked Sendable {
    private enum Phase {
        case starting
        case serving(DNSServer)
        case stopping
    }

    private let lock = NIOLock()
    private var phase = Phase.starting
    private var pendingReload = false
    private let stopRequested = DispatchSemaphore(value: 0)
    private let logger: Logger

    /// Takes over SIGHUP, SIGTERM and SIGINT (and ignores SIGPIPE) from now on. Call it on the
    /// main thread before any other thread of ours exists.
    ///
    /// The three signals are blocked (every thread started later inherits the mask) and one
    /// thread takes them with sigwait(2): a signal sent at any moment from here on stays pending
    /// until that thread acts on it. Not dispatch signal sources: they register asynchronously
    /// after `resume()` and want SIG_IGN set first, so a SIGTERM in between was discarded (seen
    /// under load: a daemon that went on to serve after a SIGTERM during startup); nor a
    /// sigaction handler, which never runs once libdispatch's threads and ours block the signals.
    public init(logger: Logger) {
        self.logger = logger
        signal(SIGPIPE, SIG_IGN)
        var set = sigset_t()
        sigemptyset(&set)
        for sig in [SIGHUP, SIGTERM, SIGINT] { sigaddset(&set, sig) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let waited = set
        let thread = Thread { [unowned self] in
            var set = waited
            var sig: Int32 = 0
            while true {
                guard sigwait(&set, &sig) == 0 else { continue }
                switch sig {
                case SIGHUP: hangup()
                case SIGTERM: terminate("SIGTERM")
                case SIGINT: terminate("SIGINT")
                default: break
                }
            }
        }
        thread.name = "geodns-signals"
        thread.start()
    }

    private func hangup() {
        let server: DNSServer? = lock.withLock {
            switch phase {
            case .starting:
                pendingReload = true
                return nil
            case .serving(let server):
                return server
            case .stopping:
                return nil
            }
        }
        if let server {
            logger.info("SIGHUP: reloading policy")
            server.reloadInBackground()
        } else {
            logger.notice("SIGHUP before serving started: one reload once serving")
        }
    }

    private func terminate(_ name: String) {
        let starting: Bool = lock.withLock {
            switch phase {
            case .starting:
                return true
            case .serving:
                phase = .stopping
                stopRequested.signal()
                return false
            case .stopping:
                return false
            }
        }
        if starting {
            // Nothing answers yet (a listener bound a moment ago has served nobody): leave now.
            logger.notice("\(name) during startup: exiting")
            _exit(0)
        }
    }

    /// Serves until SIGTERM/SIGINT, then stops `server`. A SIGHUP received while starting becomes
    /// one reload now. Blocks the calling thread.
    public func serve(_ server: DNSServer) {
        let reloadNow: Bool = lock.withLock {
            phase = .serving(server)
            defer { pendingReload = false }
            return pendingReload
        }
        if reloadNow {
            logger.notice("SIGHUP arrived during startup: reloading policy")
            server.reloadInBackground()
        }
        stopRequested.wait()
        logger.notice("stopping")
        server.stop()
    }
}

