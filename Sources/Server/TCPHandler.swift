import Authority
import NIOCore
import Policy

/// DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766): a 2-byte big-endian length, then the
/// message. Several messages may arrive in one read and one message may span reads.
struct DNSFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) else { return .needMoreData }
        guard buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        guard let frame = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }
}

/// Answers the framed queries of one TCP connection, in order (pipelining: replies are written
/// as each query is answered). Closes after the per-connection query cap, or when idle.
final class TCPQueryHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let store: CatalogStore
    private let metrics: ServerMetrics
    private let maxQueries: Int
    private var answered = 0
    private let client: ClientAddress?

    init(store: CatalogStore, metrics: ServerMetrics, maxQueries: Int, remote: SocketAddress?) {
        self.store = store
        self.metrics = metrics
        self.maxQueries = maxQueries
        self.client = remote.flatMap(ClientAddress.init)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        metrics.tcpQueries.wrappingIncrement(ordering: .relaxed)
        guard let client else { context.close(promise: nil); return }
        let query = Array(frame.readableBytesView)
        let catalog = store.load().catalog
        guard let reply = Authority.respond(to: query, source: client, transport: .tcp, catalog: catalog) else {
            // A message we do not answer on a stream (a response, garbage): end the stream.
            metrics.dropped.wrappingIncrement(ordering: .relaxed)
            context.close(promise: nil)
            return
        }
        metrics.responses.wrappingIncrement(ordering: .relaxed)
        var out = context.channel.allocator.buffer(capacity: reply.count + 2)
        out.writeInteger(UInt16(truncatingIfNeeded: reply.count))
        out.writeBytes(reply)
        answered += 1
        if answered >= maxQueries {
            context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in context.close(promise: nil) }
        } else {
            context.write(wrapOutboundOut(out), promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)  // RFC 7766 §6.2.3: the server may close idle connections
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        metrics.tcpConnections.wrappingIncrement(ordering: .relaxed)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        metrics.tcpConnections.wrappingDecrement(ordering: .relaxed)
        context.fireChannelInactive()
    }
}
