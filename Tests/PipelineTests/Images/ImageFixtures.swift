import Foundation
@testable import Pipeline

/// The files of `Tests/Fixtures/images`, made by its `make_images.py`: 64×48 images and the
/// pixels PIL decodes from them (`<name>.u8`, `H×W×C` interleaved) or resizes them to.
enum ImageFixtures {
    static let width = 64, height = 48

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/images")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(name))) }

    /// Little-endian float32 samples.
    static func floats(_ name: String) throws -> [Float] {
        let bytes = try self.bytes(name)
        return stride(from: 0, to: bytes.count - 3, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }

    /// The fixture decoded by ``ImageDecoder``.
    static func image(_ name: String) throws -> Image { try ImageDecoder.decode(contentsOf: url(name)) }

    /// PIL's pixels for the 64×48 fixture (`<name>.u8` or any raw file) as an image.
    static func expected(_ name: String, channels: Int) throws -> Image {
        Image(width: width, height: height, channels: channels, pixels: try bytes(name))
    }
}
