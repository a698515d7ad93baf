import Engine
import Foundation
@testable import Pipeline
import Testing

/// The imagezmq message formats, accepted and rejected (logic only; the sockets are tested in
/// Streaming/).
@Suite struct ImageMessageParserTests {
    let parser = ImageMessageParser()

    static func header(_ json: String) -> [UInt8] { Array(json.utf8) }

    @Test func readsAGreyUInt8Array() throws {
        let frame = try parser.parse([Self.header(#"{"msg": "cam0", "dtype": "uint8", "shape": [2, 3], "id": 42}"#), [0, 1, 2, 3, 4, 255]],
                                     label: "t")
        guard case let .bytes(image) = frame.pixels else { Issue.record("expected bytes"); return }
        #expect(image.width == 3 && image.height == 2 && image.channels == 1)
        #expect(image.pixels == [0, 1, 2, 3, 4, 255])
        #expect(frame.msg == .string("cam0"))
        #expect(frame.extra == ["id": .integer(42)])
        #expect(frame.kind == .uint8Array && frame.topic == nil && !frame.isBGR)
    }

    @Test func threeChannelArraysAreBGRByDefaultAndRGBWhenConfigured() throws {
        let frames = [Self.header(#"{"msg": "x", "dtype": "uint8", "shape": [1, 2, 3]}"#), [1, 2, 3, 4, 5, 6]]
        #expect(try parser.parse(frames, label: "t").isBGR)
        #expect(try !ImageMessageParser(rawChannelOrder: .rgb).parse(frames, label: "t").isBGR)
        let single = try parser.parse([Self.header(#"{"msg": "x", "dtype": "uint8", "shape": [1, 2, 1]}"#), [1, 2]], label: "t")
        #expect(!single.isBGR && single.pixels.channels == 1)
    }

    @Test func readsFloat32ArraysScaledTo255() throws {
        let values: [Float] = [0, 0.5, 1, 0.25]
        let frames = ImageMessages.floatArray(msg: .string("f"), width: 2, height: 2, channels: 1, values: values)
        let frame = try parser.parse(frames, label: "t")
        guard case let .floats(image) = frame.pixels else { Issue.record("expected floats"); return }
        #expect(image.pixels == [0, 127.5, 255, 63.75])
        #expect(frame.kind == .float32Array)
    }

    @Test func readsJPEGAndPNGBySignatureBehindATopicFrame() throws {
        let png = try Data(contentsOf: ImageFixtures.url("gray.png"))
        let frame = try parser.parse([Array("cam/1".utf8), Self.header(#"{"msg": "p"}"#), Array(png)], label: "t")
        #expect(frame.kind == .png && frame.topic == "cam/1")
        let jpeg = try Data(contentsOf: ImageFixtures.url("photo.jpg"))
        let decoded = try parser.parse([Self.header(#"{"msg": "j"}"#), Array(jpeg)], label: "t")
        #expect(decoded.kind == .jpeg && decoded.pixels.channels == 3 && !decoded.isBGR)
    }

    /// Every way a message can be bad, with the reason it is counted under and words from the
    /// detail that say what was wrong.
    @Test(arguments: [
        ([[UInt8]]([Array(#"{"msg": "x"}"#.utf8)]), RejectionReason.frameCount, "1 frame(s)"),
        ([[1], [2], [3], [4]], .frameCount, "4 frame(s)"),
        ([Array("not json".utf8), [1]], .headerNotJSON, "not JSON"),
        ([Array("[1, 2]".utf8), [1]], .headerNotJSON, "not an object"),
        ([Array(#"{"dtype": "uint8", "shape": [1, 1]}"#.utf8), [1]], .headerMissingKey, "no \"msg\""),
        ([Array(#"{"msg": "x", "shape": [1, 1]}"#.utf8), [1]], .headerMissingKey, "no \"dtype\""),
        ([Array(#"{"msg": "x", "dtype": "uint8"}"#.utf8), [1]], .headerMissingKey, "no \"shape\""),
        ([Array(#"{"msg": "x", "dtype": "int16", "shape": [1, 1]}"#.utf8), [1, 1]], .headerInvalid, "int16"),
        ([Array(#"{"msg": "x", "dtype": "uint8", "shape": [2]}"#.utf8), [1, 1]], .headerInvalid, "[H, W]"),
        ([Array(#"{"msg": "x", "dtype": "uint8", "shape": [1, 1, 4]}"#.utf8), [1, 1, 1, 1]], .headerInvalid, "C = 1 or 3"),
        ([Array(#"{"msg": "x", "dtype": "uint8", "shape": [0, 5]}"#.utf8), []], .headerInvalid, "H, W ≥ 1"),
        ([Array(#"{"msg": "x", "dtype": "uint8", "shape": [2, 2]}"#.utf8), [1, 2, 3]], .sizeMismatch, "3 payload bytes"),
        ([Array(#"{"msg": "x", "dtype": "uint8", "shape": [9000, 2]}"#.utf8), [1]], .tooLarge, "2×9000"),
        ([Array(#"{"msg": "x"}"#.utf8), [0xFF, 0xD8, 0xFF, 0xE0, 0, 0]], .corruptImage, "JPEG"),
        ([Array(#"{"msg": "x"}"#.utf8), Array("garbage".utf8)], .corruptImage, "not a JPEG or PNG"),
    ] as [([[UInt8]], RejectionReason, String)])
    func rejectsBadMessages(frames: [[UInt8]], reason: RejectionReason, words: String) {
        do {
            _ = try parser.parse(frames, label: "source cam0, seq 7")
            Issue.record("accepted a bad message; expected \(reason)")
        } catch {
            #expect(error.reason == reason)
            #expect(error.detail.contains(words), "detail: \(error.detail)")
            #expect(error.detail.contains("source cam0, seq 7"), "the detail names the message: \(error.detail)")
        }
    }

    @Test func rejectsNonFiniteFloatsAndOversizedPayloads() {
        let nan = ImageMessages.floatArray(msg: .null, width: 2, height: 1, channels: 1, values: [0.5, .nan])
        #expect(throws: FrameRejection.self) { try parser.parse(nan, label: "t") }
        do { _ = try parser.parse(nan, label: "t") } catch { #expect(error.reason == .nonFinite && error.detail.contains("element 1")) }
        let small = ImageMessageParser(limits: IngestLimits(maxPayloadBytes: 100))
        let big = ImageMessages.array(msg: .null, image: Image(width: 20, height: 20, channels: 1, pixels: Array(repeating: 0, count: 400)))
        do { _ = try small.parse(big, label: "t"); Issue.record("accepted") } catch { #expect(error.reason == .payloadTooLarge) }
    }

    @Test func rejectsDecodedImagesOverTheDimensionLimit() throws {
        let png = try Data(contentsOf: ImageFixtures.url("gray.png"))
        let limited = ImageMessageParser(limits: IngestLimits(maxWidth: 4, maxHeight: 4))
        do { _ = try limited.parse([Self.header(#"{"msg": 1}"#), Array(png)], label: "t"); Issue.record("accepted") } catch {
            #expect(error.reason == .tooLarge)
        }
    }
}
