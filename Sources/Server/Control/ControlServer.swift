import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Policy

/// The HTTP/1.1 control endpoint (`server.control.listen`, default 127.0.0.1:8053): its own
/// event loop thread and its own socket, so a scrape or a slow client never takes time from the
/// DNS sockets. Requests are small GETs; replies carry Content-Length and keep-alive is honoured.
public final class ControlServer: Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let routes: ControlRoutes
    private let channel: NIOLockedValueBox<Channel?> = NIOLockedValueBox(nil)

    public init(routes: ControlRoutes) {
        self.routes = routes
    }

    /// Binds `address`; returns the address bound (the port the kernel chose for port 0).
    @discardableResult
    public func start(_ address: ServerSettings.ListenAddress) throws -> SocketAddress? {
        let routes = self.routes
        let bound = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let ops = channel.pipeline.syncOperations
                    // A client that opens a connection and sends nothing is closed after 30 s.
                    try ops.addHandler(IdleStateHandler(readTimeout: .seconds(30)))
                    try ops.configureHTTPServerPipeline(withErrorHandling: true)
                    try ops.addHandler(ControlHTTPHandler(routes: routes))
                }
            }
            .bind(host: address.host, port: address.port).wait()
        channel.withLockedValue { $0 = bound }
        return bound.localAddress
    }

    /// The address bound by `start`, nil before.
    public var address: SocketAddress? { channel.withLockedValue { $0?.localAddress } }

    public func stop() {
        if let bound = channel.withLockedValue({ $0 }) { try? bound.close().wait() }
        try? group.syncShutdownGracefully()
    }
}

/// One connection's requests, answered in order.
final class ControlHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: ControlRoutes
    private var head: HTTPRequestHead?

    init(routes: ControlRoutes) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
        case .body:
            break   // GET and HEAD carry none; a body of another method is ignored (405)
        case .end:
            guard let request = head else { return }
            head = nil
            let reply = routes.respond(method: request.method, uri: request.uri)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: reply.contentType)
            headers.add(name: "Content-Length", value: "\(reply.body.count)")
            headers.add(name: "Cache-Control", value: "no-store")
            let keepAlive = request.isKeepAlive
            headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            let response = HTTPResponseHead(version: request.version, status: reply.status, headers: headers)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            if request.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: reply.body)))), promise: nil)
            }
            let done = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
            if !keepAlive {
                done.futureResult.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
