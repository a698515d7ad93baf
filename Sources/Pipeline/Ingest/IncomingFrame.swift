import Engine

/// One accepted image message, decoded: the pixels and what the sender said about them.
public struct IncomingFrame: Sendable {
    /// The pixels as they arrived: bytes (a uint8 array, a JPEG, a PNG) or floats in 0…255 units
    /// (a float32 array, sent in `[0, 1]`, times 255).
    public enum Pixels: Sendable {
        case bytes(Image)
        case floats(FloatImage)

        public var width: Int { switch self { case let .bytes(image): image.width; case let .floats(image): image.width } }
        public var height: Int { switch self { case let .bytes(image): image.height; case let .floats(image): image.height } }
        public var channels: Int { switch self { case let .bytes(image): image.channels; case let .floats(image): image.channels } }
    }

    /// How the payload was encoded on the wire.
    public enum PayloadKind: String, Sendable {
        case uint8Array = "uint8", float32Array = "float32", jpeg, png
    }

    /// The leading topic frame, when the message had one.
    public var topic: String?
    /// The header's `msg` (any JSON; imagezmq senders put a text there, often the camera name).
    public var msg: JSONValue
    /// Every other header key except `dtype` and `shape`, carried through to the output.
    public var extra: [String: JSONValue]
    public var pixels: Pixels
    public var kind: PayloadKind
    /// Whether a 3-channel image's samples are blue, green, red (raw arrays from OpenCV).
    public var isBGR: Bool
}
