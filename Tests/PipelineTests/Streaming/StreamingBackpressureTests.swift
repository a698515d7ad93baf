import Engine
import Foundation
@testable import Pipeline
import Testing

/// Backpressure policies, ordering, fairness and batching over real sockets, with deliberately
/// slow workers.
@Suite(.serialized) struct StreamingBackpressureTests {
    static func frame(_ index: Int) -> [[UInt8]] {
        ImageMessages.array(msg: .integer(Int64(index)), image: StreamingHarness.samples.image(index % 10), extra: ["index": .integer(Int64(index))])
    }

    /// Resident memory of this process, from /proc/self/statm.
    static func residentBytes() -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? "0 0"
        return (Int(text.split(separator: " ")[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func repUnderBlockLosesNothingAndKeepsOrder() throws {
        let harness = try StreamingHarness(
            sources: [SourceConfiguration(name: "hub", endpoints: ["tcp://127.0.0.1:*"], socketType: .rep, queueCapacity: 2)],
            workers: WorkerConfiguration(count: 2, maxBatch: 2, artificialDelay: .milliseconds(15)))
        let sender = try harness.sender(.req, to: "hub")
        let count = 30
        for index in 0..<count {
            try sender.send(Self.frame(index))
            #expect(try sender.receive() == [Array("OK".utf8)])
        }
        let messages = try harness.collect(count).compactMap(\.maps)
        #expect(messages.map(\.header.seq) == (0..<UInt64(count)).map { $0 })
        #expect(messages.map(\.header.msg) == (0..<count).map { .integer(Int64($0)) })
        #expect(Set(messages.map(\.header.worker)) == [0, 1], "both workers computed")
        harness.settle()
        let counters = harness.pipeline.statistics.snapshot().sources["hub"]!
        #expect(counters.received == UInt64(count) && counters.published == UInt64(count) && counters.droppedTotal == 0)
    }

    @Test func pullUnderBlockOverIPCPushesBackOnTheSenderAndLosesNothing() throws {
        let path = "ipc://\(FileManager.default.temporaryDirectory.path)/saliencyd-test-\(UUID().uuidString.prefix(8)).ipc"
        let harness = try StreamingHarness(
            sources: [SourceConfiguration(name: "replay", endpoints: [path], socketType: .pull, queueCapacity: 2, receiveHighWaterMark: 2)],
            workers: WorkerConfiguration(count: 1, maxBatch: 2, artificialDelay: .milliseconds(10)))
        let sender = try ZeroMQSocket(harness.context, type: .push)
        try sender.setSendHighWaterMark(2)
        try sender.setSendTimeout(milliseconds: 0)
        try sender.connect(path)
        let count = 60
        var wouldBlock = 0
        var index = 0
        let deadline = Date().addingTimeInterval(60)
        while index < count && Date() < deadline {
            if try sender.send(Self.frame(index)) { index += 1 } else { wouldBlock += 1; Thread.sleep(forTimeInterval: 0.002) }
        }
        #expect(index == count)
        #expect(wouldBlock > 0, "the full queue must push back on the PUSH sender through the high-water marks")
        let messages = try harness.collect(count).compactMap(\.maps)
        #expect(messages.map(\.header.msg) == (0..<count).map { .integer(Int64($0)) })
        harness.settle()
        let counters = harness.pipeline.statistics.snapshot().sources["replay"]!
        #expect(counters.received == UInt64(count) && counters.published == UInt64(count) && counters.droppedTotal == 0)
    }

    @Test func latestUnderTenfoldOverloadStaysBoundedAndComputesTheNewest() throws {
        let context = ZeroMQContext()
        let camera = try ZeroMQSocket(context, type: .pub)
        try camera.bind("tcp://127.0.0.1:*")
        let capacity = 2
        let harness = try StreamingHarness(
            sources: [SourceConfiguration(name: "camera", endpoints: [camera.lastEndpoint], socketType: .sub, queueCapacity: capacity)],
            workers: WorkerConfiguration(count: 1, maxBatch: 1, artificialDelay: .milliseconds(20)))
        // One worker takes ≥ 20 ms a frame (≤ 50 frames/s); the camera sends 500 frames/s.
        let count = 600
        var maxDepth = 0
        var residentAfterWarmUp = 0
        let start = Date()
        for index in 0..<count {
            let due = start.addingTimeInterval(Double(index) / 500)
            if due.timeIntervalSinceNow > 0 { Thread.sleep(forTimeInterval: due.timeIntervalSinceNow) }
            try camera.send(Self.frame(index))
            maxDepth = max(maxDepth, harness.pipeline.queueDepths["camera"]!)
            if index == 100 { residentAfterWarmUp = Self.residentBytes() }
        }
        let residentAtEnd = Self.residentBytes()
        harness.settle()
        let messages = try harness.collect(count, timeout: .seconds(2)).compactMap(\.maps)
        let counters = harness.pipeline.statistics.snapshot().sources["camera"]!
        #expect(maxDepth <= capacity, "queue depth \(maxDepth) exceeded its capacity \(capacity)")
        #expect(counters.dropped[.queueFullOldest, default: 0] > UInt64(count / 2), "most frames must be dropped: \(counters)")
        #expect(counters.received == counters.published + counters.droppedTotal, "every frame accounted for: \(counters)")
        #expect(UInt64(messages.count) == counters.published)
        let indices = messages.compactMap { $0.header.extra["index"]?.integerValue }
        #expect(indices.last == Int64(count - 1), "the newest frame is always computed")
        #expect(indices == indices.sorted(), "published in order")
        #expect(residentAtEnd - residentAfterWarmUp < 32 << 20,
                "memory grew by \((residentAtEnd - residentAfterWarmUp) >> 20) MiB under overload")
    }

    @Test func twoBusySourcesAreServedFairly() throws {
        let harness = try StreamingHarness(
            sources: [SourceConfiguration(name: "a", endpoints: ["tcp://127.0.0.1:*"], socketType: .pull, queueCapacity: 4),
                      SourceConfiguration(name: "b", endpoints: ["tcp://127.0.0.1:*"], socketType: .pull, queueCapacity: 4)],
            workers: WorkerConfiguration(count: 1, maxBatch: 2, artificialDelay: .milliseconds(5)))
        let a = try harness.sender(.push, to: "a"), b = try harness.sender(.push, to: "b")
        // Source a floods first; b's frames arrive a little later but must not wait behind all of a's.
        for index in 0..<40 { try a.send(Self.frame(index)) }
        Thread.sleep(forTimeInterval: 0.05)
        for index in 0..<40 { try b.send(Self.frame(index)) }
        let messages = try harness.collect(80).compactMap(\.maps)
        #expect(messages.count == 80)
        let firstB = try #require(messages.firstIndex { $0.header.source == "b" })
        #expect(firstB < 20, "source b's first frame came out at position \(firstB)")
        let afterB = messages[firstB...].prefix(30)
        let share = afterB.filter { $0.header.source == "b" }.count
        #expect((12...18).contains(share), "once both are busy they alternate: b has \(share) of the next 30")
        for source in ["a", "b"] {
            #expect(messages.filter { $0.header.source == source }.map(\.header.seq) == (0..<40).map { UInt64($0) })
        }
    }

    @Test func batchedResultsEqualSingleFrameResults() throws {
        let methods: [SaliencyMethod] = [.vanilla, .positive, .negative, .active, .inactive, .signed]
        let harness = try StreamingHarness(
            sources: [SourceConfiguration(name: "replay", endpoints: ["tcp://127.0.0.1:*"], socketType: .pull, queueCapacity: 8)],
            workers: WorkerConfiguration(count: 1, maxBatch: 8, maxBatchDelay: .seconds(2)),
            output: OutputConfiguration(endpoint: "tcp://127.0.0.1:*", maps: methods))
        let sender = try harness.sender(.push, to: "replay")
        for index in 0..<8 { try sender.send(Self.frame(index)) }
        let messages = try harness.collect(8).compactMap(\.maps)
        try #require(messages.count == 8)
        #expect(messages.allSatisfy { $0.header.batch == 8 }, "batch sizes: \(messages.map(\.header.batch))")
        for (index, message) in messages.enumerated() {
            let tensor = FramePreparation.tensor(StreamingHarness.samples.image(index), for: StreamingHarness.bundle)
            let reference = try StreamingHarness.referenceMaps(tensor, methods: methods)
            #expect(message.header.predicted.index == reference.predicted)
            for (method, (map, expected)) in zip(methods, zip(message.maps, reference.maps)) {
                expectMapsClose(map, expected, "frame \(index) \(method)")
            }
        }
    }

    @Test func pushOutputAndF16AndU8Encodings() throws {
        for encoding in [MapEncoding.f16, .u8] {
            let harness = try StreamingHarness(
                sources: [SourceConfiguration(name: "s", endpoints: ["tcp://127.0.0.1:*"], socketType: .pull)],
                output: OutputConfiguration(endpoint: "tcp://127.0.0.1:*", socketType: .push, maps: [.positive, .signed], encoding: encoding))
            let sender = try harness.sender(.push, to: "s")
            try sender.send(Self.frame(3))
            let message = try #require(try harness.collect(1).first?.maps)
            let tensor = FramePreparation.tensor(StreamingHarness.samples.image(3), for: StreamingHarness.bundle)
            let reference = try StreamingHarness.referenceMaps(tensor, methods: [.positive, .signed])
            #expect(message.header.maps.map(\.dtype) == [encoding.dtype, encoding.dtype])
            for (map, expected) in zip(message.maps, reference.maps) {
                let scale = expected.map(abs).max()!
                let worst = zip(map, expected).map { abs($0 - $1) }.max()!
                // f16 keeps 11 significant bits; u8 restores within half a step of (max − min)/255.
                let bound = encoding == .f16 ? scale * 1e-3 : (expected.max()! - expected.min()!) / 255 / 2 * 1.001
                #expect(worst <= bound, "\(encoding): \(worst) > \(bound)")
            }
        }
    }

    @Test func stopPublishesEveryAcceptedFrame() throws {
        let harness = try StreamingHarness(
            sources: [SourceConfiguration(name: "hub", endpoints: ["tcp://127.0.0.1:*"], socketType: .rep, queueCapacity: 4)],
            workers: WorkerConfiguration(count: 1, maxBatch: 1, artificialDelay: .milliseconds(40)))
        let sender = try harness.sender(.req, to: "hub")
        for index in 0..<6 {
            try sender.send(Self.frame(index))
            #expect(try sender.receive() == [Array("OK".utf8)])
        }
        let report = harness.pipeline.stop(drainTimeout: .seconds(20))
        #expect(report.completed && report.abandoned == 0)
        let messages = try harness.collect(6, timeout: .seconds(5)).compactMap(\.maps)
        #expect(messages.map(\.header.seq) == (0..<6).map { UInt64($0) })
        let counters = harness.pipeline.statistics.snapshot().sources["hub"]!
        #expect(counters.published == 6 && counters.inFlight == 0)
    }
}

/// A PUSH output without a consumer pushes back through the workers and queues to a `block`
/// source's sender, and nothing accepted is lost once a consumer connects.
@Suite(.serialized) struct PushOutputBackpressureTests {
    @Test func aPushOutputWithoutConsumerStopsTheSenderAndLosesNothing() throws {
        let context = ZeroMQContext()
        let pipeline = try SaliencyPipeline(
            configuration: PipelineConfiguration(
                sources: [SourceConfiguration(name: "hub", endpoints: ["tcp://127.0.0.1:*"], socketType: .rep, queueCapacity: 2)],
                workers: WorkerConfiguration(count: 1, maxBatch: 2),
                output: OutputConfiguration(endpoint: "tcp://127.0.0.1:*", socketType: .push, maps: [.positive])),
            bundle: StreamingHarness.bundle)
        try pipeline.start()
        defer { pipeline.stop(drainTimeout: .seconds(5)) }
        let sender = try ZeroMQSocket(context, type: .req)
        try sender.setReceiveTimeout(milliseconds: 1500)
        try sender.connect(pipeline.sourceEndpoints["hub"]![0])
        var accepted = 0
        var stalled = false
        for index in 0..<300 {
            try sender.send(StreamingBackpressureTests.frame(index))
            guard let reply = try sender.receive() else { stalled = true; break }
            #expect(reply == [Array("OK".utf8)])
            accepted += 1
        }
        #expect(stalled, "with nobody taking the output, the REQ sender must be held back")
        #expect(accepted < 100, "accepted \(accepted) frames with no consumer: the pipeline buffers too much")
        let consumer = try ZeroMQSocket(context, type: .pull)
        try consumer.setReceiveTimeout(milliseconds: 100)
        try consumer.connect(pipeline.outputEndpoint)
        try sender.setReceiveTimeout(milliseconds: 30_000)
        #expect(try sender.receive() == [Array("OK".utf8)], "the held-back frame is accepted once the output drains")
        accepted += 1
        var received: [MapsMessage] = []
        let deadline = Date().addingTimeInterval(60)
        while received.count < accepted && Date() < deadline {
            if let frames = try consumer.receive(), let message = try MapsMessage.parse(frames).maps { received.append(message) }
        }
        #expect(received.map(\.header.seq) == (0..<UInt64(accepted)).map { $0 })
        // The publisher counts a message right after sending it: the consumer may be faster.
        let counted = Date().addingTimeInterval(10)
        while pipeline.statistics.snapshot().sources["hub"]!.published < UInt64(accepted) && Date() < counted {
            Thread.sleep(forTimeInterval: 0.01)
        }
        let counters = pipeline.statistics.snapshot().sources["hub"]!
        #expect(counters.published == UInt64(accepted) && counters.droppedTotal == 0)
    }

    @Test func stopGivesUpOnAnUnreachablePushOutputAtTheDeadline() throws {
        let pipeline = try SaliencyPipeline(
            configuration: PipelineConfiguration(
                sources: [SourceConfiguration(name: "feed", endpoints: ["tcp://127.0.0.1:*"], socketType: .pull, policy: .latest,
                                              queueCapacity: 4)],
                workers: WorkerConfiguration(count: 1, maxBatch: 4),
                output: OutputConfiguration(endpoint: "tcp://127.0.0.1:*", socketType: .push, maps: [.positive])),
            bundle: StreamingHarness.bundle)
        try pipeline.start()
        let context = ZeroMQContext()
        let sender = try ZeroMQSocket(context, type: .push)
        try sender.connect(pipeline.sourceEndpoints["feed"]![0])
        for index in 0..<200 { try sender.send(StreamingBackpressureTests.frame(index)) }
        Thread.sleep(forTimeInterval: 1)
        let started = Date()
        let report = pipeline.stop(drainTimeout: .seconds(1))
        let took = Date().timeIntervalSince(started)
        #expect(took < 4, "stop took \(took) s with a 1 s drain timeout")
        #expect(!report.completed || report.abandoned == 0)
        let counters = pipeline.statistics.snapshot().sources["feed"]!
        #expect(counters.inFlight == 0, "every frame is accounted for after stop: \(counters)")
        #expect(counters.published == 0 && counters.dropped[.unsent, default: 0] > 0, "\(counters)")
    }
}
