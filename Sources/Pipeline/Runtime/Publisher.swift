import Foundation
import Logging

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

    private let socket: ZeroMQSocket
    private let sourceNames: [String]
    private let statistics: PipelineStatistics
    private let logger: Logger
    private let reorderCapacity: Int
    private let condition = NSCondition()
    private var inbox: [Item] = []
    private var finishing = false
    private var abandonAt: Date?
    /// Set once a send gave up at the drain deadline: everything after is counted unsent at once.
    private var abandoned = false
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
        inbox.append(contentsOf: items)
        condition.broadcast()
        condition.unlock()
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
            while inbox.isEmpty && !finishing { _ = condition.wait(until: Date().addingTimeInterval(0.1)) }
            let items = inbox
            inbox.removeAll(keepingCapacity: true)
            let done = finishing
            condition.broadcast()
            condition.unlock()
            for item in items { accept(item) }
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
