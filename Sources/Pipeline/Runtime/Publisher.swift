import Foundation
import Logging
import Synchronization

/// The output stage: owns the PUB (or PUSH) socket on its own thread, puts each source's
/// results back in the order the scheduler handed the frames out, and sends them.
///
/// The reorder buffer holds at most `reorderCapacity` results per source: if the frame it waits
/// for takes longer than that many later frames (a stuck worker), it moves past it, and the
/// late frame is counted as dropped (`late`) when it finally arrives.
///
/// The inbox is bounded too (`reorderCapacity` items): when the output cannot send (a PUSH
/// without a ready peer), ``submit(_:)`` waits, so workers stop, the queues fill, and `block`
/// sources stop reading — backpressure reaches the senders instead of memory growing.
final class Publisher: @unchecked Sendable {
    struct Item: Sendable {
        var source: Int
        /// The frame's ``PendingFrame/dispatchIndex``; `nil` for an error event of a rejected
        /// message, which goes out at once.
        var dispatchIndex: UInt64?
        var message: OutgoingMessage
        /// Set for a maps message: what the statistics record when it is sent.
        var timing: (received: UInt64, queue: UInt64, compute: UInt64)?
    }

    private enum Entry {
        case item(Item)
        /// A reload's new source list: every result of the old one has been submitted before.
        case reconfigure([String])
    }

    let socket: ZeroMQSocket
    private var sourceNames: [String]
    /// Monotonic nanoseconds of the thread's last turn (at least every 100 ms unless stuck).
    let heartbeat = Atomic<UInt64>(monotonicNanoseconds())
    private let statistics: PipelineStatistics
    private let logger: Logger
    private let reorderCapacity: Int
    private let condition = NSCondition()
    private var inbox: [Entry] = []
    private var finishing = false
    private var abandonAt: Date?
    /// Set once a send gave up at the drain deadline: everything after is counted unsent at once.
    private var abandoned = false
    /// Whether the thread is working through entries it took from the inbox.
    private var handling = false
    // Owned by the publisher thread.
    private var pending: [[UInt64: Item]]
    private var next: [UInt64]

    init(socket: ZeroMQSocket, sourceNames: [String], statistics: PipelineStatistics, reorderCapacity: Int, logger: Logger) {
        self.socket = socket
        self.sourceNames = sourceNames
        self.statistics = statistics
        self.reorderCapacity = reorderCapacity
        self.logger = logger
        pending = Array(repeating: [:], count: sourceNames.count)
        next = Array(repeating: 0, count: sourceNames.count)
    }

    /// Hands results to the publisher thread; waits while its inbox is full, unless a drain has
    /// run out of time (then the items are counted unsent by the thread).
    func submit(_ items: [Item]) {
        condition.lock()
        while inbox.count >= reorderCapacity && !pastDeadline {
            _ = condition.wait(until: Date().addingTimeInterval(0.1))
        }
        inbox.append(contentsOf: items.map(Entry.item))
        condition.broadcast()
        condition.unlock()
    }

    /// Restarts the ordering for a new source list (after a reload has drained the old one).
    func reconfigure(sourceNames: [String]) {
        condition.lock()
        inbox.append(.reconfigure(sourceNames))
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until everything submitted has been sent (or given up), at most `timeout`.
    func waitUntilIdle(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !(inbox.isEmpty && !handling) {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }

    /// Whether a drain's deadline has passed (call with the lock held).
    private var pastDeadline: Bool { abandonAt.map { Date() >= $0 } ?? false }

    /// Asks the thread to send everything submitted so far and return; sends that cannot go out
    /// by `deadline` (a PUSH without a peer) are given up.
    func finish(deadline: Date) {
        condition.lock()
        finishing = true
        abandonAt = deadline
        condition.broadcast()
        condition.unlock()
    }

    /// The thread's body.
    func run() {
        while true {
            condition.lock()
            while inbox.isEmpty && !finishing {
                _ = condition.wait(until: Date().addingTimeInterval(0.1))
                heartbeat.store(monotonicNanoseconds(), ordering: .relaxed)
            }
            let entries = inbox
            inbox.removeAll(keepingCapacity: true)
            let done = finishing
            handling = true
            condition.broadcast()
            condition.unlock()
            for entry in entries {
                heartbeat.store(monotonicNanoseconds(), ordering: .relaxed)
                switch entry {
                case let .item(item): accept(item)
                case let .reconfigure(names):
                    for source in pending.indices {
                        for index in pending[source].keys.sorted() { send(pending[source].removeValue(forKey: index)!) }
                    }
                    sourceNames = names
                    pending = Array(repeating: [:], count: names.count)
                    next = Array(repeating: 0, count: names.count)
                }
            }
            condition.lock()
            handling = false
            condition.broadcast()
            condition.unlock()
            if done {
                // Whatever still waits for a frame that will never come goes out in order.
                for source in pending.indices {
                    for index in pending[source].keys.sorted() { send(pending[source].removeValue(forKey: index)!) }
                }
                condition.lock()
                let empty = inbox.isEmpty
                condition.unlock()
                if empty { break }
            }
        }
        socket.close()
    }

    private func accept(_ item: Item) {
        guard let index = item.dispatchIndex else { return send(item) }
        let source = item.source
        guard source < pending.count else {
            // From a worker of a configuration that a reload has replaced, freed after its drain.
            return unsent(item)
        }
        if index < next[source] {
            statistics.dropped(sourceNames[source], .late)
            logger.warning("source \(sourceNames[source]): a frame finished after \(reorderCapacity) later ones had been published; dropped to keep the order")
            return
        }
        pending[source][index] = item
        while let ready = pending[source].removeValue(forKey: next[source]) {
            send(ready)
            next[source] += 1
        }
        if pending[source].count > reorderCapacity, let oldest = pending[source].keys.min() {
            next[source] = oldest
            while let ready = pending[source].removeValue(forKey: next[source]) {
                send(ready)
                next[source] += 1
            }
        }
    }

    private func unsent(_ item: Item) {
        if item.timing != nil { statistics.dropped(sourceNames[item.source], .unsent) }
    }

    private func send(_ item: Item) {
        if abandoned { return unsent(item) }
        let frames = item.message.frames
        while true {
            do {
                if try socket.send(frames) { break }
            } catch {
                logger.error("output: \(error)")
                return unsent(item)
            }
            // Only a PUSH without a ready peer gets here (PUB drops instead of blocking).
            heartbeat.store(monotonicNanoseconds(), ordering: .relaxed)
            condition.lock()
            let giveUp = pastDeadline
            condition.unlock()
            if giveUp {
                logger.warning("output: no peer took the remaining messages before the drain deadline; they are counted as dropped (unsent)")
                abandoned = true
                return unsent(item)
            }
        }
        if let timing = item.timing {
            let now = unixNanoseconds()
            statistics.published(sourceNames[item.source], queue: timing.queue, compute: timing.compute,
                                 endToEnd: now > timing.received ? now - timing.received : 0)
        }
    }
}
