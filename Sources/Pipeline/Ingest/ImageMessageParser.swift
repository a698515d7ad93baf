import Engine
import Foundation

/// Reads the multipart messages of the imagezmq Python package, with or without a leading topic
/// frame:
///
/// - `[{"msg", "dtype", "shape"} JSON, raw C-contiguous array bytes]` (`send_image`): dtype
///   `uint8` or `float32` (values in `[0, 1]`), shape `[H, W]` or `[H, W, C]` with C = 1 or 3;
///   3-channel arrays are in the source's raw channel order (BGR by default, as OpenCV holds them).
/// - `[{"msg"} JSON, JPEG or PNG file bytes]` (`send_jpg`; the format is sniffed by signature),
///   decoded to RGB or grey.
///
/// Header keys other than `msg`, `dtype` and `shape` are kept in ``IncomingFrame/extra``.
/// Every failure is a ``FrameRejection`` that names the reason and what was wrong.
public struct ImageMessageParser: Sendable {
    public var limits: IngestLimits
    /// The channel order of 3-channel raw arrays (`.bgr` or `.rgb`).
    public var rawChannelOrder: ChannelOrder

    public init(limits: IngestLimits = IngestLimits(), rawChannelOrder: ChannelOrder = .bgr) {
        self.limits = limits
        self.rawChannelOrder = rawChannelOrder
    }

    /// Parses and decodes one message. `label` names it in errors (`source cam0, frame 17`).
    public func parse(_ frames: [[UInt8]], label: String) throws(FrameRejection) -> IncomingFrame {
        let total = frames.reduce(0) { $0 + $1.count }
        guard total <= limits.maxPayloadBytes else {
            throw FrameRejection(.payloadTooLarge, "\(label): \(total) bytes exceeds the limit of \(limits.maxPayloadBytes) bytes")
        }
        let topic: String?
        let headerBytes: [UInt8], payload: [UInt8]
        switch frames.count {
        case 2:
            (topic, headerBytes, payload) = (nil, frames[0], frames[1])
        case 3:
            (topic, headerBytes, payload) = (String(decoding: frames[0], as: UTF8.self), frames[1], frames[2])
        default:
            throw FrameRejection(.frameCount, "\(label): \(frames.count) frame(s); expected [header, payload] or [topic, header, payload]")
        }
        var header = try Self.header(headerBytes, label: label)
        guard let msg = header.removeValue(forKey: "msg") else {
            throw FrameRejection(.headerMissingKey, "\(label): the header has no \"msg\" key (keys: \(header.keys.sorted().joined(separator: ", ")))")
        }
        let dtype = header.removeValue(forKey: "dtype"), shape = header.removeValue(forKey: "shape")
        var frame = IncomingFrame(topic: topic, msg: msg, extra: header, pixels: .bytes(Image(width: 1, height: 1, channels: 1, pixels: [0])),
                                  kind: .jpeg, isBGR: false)
        switch (dtype, shape) {
        case let (dtype?, shape?):
            try decodeArray(dtype: dtype, shape: shape, payload: payload, label: label, into: &frame)
        case (nil, nil):
            try decodeImage(payload, label: label, into: &frame)
        case (nil, _?):
            throw FrameRejection(.headerMissingKey, "\(label): the header has \"shape\" but no \"dtype\"")
        case (_?, nil):
            throw FrameRejection(.headerMissingKey, "\(label): the header has \"dtype\" but no \"shape\"")
        }
        return frame
    }

    private static func header(_ bytes: [UInt8], label: String) throws(FrameRejection) -> [String: JSONValue] {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            let preview = String(decoding: bytes.prefix(40), as: UTF8.self).debugDescription
            throw FrameRejection(.headerNotJSON, "\(label): the header frame (\(bytes.count) bytes, starting \(preview)) is not JSON")
        }
        guard case let .object(object) = value else {
            throw FrameRejection(.headerNotJSON, "\(label): the header is JSON but not an object: \(value.description.prefix(60))")
        }
        return object
    }

    private func decodeArray(dtype: JSONValue, shape: JSONValue, payload: [UInt8], label: String,
                             into frame: inout IncomingFrame) throws(FrameRejection) {
        let elementSize: Int
        switch dtype.stringValue {
        case "uint8", "|u1", "<u1", "u1", "B": elementSize = 1; frame.kind = .uint8Array
        case "float32", "<f4", "f4", "f": elementSize = 4; frame.kind = .float32Array
        default:
            throw FrameRejection(.headerInvalid, "\(label): dtype \(dtype) is not supported (send uint8 or float32)")
        }
        guard let dimensions = shape.arrayValue?.map(\.integerValue), dimensions.allSatisfy({ $0 != nil }),
              let dimensions = Optional(dimensions.map { Int($0!) }),
              dimensions.count == 2 || dimensions.count == 3 else {
            throw FrameRejection(.headerInvalid, "\(label): shape \(shape) is not [H, W] or [H, W, C]")
        }
        let (height, width) = (dimensions[0], dimensions[1])
        let channels = dimensions.count == 3 ? dimensions[2] : 1
        guard height > 0, width > 0, channels == 1 || channels == 3 else {
            throw FrameRejection(.headerInvalid, "\(label): shape \(shape) is not [H, W] or [H, W, C] with H, W ≥ 1 and C = 1 or 3")
        }
        guard width <= limits.maxWidth, height <= limits.maxHeight else {
            throw FrameRejection(.tooLarge, "\(label): \(width)×\(height) exceeds the limit of \(limits.maxWidth)×\(limits.maxHeight)")
        }
        let expected = height * width * channels * elementSize
        guard payload.count == expected else {
            throw FrameRejection(.sizeMismatch, "\(label): \(payload.count) payload bytes, but dtype \(dtype) and shape \(shape) need \(expected)")
        }
        frame.isBGR = channels == 3 && rawChannelOrder == .bgr
        if elementSize == 1 {
            frame.pixels = .bytes(Image(width: width, height: height, channels: channels, pixels: payload))
            return
        }
        var floats = [Float](repeating: 0, count: height * width * channels)
        floats.withUnsafeMutableBytes { destination in
            payload.withUnsafeBytes { destination.copyMemory(from: $0) }
        }
        for index in floats.indices {
            let value = Float(bitPattern: UInt32(littleEndian: floats[index].bitPattern))
            guard value.isFinite else {
                throw FrameRejection(.nonFinite, "\(label): the float32 array holds \(value) at element \(index)")
            }
            floats[index] = value * 255
        }
        frame.pixels = .floats(FloatImage(width: width, height: height, channels: channels, pixels: floats))
    }

    private func decodeImage(_ payload: [UInt8], label: String, into frame: inout IncomingFrame) throws(FrameRejection) {
        let maxPixels = limits.maxWidth * limits.maxHeight
        let image: Image
        do {
            image = try ImageDecoder.decode(payload, source: label, maxPixels: maxPixels)
        } catch let error {
            switch error {
            case .tooLarge: throw FrameRejection(.tooLarge, error.description)
            case .unknownFormat:
                throw FrameRejection(.corruptImage, "\(error.description); a raw array needs \"dtype\" and \"shape\" in the header")
            default: throw FrameRejection(.corruptImage, error.description)
            }
        }
        guard image.width <= limits.maxWidth, image.height <= limits.maxHeight else {
            throw FrameRejection(.tooLarge, "\(label): \(image.width)×\(image.height) exceeds the limit of \(limits.maxWidth)×\(limits.maxHeight)")
        }
        frame.kind = payload.first == 0xFF ? .jpeg : .png
        frame.isBGR = false
        frame.pixels = .bytes(image)
    }
}
