import CZeroMQ

/// A libzmq call that failed: which operation, on what (an endpoint or option), and libzmq's
/// `zmq_strerror` text for `errno`.
public struct ZeroMQError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was attempted: `bind`, `connect`, `send`, `receive`, `setsockopt ZMQ_SNDHWM`, …
    public let operation: String
    /// The endpoint or other subject of the operation, if any.
    public let subject: String?
    /// `errno` as libzmq left it.
    public let code: Int32

    public init(operation: String, subject: String? = nil, code: Int32 = zmq_errno()) {
        self.operation = operation
        self.subject = subject
        self.code = code
    }

    /// libzmq's explanation of ``code``.
    public var reason: String { String(cString: zmq_strerror(code)) }

    public var description: String {
        "ZeroMQ \(operation)\(subject.map { " \($0)" } ?? ""): \(reason)"
    }
}
