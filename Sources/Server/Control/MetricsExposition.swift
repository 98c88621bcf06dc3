import NIOConcurrencyHelpers
import Prometheus

/// `/metrics`: the Prometheus text exposition, made by swift-prometheus's registry.
///
/// The answering threads never touch the registry: its counters take a lock-free but shared
/// atomic add per increment, and a labelled lookup per query would cost a dictionary probe
/// behind a lock. They keep ServerMetrics' relaxed counters (incremented per batch of datagrams
/// on the recvmmsg engine), and a scrape copies those values into the registry and renders it,
/// one scrape at a time.
final class MetricsExposition: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let lock = NIOLock()
    private let metrics: ServerMetrics
    private let status: ServerStatus

    init(metrics: ServerMetrics, status: ServerStatus) {
        self.metrics = metrics
        self.status = status
        let version = status.report.version
        registry.makeGauge(name: "geodns_build_info", labels: [("version", version)],
                           help: "Always 1; the version label says which build answers.").set(Int64(1))
    }

    func render() -> [UInt8] {
        lock.withLock {
            for sample in metrics.samples() {
                if sample.isGauge {
                    registry.makeGauge(name: sample.name, help: sample.help).set(Int64(sample.value))
                } else {
                    let counter = registry.makeCounter(name: sample.name, help: sample.help)
                    counter.reset()
                    counter.increment(by: Int64(sample.value))
                }
            }
            for (rcode, value) in metrics.rcodeSamples() {
                let counter = registry.makeCounter(name: "geodns_responses_by_rcode_total", labels: [("rcode", rcode)],
                                                   help: "Replies sent, by header RCODE (UDP and TCP; BADVERS counts as NOERROR, its low bits).")
                counter.reset()
                counter.increment(by: Int64(value))
            }
            let report = status.report
            gauge("geodns_process_start_time_seconds", "When the daemon started, seconds since the Unix epoch.", report.startedAt)
            gauge("geodns_policy_loaded_timestamp_seconds", "When the policy in force took effect, seconds since the Unix epoch.", report.policy.loadedAt)
            gauge("geodns_policy_generation", "0 for the policy loaded at start, +1 per reload that took effect.", Double(report.policy.generation))
            gauge("geodns_policy_compile_seconds", "Wall time of the compile of the policy in force.", report.policy.compileSeconds ?? 0)
            gauge("geodns_database_build_timestamp_seconds", "Build time (metadata build_epoch) of the database in force; 0 without one.",
                  Double(report.database?.buildEpoch ?? 0))
            gauge("geodns_serving", "1 once every socket is bound and the policy compiled, 0 while starting or stopping.",
                  report.phase == .serving ? 1 : 0)
            gauge("geodns_last_reload_success", "1 if the last reload took effect (or none was asked for), 0 if it was refused.",
                  report.lastReload.map { $0.ok ? 1 : 0 } ?? 1)
            return registry.emitToBuffer()
        }
    }

    private func gauge(_ name: String, _ help: String, _ value: Double) {
        registry.makeGauge(name: name, help: help).set(value)
    }
}
