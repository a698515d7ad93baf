import Foundation
import Testing
@testable import Pipeline

@Suite struct PNGEncoderTests {
    @Test(arguments: ["photo.png", "gray.png", "photo.jpg", "gray.jpg"])
    func encodeThenDecodeGivesTheSamePixels(name: String) throws {
        let image = try ImageFixtures.image(name)
        let png = try PNGEncoder.encode(image)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(try ImageDecoder.decode(png, source: name) == image)
    }

    @Test func smallAndExtremeImagesRoundTrip() throws {
        let images = [
            Image(width: 1, height: 1, channels: 1, pixels: [0]),
            Image(width: 1, height: 1, channels: 3, pixels: [255, 0, 128]),
            Image(width: 300, height: 2, channels: 3, pixels: (0..<1800).map { UInt8($0 % 256) }),
            Image(width: 2, height: 300, channels: 1, pixels: (0..<600).map { UInt8(255 - $0 % 256) }),
        ]
        for image in images {
            #expect(try ImageDecoder.decode(PNGEncoder.encode(image), source: "round trip") == image)
        }
    }

    @Test func writesAFileTheDecoderReads() throws {
        let image = try ImageFixtures.image("photo.jpg")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("saliencyd-png-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try PNGEncoder.write(image, to: url)
        #expect(try ImageDecoder.decode(contentsOf: url) == image)
    }

    @Test func unwritablePathIsNamed() throws {
        let image = Image(width: 1, height: 1, channels: 1, pixels: [9])
        let url = URL(fileURLWithPath: "/nonexistent-saliencyd-directory/map.png")
        let error = #expect(throws: ImageError.self) { try PNGEncoder.write(image, to: url) }
        guard case let .unwritable(path, _)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(path == url.path)
        #expect(error?.description.hasPrefix("/nonexistent-saliencyd-directory/map.png: cannot write the file") == true)
    }
}
