import Foundation

/// Builds the messages the imagezmq Python package sends, for `saliencyd send` and for tests.
public enum ImageMessages {
    /// `send_image`: `[{"msg", "dtype": "uint8", "shape"}, bytes]`. A 3-channel image is sent as
    /// it is stored; say what order that is on the receiving source.
    public static func array(msg: JSONValue, image: Image, extra: [String: JSONValue] = [:], topic: String? = nil) -> [[UInt8]] {
        var header = extra
        header["msg"] = msg
        header["dtype"] = .string("uint8")
        header["shape"] = .array((image.channels == 1 ? [image.height, image.width] : [image.height, image.width, image.channels])
            .map { .integer(Int64($0)) })
        return (topic.map { [Array($0.utf8)] } ?? []) + [HeaderEncoding.encode(JSONValue.object(header)), image.pixels]
    }

    /// `send_image` with a float32 array (values in `[0, 1]`), `H×W×C` interleaved.
    public static func floatArray(msg: JSONValue, width: Int, height: Int, channels: Int, values: [Float],
                                  extra: [String: JSONValue] = [:]) -> [[UInt8]] {
        var header = extra
        header["msg"] = msg
        header["dtype"] = .string("float32")
        header["shape"] = .array((channels == 1 ? [height, width] : [height, width, channels]).map { .integer(Int64($0)) })
        // Little-endian float32, as maps travel (the range only matters for u8).
        return [HeaderEncoding.encode(JSONValue.object(header)), MapEncoding.f32.encode(values, minimum: 0, maximum: 0)]
    }

    /// `send_jpg`: `[{"msg"}, file bytes]` (JPEG, or PNG, which saliencyd also accepts).
    public static func compressed(msg: JSONValue, bytes: [UInt8], extra: [String: JSONValue] = [:], topic: String? = nil) -> [[UInt8]] {
        var header = extra
        header["msg"] = msg
        return (topic.map { [Array($0.utf8)] } ?? []) + [HeaderEncoding.encode(JSONValue.object(header)), bytes]
    }
}
