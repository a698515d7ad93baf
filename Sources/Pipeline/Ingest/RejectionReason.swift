/// Why an incoming message was not turned into a frame. The raw values are the `reason` of error
/// events and the label of the rejection counters.
public enum RejectionReason: String, Sendable, CaseIterable, Codable {
    /// Not 2 frames (header, payload), or 3 with a leading topic frame.
    case frameCount = "frame_count"
    /// The header frame is not a UTF-8 JSON object.
    case headerNotJSON = "header_not_json"
    /// The header lacks `msg`, or has only one of `dtype` and `shape`.
    case headerMissingKey = "header_missing_key"
    /// `dtype` or `shape` has a value the pipeline cannot take (dtype other than uint8/float32,
    /// a shape that is not `[H, W]` or `[H, W, C]` with C = 1 or 3).
    case headerInvalid = "header_invalid"
    /// The raw payload's byte count differs from what `dtype` and `shape` say.
    case sizeMismatch = "size_mismatch"
    /// The payload is not a decodable JPEG or PNG (corrupt, truncated, or neither format).
    case corruptImage = "corrupt_image"
    /// Width or height over the configured limit.
    case tooLarge = "too_large"
    /// The whole message is larger than the configured payload limit.
    case payloadTooLarge = "payload_too_large"
    /// A float32 array holds NaN or infinity.
    case nonFinite = "non_finite"
    /// The engine failed on this frame (reported, never expected).
    case computeFailed = "compute_failed"
}

/// An incoming message that was rejected: the reason (a counter label) and a sentence for the
/// log and the error event that names what was wrong.
public struct FrameRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: RejectionReason
    public let detail: String

    public init(_ reason: RejectionReason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}
