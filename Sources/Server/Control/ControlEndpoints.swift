import Foundation
import NIOHTTP1

/// The paths the DNS server answers on the control endpoint.
enum ControlEndpoints {
    /// Before the server exists (the policy is loading and compiling): 503 on every path.
    static func registerStarting(on routes: ControlRoutes) {
        let starting = ControlResponse(.serviceUnavailable, "starting: loading and compiling the policy\n")
        for path in ["/health", "/metrics", "/v1/status"] {
            routes.register(path) { starting }
        }
    }

    static func register(on routes: ControlRoutes, metrics: ServerMetrics, status: ServerStatus) {
        let exposition = MetricsExposition(metrics: metrics, status: status)
        routes.register("/metrics") {
            ControlResponse(.ok, contentType: "text/plain; version=0.0.4; charset=utf-8", bytes: exposition.render())
        }
        routes.register("/health") {
            let phase = status.report.phase
            return phase == .serving ? ControlResponse(.ok, "serving\n") : ControlResponse(.serviceUnavailable, "\(phase.rawValue)\n")
        }
        routes.register("/v1/status") {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            guard let body = try? encoder.encode(status.report) else {
                return ControlResponse(.internalServerError, "cannot encode the status\n")
            }
            return ControlResponse(.ok, contentType: "application/json", bytes: Array(body) + [0x0a])
        }
    }
}

extension ControlRoutes {
    /// 503 on `/health`, `/metrics` and `/v1/status` until a DNSServer takes the routes over.
    public static func starting() -> ControlRoutes {
        let routes = ControlRoutes()
        ControlEndpoints.registerStarting(on: routes)
        return routes
    }
}
