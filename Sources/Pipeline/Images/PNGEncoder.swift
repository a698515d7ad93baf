import CPNG
import Foundation

/// Encodes an 8-bit ``Image`` (grey or RGB, `H×W×C` interleaved) as PNG with libpng's
/// simplified write API: 8-bit grey or RGB, non-interlaced, marked as sRGB. Decoding the result
/// with ``ImageDecoder`` gives back the same pixels.
public enum PNGEncoder: Sendable {
    /// The PNG file's bytes. `destination` names the image in errors.
    public static func encode(_ image: Image, destination: String = "PNG image") throws(ImageError) -> [UInt8] {
        try image.pixels.withUnsafeBytes { buffer in
            Result { () throws(ImageError) in try encode(image, pixels: buffer.baseAddress, destination: destination) }
        }.get()
    }

    /// Encodes `image` and writes it to `url`, replacing any file there atomically.
    public static func write(_ image: Image, to url: URL) throws(ImageError) {
        let bytes = try encode(image, destination: url.path)
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw .unwritable(path: url.path, reason: error.localizedDescription)
        }
    }

    private static func encode(_ image: Image, pixels: UnsafeRawPointer?, destination: String) throws(ImageError) -> [UInt8] {
        func header() -> png_image {
            var header = png_image()
            header.version = UInt32(PNG_IMAGE_VERSION)
            header.width = UInt32(image.width)
            header.height = UInt32(image.height)
            header.format = image.channels == 3 ? PNG_FORMAT_FLAG_COLOR : 0
            return header
        }
        // The first call, without memory, measures; the second writes.
        var measuring = header()
        var size = 0
        guard png_image_write_to_memory(&measuring, nil, &size, 0, pixels, 0, nil) != 0 else {
            throw .encodingFailed(destination: destination, reason: measuring.messageText)
        }
        var writing = header()
        var bytes = [UInt8](repeating: 0, count: size)
        let status = bytes.withUnsafeMutableBytes {
            png_image_write_to_memory(&writing, $0.baseAddress, &size, 0, pixels, 0, nil)
        }
        guard status != 0 else {
            throw .encodingFailed(destination: destination, reason: writing.messageText)
        }
        return Array(bytes.prefix(size))
    }
}
