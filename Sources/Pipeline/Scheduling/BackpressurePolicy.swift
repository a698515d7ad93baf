/// What a source's bounded queue does when a frame arrives and the queue is full.
public enum BackpressurePolicy: String, Sendable, Codable, CaseIterable {
    /// Drop the oldest waiting frame and keep the new one: a live camera wants the newest frame.
    /// The default for SUB sources.
    case latest
    /// Refuse the incoming frame and keep the waiting ones.
    case dropNew = "drop-new"
    /// Stop reading the socket until there is room, so that ZeroMQ's high-water marks push back on
    /// PUSH and REQ senders: lossless over PULL and REP. (A PUB sender drops at its own high-water
    /// mark instead, so nothing makes SUB lossless.) The default for PULL and REP sources.
    case block
}
