import CZeroMQ
import Foundation

/// One libzmq socket. Not thread-safe (libzmq's sockets are not): a socket belongs to the thread
/// that uses it — in the pipeline, one ingest thread per source and the publisher thread.
///
/// Every blocking call takes a timeout, so that its owner can notice a stop request.
public final class ZeroMQSocket {
    public let type: ZeroMQSocketType
    private var handle: UnsafeMutableRawPointer?
    /// Keeps the context alive while the socket is open.
    private let context: ZeroMQContext

    public init(_ context: ZeroMQContext, type: ZeroMQSocketType) throws(ZeroMQError) {
        guard let handle = zmq_socket(context.handle, type.rawType) else {
            throw ZeroMQError(operation: "socket", subject: type.rawValue.uppercased())
        }
        self.context = context
        self.type = type
        self.handle = handle
        try setOption(ZMQ_LINGER, 0, name: "ZMQ_LINGER")
    }

    deinit { close() }

    /// Closes the socket; pending outgoing messages are kept for `linger` milliseconds at most
    /// (set with ``setLinger(milliseconds:)``, 0 by default). Closing twice does nothing.
    public func close() {
        if let handle { zmq_close(handle) }
        handle = nil
    }

    private var open: UnsafeMutableRawPointer {
        guard let handle else { preconditionFailure("ZeroMQ socket used after close") }
        return handle
    }

    // MARK: Endpoints

    /// Binds to `endpoint` (`tcp://127.0.0.1:5555`, `tcp://*:0`, `ipc:///run/x.sock`, …).
    public func bind(_ endpoint: String) throws(ZeroMQError) {
        guard zmq_bind(open, endpoint) == 0 else { throw ZeroMQError(operation: "bind", subject: endpoint) }
    }

    /// Connects to `endpoint`; libzmq reconnects by itself when the peer goes away.
    public func connect(_ endpoint: String) throws(ZeroMQError) {
        guard zmq_connect(open, endpoint) == 0 else { throw ZeroMQError(operation: "connect", subject: endpoint) }
    }

    /// The endpoint last bound, with a wildcard port resolved (`ZMQ_LAST_ENDPOINT`).
    public var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        guard zmq_getsockopt(open, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: Options

    private func setOption(_ option: Int32, _ value: Int32, name: String) throws(ZeroMQError) {
        var value = value
        guard zmq_setsockopt(open, option, &value, MemoryLayout<Int32>.size) == 0 else {
            throw ZeroMQError(operation: "setsockopt \(name)", subject: "\(value)")
        }
    }

    /// `ZMQ_SNDHWM`: outgoing messages queued per peer before PUB drops and PUSH/REQ block.
    public func setSendHighWaterMark(_ messages: Int) throws(ZeroMQError) {
        try setOption(ZMQ_SNDHWM, Int32(clamping: messages), name: "ZMQ_SNDHWM")
    }

    /// `ZMQ_RCVHWM`: incoming messages queued per peer before the peer is pushed back.
    public func setReceiveHighWaterMark(_ messages: Int) throws(ZeroMQError) {
        try setOption(ZMQ_RCVHWM, Int32(clamping: messages), name: "ZMQ_RCVHWM")
    }

    /// `ZMQ_LINGER`: how long ``close()`` keeps unsent messages.
    public func setLinger(milliseconds: Int) throws(ZeroMQError) {
        try setOption(ZMQ_LINGER, Int32(clamping: milliseconds), name: "ZMQ_LINGER")
    }

    /// `ZMQ_SNDTIMEO`: how long a blocking send waits (-1 forever).
    public func setSendTimeout(milliseconds: Int) throws(ZeroMQError) {
        try setOption(ZMQ_SNDTIMEO, Int32(clamping: milliseconds), name: "ZMQ_SNDTIMEO")
    }

    /// `ZMQ_RCVTIMEO`: how long a blocking receive waits (-1 forever).
    public func setReceiveTimeout(milliseconds: Int) throws(ZeroMQError) {
        try setOption(ZMQ_RCVTIMEO, Int32(clamping: milliseconds), name: "ZMQ_RCVTIMEO")
    }

    /// `ZMQ_MAXMSGSIZE`: libzmq disconnects a peer that sends a larger message part (-1: no limit).
    public func setMaximumMessageSize(_ bytes: Int) throws(ZeroMQError) {
        var value = Int64(bytes)
        guard zmq_setsockopt(open, ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size) == 0 else {
            throw ZeroMQError(operation: "setsockopt ZMQ_MAXMSGSIZE", subject: "\(bytes)")
        }
    }

    /// The `ZMQ_MAXMSGSIZE` saliencyd sets for a payload limit: 4× the limit (saturating), so
    /// that oversized messages are normally rejected by the pipeline, visibly, and only absurd
    /// ones make libzmq drop the connection.
    public static func hardMessageLimit(forPayloadLimit limit: Int) -> Int {
        limit > Int.max / 4 ? -1 : 4 * limit
    }

    /// `ZMQ_SUBSCRIBE` (SUB only): receive messages whose first frame starts with `prefix`;
    /// the empty prefix subscribes to everything.
    public func subscribe(_ prefix: String) throws(ZeroMQError) {
        let bytes = Array(prefix.utf8)
        let result = bytes.withUnsafeBytes { zmq_setsockopt(open, ZMQ_SUBSCRIBE, $0.baseAddress, $0.count) }
        guard result == 0 else { throw ZeroMQError(operation: "setsockopt ZMQ_SUBSCRIBE", subject: prefix) }
    }

    // MARK: Messages

    /// Sends `frames` as one multipart message. Returns `false` when the send would block longer
    /// than the send timeout (`EAGAIN`) — nothing was sent then — and throws on other errors.
    @discardableResult
    public func send(_ frames: [[UInt8]]) throws(ZeroMQError) -> Bool {
        precondition(!frames.isEmpty, "a ZeroMQ message has at least one frame")
        for (index, frame) in frames.enumerated() {
            let flags: Int32 = index + 1 < frames.count ? ZMQ_SNDMORE : 0
            let sent = frame.withUnsafeBytes { zmq_send(open, $0.baseAddress, $0.count, flags) }
            if sent < 0 {
                let code = zmq_errno()
                // libzmq queues a multipart message atomically: EAGAIN can only come on the first frame.
                if code == EAGAIN && index == 0 { return false }
                throw ZeroMQError(operation: "send", subject: "frame \(index) of \(frames.count)", code: code)
            }
        }
        return true
    }

    /// Sends one single-frame message (a REP reply, say).
    @discardableResult
    public func send(_ text: String) throws(ZeroMQError) -> Bool { try send([Array(text.utf8)]) }

    /// Receives one whole multipart message, waiting at most the receive timeout; `nil` when none
    /// arrived in time (`EAGAIN`). `EINTR` is also reported as `nil`, so the caller re-checks
    /// whether it should stop.
    public func receive() throws(ZeroMQError) -> [[UInt8]]? {
        var frames: [[UInt8]] = []
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        repeat {
            if zmq_msg_recv(&message, open, 0) < 0 {
                let code = zmq_errno()
                // Later parts of a multipart message arrive atomically with the first.
                if frames.isEmpty && (code == EAGAIN || code == EINTR) { return nil }
                throw ZeroMQError(operation: "receive", subject: "frame \(frames.count)", code: code)
            }
            let size = zmq_msg_size(&message)
            let data = zmq_msg_data(&message)
            frames.append(size == 0 ? [] : Array(UnsafeRawBufferPointer(start: data, count: size)))
        } while zmq_msg_more(&message) != 0
        return frames
    }

    /// Waits up to `milliseconds` until the socket can receive (`ZMQ_POLLIN`) or send
    /// (`ZMQ_POLLOUT`) without blocking.
    public func poll(readable: Bool, milliseconds: Int) throws(ZeroMQError) -> Bool {
        var item = zmq_pollitem_t(socket: open, fd: 0, events: Int16(readable ? ZMQ_POLLIN : ZMQ_POLLOUT), revents: 0)
        let result = zmq_poll(&item, 1, milliseconds)
        if result < 0 {
            if zmq_errno() == EINTR { return false }
            throw ZeroMQError(operation: "poll")
        }
        return result > 0
    }
}
