import Foundation

/// The bounded queues between the sources and the workers: one FIFO per source, each with its
/// capacity and ``BackpressurePolicy``, and the batching of waiting frames for the workers,
/// round robin over the sources.
///
/// Thread-safe: sources call ``offer(_:)`` / ``waitForRoom(source:timeout:)`` from their ingest
/// threads, workers call ``takeBatch(maxBatch:maxDelay:)`` from theirs. One lock and one
/// condition guard everything; the queues are small.
public final class FrameScheduler: @unchecked Sendable {
    /// What ``offer(_:)`` did with a frame.
    public enum OfferOutcome: Sendable {
        /// Queued.
        case accepted
        /// Queued; the queue was full (`latest`) and its oldest frame was dropped to make room.
        case acceptedDroppingOldest(PendingFrame)
        /// Not queued: the queue was full (`drop-new`, or `block` called without room).
        case refused
        /// Not queued: the scheduler is closed (shutting down).
        case closed
    }

    private struct SourceQueue {
        var capacity: Int
        var policy: BackpressurePolicy
        var frames: [PendingFrame] = []
        var head = 0
        var nextDispatch: UInt64 = 0
        var count: Int { frames.count - head }

        mutating func popFirst() -> PendingFrame {
            let frame = frames[head]
            head += 1
            if head > 64 && head * 2 > frames.count {
                frames.removeFirst(head)
                head = 0
            }
            return frame
        }
    }

    private let condition = NSCondition()
    private var queues: [SourceQueue]
    private var cursor = 0
    private var closed = false
    private var waiting = 0

    /// One queue per source: `(capacity, policy)`, capacity at least 1.
    public init(queues: [(capacity: Int, policy: BackpressurePolicy)]) {
        precondition(queues.allSatisfy { $0.capacity >= 1 }, "a queue holds at least one frame")
        self.queues = queues.map { SourceQueue(capacity: $0.capacity, policy: $0.policy) }
    }

    /// Queues `frame` on its source's queue, applying the source's policy when the queue is full.
    public func offer(_ frame: PendingFrame) -> OfferOutcome {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return .closed }
        var outcome = OfferOutcome.accepted
        if queues[frame.source].count >= queues[frame.source].capacity {
            switch queues[frame.source].policy {
            case .latest: outcome = .acceptedDroppingOldest(queues[frame.source].popFirst())
            case .dropNew, .block: return .refused
            }
        }
        queues[frame.source].frames.append(frame)
        waiting += 1
        if case .acceptedDroppingOldest = outcome { waiting -= 1 }
        condition.broadcast()
        return outcome
    }

    /// Waits until `source`'s queue has room (true), or `timeout` passes or the scheduler closes
    /// (false). A `block` source calls this before reading its socket.
    public func waitForRoom(source: Int, timeout: Duration) -> Bool {
        let deadline = Date().addingTimeInterval(timeout.timeInterval)
        condition.lock()
        defer { condition.unlock() }
        while !closed && queues[source].count >= queues[source].capacity {
            if !condition.wait(until: deadline) { break }
        }
        return !closed && queues[source].count < queues[source].capacity
    }

    /// Takes up to `maxBatch` frames, one from each non-empty source in turn (round robin, so a
    /// busy source cannot starve a quiet one). Waits for the first frame; then, while fewer than
    /// `maxBatch` are waiting, up to `maxDelay` more for others. Returns an empty array only when
    /// the scheduler is closed and every queue is empty.
    public func takeBatch(maxBatch: Int, maxDelay: Duration = .zero) -> [PendingFrame] {
        condition.lock()
        defer { condition.unlock() }
        while waiting == 0 && !closed { condition.wait() }
        if waiting == 0 { return [] }
        if maxDelay > .zero && waiting < maxBatch && !closed {
            let deadline = Date().addingTimeInterval(maxDelay.timeInterval)
            while waiting < maxBatch && !closed {
                if !condition.wait(until: deadline) { break }
            }
        }
        var batch: [PendingFrame] = []
        batch.reserveCapacity(min(maxBatch, waiting))
        while batch.count < maxBatch && waiting > 0 {
            let source = cursor
            cursor = (cursor + 1) % queues.count
            guard queues[source].count > 0 else { continue }
            var frame = queues[source].popFirst()
            frame.dispatchIndex = queues[source].nextDispatch
            queues[source].nextDispatch += 1
            waiting -= 1
            batch.append(frame)
        }
        condition.broadcast()
        return batch
    }

    /// Stops accepting frames; workers still take what is queued, then get empty batches.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Removes and returns every queued frame (a drain that ran out of time).
    public func removeAll() -> [PendingFrame] {
        condition.lock()
        defer { condition.unlock() }
        var removed: [PendingFrame] = []
        for index in queues.indices {
            while queues[index].count > 0 { removed.append(queues[index].popFirst()) }
        }
        waiting = 0
        condition.broadcast()
        return removed
    }

    /// Frames waiting in `source`'s queue.
    public func depth(source: Int) -> Int {
        condition.lock()
        defer { condition.unlock() }
        return queues[source].count
    }

    /// Frames waiting in all queues.
    public var totalDepth: Int {
        condition.lock()
        defer { condition.unlock() }
        return waiting
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) * 1e-18
    }
}
