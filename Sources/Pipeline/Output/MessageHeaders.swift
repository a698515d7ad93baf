import Foundation

/// The JSON header (frame 1) of a signed-map message, schema `saliencyd.maps/1`; frames 2… carry
/// the maps in the order of ``maps``. `docs/protocol.md` specifies every key.
public struct MapsHeader: Codable, Sendable, Equatable {
    public struct Size: Codable, Sendable, Equatable {
        public var width: Int, height: Int, channels: Int
    }
    public struct Original: Codable, Sendable, Equatable {
        public var width: Int, height: Int, channels: Int
        /// `uint8`, `float32` (raw arrays), `jpeg` or `png`.
        public var format: String
    }
    public struct Prediction: Codable, Sendable, Equatable {
        public var index: Int
        public var label: String
        /// The softmax of the logits at `index`.
        public var score: Double
    }
    public struct Map: Codable, Sendable, Equatable {
        public var name: String
        public var dtype: String
        public var width: Int, height: Int
        /// The map's range before encoding (what a u8 map is scaled from).
        public var min: Float, max: Float
    }

    public var schema = MapsHeader.schemaName
    public var source: String
    public var seq: UInt64
    public var msg: JSONValue
    /// The sender's header keys other than `msg`, `dtype`, `shape`.
    public var extra: [String: JSONValue]
    /// The topic frame the message arrived with, if it had one.
    public var senderTopic: String?
    public var model: ModelIdentity
    /// The model input the maps are computed at.
    public var input: Size
    /// The frame as it arrived, before resizing and channel conversion.
    public var original: Original
    public var predicted: Prediction
    public var logits: [Float]
    public var maps: [Map]
    /// Unix nanoseconds: message received, batch computation started, maps ready.
    public var tReceived: UInt64, tStarted: UInt64, tFinished: UInt64
    /// Milliseconds from received to started, and from started to finished.
    public var queueMs: Double, computeMs: Double
    /// How many frames the worker computed together with this one (itself included).
    public var batch: Int
    /// The worker that computed it (0-based).
    public var worker: Int

    public static let schemaName = "saliencyd.maps/1"

    enum CodingKeys: String, CodingKey {
        case schema, source, seq, msg, extra, senderTopic = "sender_topic", model, input, original, predicted, logits, maps
        case tReceived = "t_received", tStarted = "t_started", tFinished = "t_finished"
        case queueMs = "queue_ms", computeMs = "compute_ms", batch, worker
    }
}

/// The JSON header of an error event (topic `<prefix>error/<source>`, no further frames),
/// schema `saliencyd.error/1`: a message of `source` that was rejected, and why.
public struct ErrorEventHeader: Codable, Sendable, Equatable {
    public var schema = ErrorEventHeader.schemaName
    public var source: String
    /// The source's receive counter for the rejected message.
    public var seq: UInt64
    /// The sender's `msg`, when the header could be read that far.
    public var msg: JSONValue?
    /// A ``RejectionReason`` raw value.
    public var reason: String
    /// What exactly was wrong, naming the key, size or byte offset.
    public var detail: String
    /// Unix nanoseconds when the message was received.
    public var tReceived: UInt64

    public static let schemaName = "saliencyd.error/1"

    enum CodingKeys: String, CodingKey {
        case schema, source, seq, msg, reason, detail, tReceived = "t_received"
    }
}

enum HeaderEncoding {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        // The headers hold only strings, numbers and JSON values: encoding cannot fail.
        return Array(try! encoder.encode(value))
    }
}
