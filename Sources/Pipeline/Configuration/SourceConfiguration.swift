import Engine

/// One input stream: a ZeroMQ socket on one or more endpoints, and how its frames are queued.
public struct SourceConfiguration: Sendable, Equatable {
    /// Names the source in topics, counters and logs: letters, digits, `-`, `_`, `.`.
    public var name: String
    /// `tcp://…`, `ipc://…`; a SUB may connect to several publishers.
    public var endpoints: [String]
    /// `.sub`, `.pull` or `.rep`.
    public var socketType: ZeroMQSocketType
    /// Bind (true) or connect (false); `nil` takes the type's default (REP and PULL bind, SUB connects).
    public var bind: Bool?
    /// SUB only: the topic prefix to subscribe to; empty takes everything.
    public var topic: String
    /// The channel order of 3-channel raw arrays: `.bgr` (OpenCV's, the default) or `.rgb`.
    /// JPEG and PNG payloads always decode to RGB.
    public var channelOrder: ChannelOrder
    /// `nil` takes the type's default: `latest` for SUB, `block` for PULL and REP.
    public var policy: BackpressurePolicy?
    /// Frames the source's queue holds (default 4).
    public var queueCapacity: Int
    /// `ZMQ_RCVHWM` of the socket (default 16 messages): how many messages libzmq buffers ahead.
    public var receiveHighWaterMark: Int

    public init(name: String = "default", endpoints: [String] = ["tcp://127.0.0.1:5555"], socketType: ZeroMQSocketType = .rep,
                bind: Bool? = nil, topic: String = "", channelOrder: ChannelOrder = .bgr, policy: BackpressurePolicy? = nil,
                queueCapacity: Int = 4, receiveHighWaterMark: Int = 16) {
        self.name = name
        self.endpoints = endpoints
        self.socketType = socketType
        self.bind = bind
        self.topic = topic
        self.channelOrder = channelOrder
        self.policy = policy
        self.queueCapacity = queueCapacity
        self.receiveHighWaterMark = receiveHighWaterMark
    }

    /// The policy in force.
    public var effectivePolicy: BackpressurePolicy { policy ?? (socketType == .sub ? .latest : .block) }
    /// Whether the socket binds.
    public var binds: Bool { bind ?? socketType.bindsByDefault }
}
