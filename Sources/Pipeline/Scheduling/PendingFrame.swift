/// A frame accepted from a source and prepared for the model, waiting for a worker.
public struct PendingFrame: Sendable {
    /// The source's index in the pipeline's configuration, and its name.
    public var source: Int
    public var sourceName: String
    /// The source's receive counter for this message (0, 1, 2, …): counts every message the source
    /// received, so gaps show the consumer what was dropped or rejected.
    public var seq: UInt64
    /// The model input, `C×H×W`, already normalised.
    public var tensor: [Float]
    /// What the sender said (``IncomingFrame``) and how the frame arrived.
    public var msg: JSONValue
    public var extra: [String: JSONValue]
    public var senderTopic: String?
    public var kind: IncomingFrame.PayloadKind
    public var originalWidth: Int, originalHeight: Int, originalChannels: Int
    /// Wall-clock Unix nanoseconds when the message was received.
    public var receivedAt: UInt64
    /// Position among the frames the scheduler handed out for this source (0, 1, 2, …), set when
    /// a worker takes the frame; the publisher restores this order.
    public var dispatchIndex: UInt64 = 0
}
