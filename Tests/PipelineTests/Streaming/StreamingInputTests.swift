import Engine
import Foundation
@testable import Pipeline
import Testing

/// Every input format over real sockets, and what comes out: headers, maps equal to the engine's
/// own, bad input answered and counted while good frames keep flowing.
@Suite(.serialized) struct StreamingInputTests {
    static let methods: [SaliencyMethod] = [.vanilla, .positive, .negative, .active, .inactive, .signed]

    @Test func everyInputFormatOverREPGivesTheEnginesMaps() throws {
        let harness = try StreamingHarness(
            sources: [SourceConfiguration(name: "hub", endpoints: ["tcp://127.0.0.1:*"], socketType: .rep)],
            output: OutputConfiguration(endpoint: "tcp://127.0.0.1:*", maps: Self.methods))
        let sender = try harness.sender(.req, to: "hub")
        let grey = StreamingHarness.samples.image(0)
        // A coloured frame: swapping red and blue changes its grey value, so a wrong channel order shows.
        let rgb = Image(width: 28, height: 28, channels: 3, pixels: grey.pixels.enumerated().flatMap { index, value in
            [value, UInt8(index % 256), 255 - value]
        })
        let bgr = rgb.swappingRedAndBlue()
        let floats = grey.pixels.map { Float($0) / 255 }
        let png = try StreamingHarness.samplePNG(1)
        let jpeg = Array(try Data(contentsOf: ImageFixtures.url("photo.jpg")))
        let bundle = StreamingHarness.bundle
        // (message, the tensor the engine should see)
        let cases: [([[UInt8]], [Float])] = [
            (ImageMessages.array(msg: .string("grey"), image: grey, extra: ["id": .integer(1)]), FramePreparation.tensor(grey, for: bundle)),
            (ImageMessages.array(msg: .string("bgr"), image: bgr), FramePreparation.tensor(rgb, for: bundle)),
            (ImageMessages.floatArray(msg: .string("float"), width: 28, height: 28, channels: 1, values: floats),
             FramePreparation.tensor(FloatImage(width: 28, height: 28, channels: 1, pixels: floats.map { $0 * 255 }), for: bundle)),
            (ImageMessages.compressed(msg: .string("png"), bytes: png), FramePreparation.tensor(try ImageDecoder.decode(png, source: "png"), for: bundle)),
            (ImageMessages.compressed(msg: .string("jpeg"), bytes: jpeg, topic: "camera/7"),
             FramePreparation.tensor(try ImageDecoder.decode(jpeg, source: "jpeg"), for: bundle)),
        ]
        for (frames, _) in cases {
            try sender.send(frames)
            let reply = try #require(try sender.receive())
            #expect(reply == [Array("OK".utf8)])
        }
        let messages = try harness.collect(cases.count).compactMap(\.maps)
        try #require(messages.count == cases.count)
        for (index, (message, (_, tensor))) in zip(messages, cases).enumerated() {
            let header = message.header
            #expect(message.topic == "saliency/hub")
            #expect(header.schema == "saliencyd.maps/1" && header.source == "hub" && header.seq == UInt64(index))
            #expect(header.model == harness.pipeline.identity && header.model.sha256.count == 16)
            #expect(header.input == .init(width: 28, height: 28, channels: 1))
            #expect(header.maps.map(\.name) == Self.methods.map(\.rawValue))
            #expect(header.maps.allSatisfy { $0.dtype == "float32" && $0.width == 28 && $0.height == 28 })
            #expect(header.logits.count == 10 && header.predicted.label == bundle.labels[header.predicted.index])
            #expect(header.tReceived <= header.tStarted && header.tStarted <= header.tFinished)
            #expect(header.batch >= 1 && header.queueMs >= 0 && header.computeMs > 0)
            let reference = try StreamingHarness.referenceMaps(tensor, methods: Self.methods)
            #expect(header.predicted.index == reference.predicted)
            for (name, (map, expected)) in zip(Self.methods, zip(message.maps, reference.maps)) {
                expectMapsClose(map, expected, "\(header.msg) \(name)")
                let described = header.maps.first { $0.name == name.rawValue }!
                #expect(described.max == map.max() && described.min == map.min(), "the header's range is the map's own")
            }
        }
        #expect(messages[0].header.extra == ["id": .integer(1)], "the sender's extra keys are carried through")
        #expect(messages[1].header.original == .init(width: 28, height: 28, channels: 3, format: "uint8"))
        #expect(messages[2].header.original.format == "float32")
        #expect(messages[3].header.original.format == "png")
        #expect(messages[4].header.original == .init(width: 64, height: 48, channels: 3, format: "jpeg"))
        #expect(messages[4].header.senderTopic == "camera/7")
        harness.settle()
        let counters = harness.pipeline.statistics.snapshot().sources["hub"]!
        #expect(counters.received == 5 && counters.published == 5 && counters.inFlight == 0)
    }

    @Test func badInputIsAnsweredCountedAndAnnouncedWhileGoodFramesFlow() throws {
        let harness = try StreamingHarness(
            sources: [SourceConfiguration(name: "hub", endpoints: ["tcp://127.0.0.1:*"], socketType: .rep)],
            limits: IngestLimits(maxWidth: 100, maxHeight: 100, maxPayloadBytes: 50_000))
        let sender = try harness.sender(.req, to: "hub")
        let good = ImageMessages.array(msg: .string("good"), image: StreamingHarness.samples.image(2))
        let truncated = Array(try Data(contentsOf: ImageFixtures.url("truncated.jpg")))
        let bad: [([[UInt8]], RejectionReason)] = [
            ([Array("{not json".utf8), [1, 2, 3]], .headerNotJSON),
            ([Array(#"{"dtype": "uint8", "shape": [2, 2]}"#.utf8), [1, 2, 3, 4]], .headerMissingKey),
            ([Array(#"{"msg": "m", "dtype": "uint8", "shape": [28, 28]}"#.utf8), [1, 2, 3]], .sizeMismatch),
            (ImageMessages.compressed(msg: .string("broken"), bytes: truncated), .corruptImage),
            ([Array(#"{"msg": "big", "dtype": "uint8", "shape": [101, 2]}"#.utf8), Array(repeating: 0, count: 202)], .tooLarge),
            ([Array(#"{"msg": "huge"}"#.utf8), Array(repeating: 0, count: 60_000)], .payloadTooLarge),
            ([Array(#"{"msg": "one frame"}"#.utf8)], .frameCount),
            ([Array("a".utf8), Array("b".utf8), Array("c".utf8), Array("d".utf8)], .frameCount),
        ]
        var expected: [(String, RejectionReason?)] = []
        for (frames, reason) in bad {
            try sender.send(good)
            #expect(try sender.receive() == [Array("OK".utf8)])
            expected.append(("maps", nil))
            try sender.send(frames)
            let reply = String(decoding: try #require(try sender.receive())[0], as: UTF8.self)
            #expect(reply.hasPrefix("ERROR \(reason.rawValue): source hub, seq "), "reply: \(reply)")
            expected.append(("error", reason))
        }
        try sender.send(good)
        #expect(try sender.receive() == [Array("OK".utf8)])
        expected.append(("maps", nil))
        let received = try harness.collect(expected.count)
        #expect(received.count == expected.count)
        // Error events go out at once, maps after computing: compare per kind, in order.
        let events = received.compactMap(\.error)
        #expect(events.map(\.reason) == bad.map(\.1.rawValue))
        #expect(events.allSatisfy { $0.schema == "saliencyd.error/1" && $0.source == "hub" })
        #expect(events.map(\.seq) == bad.indices.map { UInt64(2 * $0 + 1) })
        #expect(events[2].msg == .string("m") && events[2].detail.contains("need 784"))
        let maps = received.compactMap(\.maps)
        #expect(maps.count == bad.count + 1 && maps.map(\.header.seq) == (0...bad.count).map { UInt64(2 * $0) })
        harness.settle()
        let counters = harness.pipeline.statistics.snapshot().sources["hub"]!
        #expect(counters.received == UInt64(2 * bad.count + 1) && counters.published == UInt64(bad.count + 1))
        #expect(counters.rejected == [.headerNotJSON: 1, .headerMissingKey: 1, .sizeMismatch: 1, .corruptImage: 1,
                                      .tooLarge: 1, .payloadTooLarge: 1, .frameCount: 2])
    }

    @Test func garbageFromAPullSenderDoesNotStallTheSource() throws {
        let harness = try StreamingHarness(sources: [SourceConfiguration(name: "feed", endpoints: ["tcp://127.0.0.1:*"], socketType: .pull)])
        let sender = try harness.sender(.push, to: "feed")
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            let garbage = (0..<Int.random(in: 1...4, using: &generator)).map { _ in
                (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }
            try sender.send(garbage)
            try sender.send(ImageMessages.array(msg: .integer(Int64(round)), image: StreamingHarness.samples.image(round % 10)))
        }
        let received = try harness.collect(40)
        #expect(received.compactMap(\.maps).map(\.header.msg) == (0..<20).map { .integer(Int64($0)) })
        #expect(received.compactMap(\.error).count == 20)
        harness.settle()
        let counters = harness.pipeline.statistics.snapshot().sources["feed"]!
        #expect(counters.received == 40 && counters.published == 20 && counters.rejectedTotal == 20)
    }
}
