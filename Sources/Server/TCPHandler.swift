import Authority
import DNSWire
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
/// as each query is answered). Closes when idle, or after the per-connection query cap (none by
/// default): at the cap it stops reading, answers every query it has already read (RFC 7766
/// §6.2.1.1: the server must not drop queries it received), and closes once those replies are
/// written. Stops reading while the client does not read its replies (NIO's write buffer is past
/// its high watermark), so a client that only sends cannot make us buffer replies without bound.
final class TCPQueryHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let store: CatalogStore
    private let metrics: ServerMetrics
    private let maxQueries: Int?
    private var answered = 0
    /// The cap was reached: no more reads; close after the last reply is written.
    private var closing = false
    private var lastWrite: EventLoopFuture<Void>?
    private let client: ClientAddress?
    private let connections: TCPConnectionTable?
    private let entry: TCPConnectionTable.Entry?

    init(store: CatalogStore, metrics: ServerMetrics, maxQueries: Int?, remote: SocketAddress?,
         connections: TCPConnectionTable? = nil, entry: TCPConnectionTable.Entry? = nil) {
        self.store = store
        self.metrics = metrics
        self.maxQueries = maxQueries
        self.client = remote.flatMap(ClientAddress.init)
        self.connections = connections
        self.entry = entry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        metrics.tcpQueries.wrappingIncrement(ordering: .relaxed)
        guard let client else { context.close(promise: nil); return }
        let query = Array(frame.readableBytesView)
        let snapshot = store.load()
        guard let (reply, cookie) = Authority.respond(to: query, source: client, transport: .tcp, catalog: snapshot.catalog,
                                                      cookies: snapshot.cookies(now: CookieSecrets.now())) else {
            // A message we do not answer on a stream (a response, garbage): end the stream.
            metrics.dropped.wrappingIncrement(ordering: .relaxed)
            context.close(promise: nil)
            return
        }
        metrics.responses.wrappingIncrement(ordering: .relaxed)
        if reply.count > 3 { metrics.countRcode(flags: reply[3]) }
        if cookie == .valid { metrics.validCookies.wrappingIncrement(ordering: .relaxed) }
        var out = context.channel.allocator.buffer(capacity: reply.count + 2)
        out.writeInteger(UInt16(truncatingIfNeeded: reply.count))
        out.writeBytes(reply)
        answered += 1
        entry?.touch()
        if closing {
            // Read before the cap took effect: answered all the same (see channelReadComplete).
            lastWrite = context.write(wrapOutboundOut(out))
        } else if let maxQueries, answered >= maxQueries {
            // Stop reading; the frames already read (in this read and the decoder's buffer) still
            // arrive here and are answered; channelReadComplete closes after the last one.
            closing = true
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
            lastWrite = context.write(wrapOutboundOut(out))
        } else {
            context.write(wrapOutboundOut(out), promise: nil)
            if !context.channel.isWritable {
                // Pause before flushing: a flush can make the channel writable again at once
                // (its event resumes reading), and pausing after it would then stick.
                try? context.channel.syncOptions?.setOption(.autoRead, value: false)
                context.flush()
                if context.channel.isWritable { try? context.channel.syncOptions?.setOption(.autoRead, value: true) }
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, !closing {
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        if closing, let last = lastWrite {
            // Every query read so far is answered: close once the last reply is on the wire.
            lastWrite = nil
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            last.whenComplete { _ in bound.value.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            metrics.tcpIdleTimeouts.wrappingIncrement(ordering: .relaxed)
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
        if let entry { connections?.remove(entry) }
        context.fireChannelInactive()
    }
}

/// The per-message read deadline against slow clients (slowloris): once the first byte of a
/// frame has arrived, the whole frame must arrive within `timeout`, or the connection is closed.
/// The idle timeout alone cannot do this: a client sending a byte every second is never idle.
/// Sits before the frame decoder and follows the framing itself (length bytes, then skips the
/// body by count), so it copies nothing.
final class TCPReadDeadlineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private let metrics: ServerMetrics
    private var lengthBytes = 0      // bytes of the current frame's 2-byte length seen (0 or 1)
    private var length = 0
    private var remaining = 0        // body bytes of the current frame still to come
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount, metrics: ServerMetrics) {
        self.timeout = timeout
        self.metrics = metrics
    }

    private var inFrame: Bool { lengthBytes > 0 || remaining > 0 }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        var index = buffer.readerIndex
        var left = buffer.readableBytes
        var completed = false
        while left > 0 {       // each turn consumes at least one byte
            if remaining > 0 {
                let take = min(left, remaining)
                remaining -= take
                left -= take
                index += take
                if remaining == 0 { completed = true }
                continue
            }
            let byte = Int(buffer.getInteger(at: index, as: UInt8.self) ?? 0)
            index += 1
            left -= 1
            if lengthBytes == 0 {
                length = byte << 8
                lengthBytes = 1
            } else {
                length |= byte
                lengthBytes = 0
                remaining = length
                if remaining == 0 { completed = true }
            }
        }
        if completed || !inFrame {
            deadline?.cancel()
            deadline = nil
        }
        if inFrame, deadline == nil, context.channel.isWritable {
            schedule(context: context)
        }
        context.fireChannelRead(data)
    }

    /// While the client does not read its replies we stop reading (TCPQueryHandler), so a frame
    /// stalls by our doing: the deadline pauses, and the idle timeout governs such a client.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            if inFrame, deadline == nil { schedule(context: context) }
        } else {
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelWritabilityChanged()
    }

    private func schedule(context: ChannelHandlerContext) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) { [self, metrics] in
            let context = bound.value
            // Reading paused by us (the client is not reading its replies): not the client's delay.
            if !context.channel.isWritable || (try? context.channel.syncOptions?.getOption(.autoRead)) == false {
                deadline = nil
                if context.channel.isWritable { schedule(context: context) }
                return
            }
            metrics.tcpReadTimeouts.wrappingIncrement(ordering: .relaxed)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }
}
