import Engine
import Testing
@testable import Pipeline

/// Garbage never crashes the decoders: it decodes, or fails with an ``ImageError`` naming the
/// source.
@Suite struct ImageDecoderFuzzTests {
    private static let source = "fuzz"

    /// Decodes `bytes`; a failure must name the source. Returns whether it decoded.
    @discardableResult
    private func decodeOrFail(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Image? {
        do {
            return try ImageDecoder.decode(bytes, source: Self.source)
        } catch {
            #expect(error.description.hasPrefix("fuzz: "), sourceLocation: sourceLocation)
            return nil
        }
    }

    @Test(arguments: ["photo.jpg", "progressive.jpg", "gray.jpg", "photo.png", "rgba.png", "palette.png", "gray16.png"])
    func everyTruncationFails(name: String) throws {
        let bytes = try ImageFixtures.bytes(name)
        let complete = try ImageDecoder.decode(bytes, source: name)
        for length in 0..<bytes.count {
            // A PNG cut inside its final IEND chunk still holds every pixel; libpng does not read it.
            if let image = decodeOrFail(Array(bytes.prefix(length))) {
                #expect(name.hasSuffix(".png") && length >= bytes.count - 12 && image == complete,
                        "\(name) cut to \(length) of \(bytes.count) bytes decoded")
            }
        }
    }

    @Test(arguments: ["photo.jpg", "progressive.jpg", "photo.png", "palette.png"])
    func flippedBytesNeverCrash(name: String) throws {
        let bytes = try ImageFixtures.bytes(name)
        for position in bytes.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var corrupt = bytes
                corrupt[position] ^= mask
                decodeOrFail(corrupt)
            }
        }
    }

    @Test func randomBytesNeverCrash() {
        var random = SeededGenerator(seed: 17)
        let signatures: [[UInt8]] = [[], [0xFF, 0xD8, 0xFF], [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]]
        for trial in 0..<3000 {
            let count = Int.random(in: 0...2048, using: &random)
            let noise = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            decodeOrFail(signatures[trial % 3] + noise)
        }
    }

    /// Real headers followed by noise reach deep into both decoders.
    @Test(arguments: ["photo.jpg", "photo.png"])
    func realHeadersWithRandomBodiesNeverCrash(name: String) throws {
        let bytes = try ImageFixtures.bytes(name)
        var random = SeededGenerator(seed: 29)
        for _ in 0..<1000 {
            let kept = Int.random(in: 8..<bytes.count, using: &random)
            let noise = (0..<Int.random(in: 0...512, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            decodeOrFail(Array(bytes.prefix(kept)) + noise)
        }
    }
}
