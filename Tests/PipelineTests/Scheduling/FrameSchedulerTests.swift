import Foundation
@testable import Pipeline
import Testing

/// The bounded queues' policies and the workers' batching (logic; no sockets, no model).
@Suite struct FrameSchedulerTests {
    static func frame(_ source: Int, _ seq: UInt64) -> PendingFrame {
        PendingFrame(source: source, sourceName: "s\(source)", seq: seq, tensor: [], msg: .null, extra: [:], senderTopic: nil,
                     kind: .uint8Array, originalWidth: 1, originalHeight: 1, originalChannels: 1, receivedAt: 0)
    }

    @Test func latestDropsTheOldestAndKeepsTheNewest() {
        let scheduler = FrameScheduler(queues: [(capacity: 3, policy: .latest)])
        var dropped: [UInt64] = []
        for seq in 0..<10 as Range<UInt64> {
            if case let .acceptedDroppingOldest(old) = scheduler.offer(Self.frame(0, seq)) { dropped.append(old.seq) }
            #expect(scheduler.depth(source: 0) <= 3)
        }
        #expect(dropped == Array(0..<7))
        #expect(scheduler.takeBatch(maxBatch: 8).map(\.seq) == [7, 8, 9])
    }

    @Test func dropNewRefusesWhenFull() {
        let scheduler = FrameScheduler(queues: [(capacity: 2, policy: .dropNew)])
        let outcomes = (0..<4 as Range<UInt64>).map { scheduler.offer(Self.frame(0, $0)) }
        #expect(outcomes.map { if case .refused = $0 { true } else { false } } == [false, false, true, true])
        #expect(scheduler.takeBatch(maxBatch: 8).map(\.seq) == [0, 1])
    }

    @Test func blockWaitsForRoomUntilAWorkerTakes() async throws {
        let scheduler = FrameScheduler(queues: [(capacity: 1, policy: .block)])
        #expect(scheduler.waitForRoom(source: 0, timeout: .milliseconds(10)))
        _ = scheduler.offer(Self.frame(0, 0))
        #expect(!scheduler.waitForRoom(source: 0, timeout: .milliseconds(30)), "full: no room within the timeout")
        let taker = DedicatedThread(name: "taker") {
            Thread.sleep(forTimeInterval: 0.05)
            _ = scheduler.takeBatch(maxBatch: 1)
        }
        #expect(scheduler.waitForRoom(source: 0, timeout: .seconds(5)), "room once the worker took the frame")
        taker.join()
    }

    @Test func batchesAreRoundRobinOverSourcesAndNumberedPerSource() {
        let scheduler = FrameScheduler(queues: [(8, .block), (8, .block), (8, .block)])
        for seq in 0..<6 as Range<UInt64> { _ = scheduler.offer(Self.frame(0, seq)) }
        for seq in 0..<2 as Range<UInt64> { _ = scheduler.offer(Self.frame(1, seq)) }
        for seq in 0..<1 as Range<UInt64> { _ = scheduler.offer(Self.frame(2, seq)) }
        let first = scheduler.takeBatch(maxBatch: 4)
        #expect(first.map(\.source) == [0, 1, 2, 0])
        let second = scheduler.takeBatch(maxBatch: 4)
        #expect(second.map(\.source) == [1, 0, 0, 0])
        #expect((first + second).filter { $0.source == 0 }.map(\.dispatchIndex) == [0, 1, 2, 3, 4])
        #expect((first + second).filter { $0.source == 0 }.map(\.seq) == [0, 1, 2, 3, 4], "FIFO within a source")
        #expect(scheduler.totalDepth == 1)
    }

    @Test func maxBatchDelayWaitsForMoreFrames() {
        let scheduler = FrameScheduler(queues: [(8, .block)])
        _ = scheduler.offer(Self.frame(0, 0))
        let feeder = DedicatedThread(name: "feeder") {
            Thread.sleep(forTimeInterval: 0.02)
            _ = scheduler.offer(Self.frame(0, 1))
        }
        let batch = scheduler.takeBatch(maxBatch: 2, maxDelay: .seconds(5))
        feeder.join()
        #expect(batch.map(\.seq) == [0, 1])
        _ = scheduler.offer(Self.frame(0, 2))
        #expect(scheduler.takeBatch(maxBatch: 2).map(\.seq) == [2], "without a delay a worker takes what is there")
    }

    @Test func closeLetsWorkersDrainThenEnds() {
        let scheduler = FrameScheduler(queues: [(4, .block)])
        _ = scheduler.offer(Self.frame(0, 0))
        scheduler.close()
        if case .closed = scheduler.offer(Self.frame(0, 1)) {} else { Issue.record("a closed scheduler must refuse frames") }
        #expect(scheduler.takeBatch(maxBatch: 4).map(\.seq) == [0])
        #expect(scheduler.takeBatch(maxBatch: 4).isEmpty)
    }
}
