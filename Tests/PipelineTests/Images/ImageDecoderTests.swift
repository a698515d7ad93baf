import Foundation
import Testing
@testable import Pipeline

/// Decoding the real files of `Tests/Fixtures/images` against the pixels PIL decodes from them.
@Suite struct ImageDecoderTests {
    @Test(arguments: [("photo.png", 3), ("gray.png", 1), ("rgba.png", 3), ("palette.png", 3), ("gray16.png", 1)])
    func pngDecodesExactlyAsPIL(name: String, channels: Int) throws {
        let image = try ImageFixtures.image(name)
        #expect(image.width == 64 && image.height == 48 && image.channels == channels)
        let expected = name == "gray.png" ? "photo.gray.u8" : name + ".u8"
        #expect(image == (try ImageFixtures.expected(expected, channels: channels)))
    }

    /// libjpeg-turbo 2.1 (TurboJPEG, accurate DCT) against PIL 13's bundled libjpeg-turbo: the
    /// same integer IDCT and fancy upsampling, so the pixels agree exactly.
    @Test(arguments: [("photo.jpg", 3), ("progressive.jpg", 3), ("gray.jpg", 1)])
    func jpegDecodesAsPIL(name: String, channels: Int) throws {
        let image = try ImageFixtures.image(name)
        #expect(image.width == 64 && image.height == 48 && image.channels == channels)
        let expected = try ImageFixtures.expected(name + ".u8", channels: channels)
        expectClose(image.pixels, expected.pixels, tolerance: 0, name)
    }

    @Test func bytesDataAndFileDecodeAlike() throws {
        let bytes = try ImageFixtures.bytes("photo.jpg")
        let fromBytes = try ImageDecoder.decode(bytes, source: "photo.jpg")
        #expect(try ImageDecoder.decode(Data(bytes), source: "photo.jpg") == fromBytes)
        #expect(try ImageFixtures.image("photo.jpg") == fromBytes)
    }

    @Test func formatIsSniffedFromTheSignatureNotTheName() throws {
        let png = try ImageFixtures.bytes("photo.png")
        let image = try ImageDecoder.decode(png, source: "frame 3 of source cam0.jpg")
        #expect(image == (try ImageFixtures.expected("photo.png.u8", channels: 3)))
    }
}

/// Every way decoding fails gives an ``ImageError`` that names the source and the reason.
@Suite struct ImageDecoderErrorTests {
    /// Decodes `bytes`, expecting an ``ImageError`` whose message names `source`; returns it.
    private func decodingError(_ bytes: [UInt8], source: String = "frame 17 of source cam0", maxPixels: Int = ImageDecoder.defaultMaxPixels,
                               sourceLocation: SourceLocation = #_sourceLocation) -> ImageError? {
        do {
            let image = try ImageDecoder.decode(bytes, source: source, maxPixels: maxPixels)
            Issue.record("decoded a \(image.width)×\(image.height) image, expected an error", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(error.description.hasPrefix(source + ": "), "\(error)", sourceLocation: sourceLocation)
            return error
        }
    }

    @Test func truncatedJPEGFile() throws {
        let error = #expect(throws: ImageError.self) { try ImageFixtures.image("truncated.jpg") }
        guard case let .invalid(source, format, reason)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(source.hasSuffix("truncated.jpg") && format == .jpeg)
        #expect(reason.contains("Premature end of JPEG file"))
        #expect(error?.description.contains("truncated.jpg: corrupt, truncated or unsupported JPEG") == true)
    }

    @Test func cmykJPEGIsRejected() throws {
        let error = decodingError(try ImageFixtures.bytes("cmyk.jpg"))
        #expect(error == .invalid(source: "frame 17 of source cam0", format: .jpeg, reason: "CMYK and YCCK JPEGs are not supported"))
    }

    @Test func gifIsAnUnknownFormat() throws {
        let error = decodingError(try ImageFixtures.bytes("photo.gif"))
        #expect(error == .unknownFormat(source: "frame 17 of source cam0", leadingBytes: Array("GIF87a".utf8) + [64, 0]))
        #expect(error?.description == "frame 17 of source cam0: not a JPEG or PNG image (starts with 47 49 46 38 37 61 40 00)")
    }

    @Test func emptyAndShortInputs() {
        #expect(decodingError([])?.description == "frame 17 of source cam0: no image data (0 bytes)")
        #expect(decodingError([0xFF, 0xD8])  == .unknownFormat(source: "frame 17 of source cam0", leadingBytes: [0xFF, 0xD8]))
        guard case .invalid(_, .jpeg, _)? = decodingError([0xFF, 0xD8, 0xFF]) else { Issue.record("bare JPEG signature"); return }
        guard case .invalid(_, .png, _)? = decodingError([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            Issue.record("bare PNG signature"); return
        }
    }

    @Test(arguments: ["photo.jpg", "photo.png", "gray16.png"])
    func imagesOverThePixelLimitAreRejectedFromTheHeader(name: String) throws {
        let error = decodingError(try ImageFixtures.bytes(name), maxPixels: 64 * 48 - 1)
        #expect(error == .tooLarge(source: "frame 17 of source cam0", width: 64, height: 48, maxPixels: 3071))
        #expect(error?.description == "frame 17 of source cam0: 64×48 pixels exceeds the limit of 3071 pixels")
        #expect(try ImageDecoder.decode(try ImageFixtures.bytes(name), source: name, maxPixels: 64 * 48).width == 64)
    }

    @Test func truncatedPNG() throws {
        let png = try ImageFixtures.bytes("photo.png")
        guard case let .invalid(_, format, reason)? = decodingError(Array(png.prefix(png.count / 2))) else {
            Issue.record("truncated PNG decoded"); return
        }
        #expect(format == .png && !reason.isEmpty)
    }

    @Test func pngWithACorruptDataChunkFailsItsChecksum() throws {
        var png = try ImageFixtures.bytes("photo.png")
        png[png.count / 2] ^= 0x40
        guard case let .invalid(_, format, reason)? = decodingError(png) else { Issue.record("corrupt PNG decoded"); return }
        #expect(format == .png)
        #expect(reason.contains("CRC"), "\(reason)")
    }

    @Test func missingFileIsUnreadable() {
        let url = ImageFixtures.url("no-such-image.png")
        let error = #expect(throws: ImageError.self) { try ImageDecoder.decode(contentsOf: url) }
        guard case let .unreadable(source, _)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(source == url.path)
    }
}
