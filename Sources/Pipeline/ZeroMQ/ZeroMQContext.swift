import CZeroMQ

/// A libzmq context (`zmq_ctx_new`): the I/O threads that every socket made from it shares.
/// Thread-safe, as libzmq's contexts are; terminated when the last reference goes, which waits
/// until every socket made from it is closed.
public final class ZeroMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// A new context with libzmq's defaults (one I/O thread).
    public init() {
        guard let handle = zmq_ctx_new() else { fatalError("zmq_ctx_new failed: \(ZeroMQError(operation: "zmq_ctx_new"))") }
        self.handle = handle
    }

    deinit { zmq_ctx_term(handle) }

    /// The linked libzmq's version, e.g. `4.3.4`.
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}
