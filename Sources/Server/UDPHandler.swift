import Authority
import NIOCore
import Policy

/// Answers DNS over UDP: one handler per socket (one socket per event loop, SO_REUSEPORT).
/// Reads arrive in batches (recvmmsg); replies are written as they are made and flushed once
/// per batch (sendmmsg).
final class UDPHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let store: CatalogStore
    private let metrics: ServerMetrics

    init(store: CatalogStore, metrics: ServerMetrics) {
        self.store = store
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        metrics.udpQueries.wrappingIncrement(ordering: .relaxed)
        guard let client = ClientAddress(envelope.remoteAddress) else {
            metrics.dropped.wrappingIncrement(ordering: .relaxed)
            return
        }
        let query = Array(envelope.data.readableBytesView)
        let catalog = store.load().catalog
        guard let reply = Authority.respond(to: query, source: client, transport: .udp, catalog: catalog) else {
            metrics.dropped.wrappingIncrement(ordering: .relaxed)
            return
        }
        if reply.count > 2, reply[2] & 0x02 != 0 {
            metrics.truncated.wrappingIncrement(ordering: .relaxed)
        }
        metrics.responses.wrappingIncrement(ordering: .relaxed)
        let out = context.channel.allocator.buffer(bytes: reply)
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: out)), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP-induced errors (ECONNREFUSED from an earlier send) must not close the socket.
    }
}
