import DNSWire
import NIOCore
import Policy

/// Answers DNS over UDP on NIO datagram channels (`--udp-engine nio`): one handler per socket
/// (one socket per event loop, SO_REUSEPORT). Reads arrive in batches (recvmmsg); replies are
/// written as they are made and flushed once per batch (sendmmsg).
///
/// The same path as the default engine (UDPWorker): DNSServer's answerer (the fast path into a
/// buffer this handler reuses) and the same `ReplyLimits` (error-reply limit, RRL), through
/// `ReplyLimits.respond`. The only allocation per datagram is NIO's buffer for the reply.
final class UDPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let answer: UDPWorker.Answerer
    private let limits: ReplyLimits
    private let metrics: ServerMetrics
    /// The reply is built here, then copied into NIO's buffer. Used on this channel's event loop
    /// only (a handler belongs to one channel).
    private let out = UnsafeMutableRawBufferPointer.allocate(byteCount: UDPWorker.replySlot, alignment: 16)

    /// - Parameter answer: this handler's own answerer (its scratch buffers are not shared).
    init(answer: @escaping UDPWorker.Answerer, limits: ReplyLimits, metrics: ServerMetrics) {
        self.answer = answer
        self.limits = limits
        self.metrics = metrics
    }

    deinit { out.deallocate() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        metrics.udpQueries.wrappingIncrement(ordering: .relaxed)
        guard let client = ClientAddress(envelope.remoteAddress) else {
            metrics.dropped.wrappingIncrement(ordering: .relaxed)
            return
        }
        let now = ResponseRateLimiter.now()
        let unixTime = CookieSecrets.now()
        let size = envelope.data.withUnsafeReadableBytes { query in
            limits.respond(to: query, client: client, into: out, now: now, unixTime: unixTime, answer: answer)
        }
        guard size > 0 else {
            metrics.dropped.wrappingIncrement(ordering: .relaxed)
            return
        }
        metrics.responses.wrappingIncrement(ordering: .relaxed)
        metrics.countRcode(flags: out[3])
        let reply = context.channel.allocator.buffer(bytes: UnsafeRawBufferPointer(rebasing: out[0..<size]))
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: reply)), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP-induced errors (ECONNREFUSED from an earlier send) must not close the socket.
    }
}
