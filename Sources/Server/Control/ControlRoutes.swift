import NIOConcurrencyHelpers
import NIOHTTP1

/// One reply of the control endpoint.
public struct ControlResponse: Sendable, Equatable {
    public var status: HTTPResponseStatus
    public var contentType: String
    public var body: [UInt8]

    public init(_ status: HTTPResponseStatus, contentType: String = "text/plain; charset=utf-8", _ body: String) {
        self.status = status
        self.contentType = contentType
        self.body = Array(body.utf8)
    }

    public init(_ status: HTTPResponseStatus, contentType: String, bytes: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = bytes
    }
}

/// The control endpoint's paths: each a function from nothing to a reply, registered by the part
/// of the server that owns the data (`/metrics`, `/health`, `/v1/status` by DNSServer; later
/// `/v1/...` paths the same way). Sockets live in ControlServer; this is testable without them.
public final class ControlRoutes: Sendable {
    public typealias Handler = @Sendable () -> ControlResponse
    private let handlers = NIOLockedValueBox<[String: Handler]>([:])

    public init() {}

    public func register(_ path: String, _ handler: @escaping Handler) {
        handlers.withLockedValue { $0[path] = handler }
    }

    public var paths: [String] { handlers.withLockedValue { $0.keys.sorted() } }

    /// GET (and HEAD, answered like GET without the body by the caller) of `uri`; the query
    /// string is ignored. 404 for unknown paths, 405 for other methods.
    public func respond(method: HTTPMethod, uri: String) -> ControlResponse {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        guard let handler = handlers.withLockedValue({ $0[path] }) else {
            return ControlResponse(.notFound, "no such path: \(path)\npaths: \(paths.joined(separator: " "))\n")
        }
        guard method == .GET || method == .HEAD else {
            return ControlResponse(.methodNotAllowed, "\(path) answers GET and HEAD only\n")
        }
        return handler()
    }
}
