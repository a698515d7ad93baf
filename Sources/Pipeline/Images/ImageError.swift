/// A failure to read, decode, encode or write an image. Every message names the source (a file
/// path, or a caller's label such as `frame 17 of source cam0`) and the reason.
public enum ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(source: String, reason: String)
    /// The bytes start with neither the JPEG nor the PNG signature (`leadingBytes`: up to 8).
    case unknownFormat(source: String, leadingBytes: [UInt8])
    /// The header declares more pixels than the decoder accepts.
    case tooLarge(source: String, width: Int, height: Int, maxPixels: Int)
    /// The decoder rejected the data: truncated, corrupt, or a variant it cannot convert
    /// (such as a CMYK JPEG). `reason` is the library's message.
    case invalid(source: String, format: ImageFormat, reason: String)
    /// libpng could not encode the image.
    case encodingFailed(destination: String, reason: String)
    /// The encoded file could not be written.
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(source, reason):
            return "\(source): cannot read the file: \(reason)"
        case let .unknownFormat(source, leadingBytes) where leadingBytes.isEmpty:
            return "\(source): no image data (0 bytes)"
        case let .unknownFormat(source, leadingBytes):
            let hex = leadingBytes.map { String($0, radix: 16, uppercase: true) }
                .map { $0.count == 1 ? "0" + $0 : $0 }.joined(separator: " ")
            return "\(source): not a JPEG or PNG image (starts with \(hex))"
        case let .tooLarge(source, width, height, maxPixels):
            return "\(source): \(width)×\(height) pixels exceeds the limit of \(maxPixels) pixels"
        case let .invalid(source, format, reason):
            return "\(source): corrupt, truncated or unsupported \(format.rawValue): \(reason)"
        case let .encodingFailed(destination, reason):
            return "\(destination): cannot encode PNG: \(reason)"
        case let .unwritable(path, reason):
            return "\(path): cannot write the file: \(reason)"
        }
    }
}
