/// Bounds on what a source accepts, checked before anything large is allocated.
public struct IngestLimits: Sendable, Equatable {
    /// Widest frame accepted, in pixels (default 8192).
    public var maxWidth: Int
    /// Tallest frame accepted, in pixels (default 8192).
    public var maxHeight: Int
    /// Largest message accepted, all frames together, in bytes (default 64 MiB).
    public var maxPayloadBytes: Int

    public init(maxWidth: Int = 8192, maxHeight: Int = 8192, maxPayloadBytes: Int = 64 << 20) {
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.maxPayloadBytes = maxPayloadBytes
    }
}
