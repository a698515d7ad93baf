/// A message ready for the output socket: topic, JSON header, binary frames.
public struct OutgoingMessage: Sendable {
    public var topic: String
    public var header: [UInt8]
    public var payload: [[UInt8]]

    public var frames: [[UInt8]] { [Array(topic.utf8), header] + payload }
}
