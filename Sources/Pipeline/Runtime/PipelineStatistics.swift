import Synchronization

/// Why an accepted frame was never computed.
public enum DropReason: String, Sendable, CaseIterable, Codable {
    /// `latest`: the queue was full and a newer frame took this one's place.
    case queueFullOldest = "queue_full_oldest"
    /// `drop-new`: the queue was full when this frame arrived.
    case queueFullNew = "queue_full_new"
    /// Still queued when a shutdown's drain timeout ran out.
    case shutdown
    /// Computed so late that the reorder buffer had moved past it (a stuck worker).
    case late
    /// The output socket could not send it (an error, or a PUSH without a peer at shutdown).
    case unsent
}

/// The pipeline's counters. Every message a source receives ends in exactly one of
/// `published`, `dropped[reason]` or `rejected[reason]`; until then it is in flight.
public final class PipelineStatistics: Sendable {
    public struct SourceCounters: Sendable, Equatable, Codable {
        public var received: UInt64 = 0
        public var published: UInt64 = 0
        public var dropped: [DropReason: UInt64] = [:]
        public var rejected: [RejectionReason: UInt64] = [:]

        public var droppedTotal: UInt64 { dropped.values.reduce(0, +) }
        public var rejectedTotal: UInt64 { rejected.values.reduce(0, +) }
        /// Received but not yet published, dropped or rejected.
        public var inFlight: UInt64 { received - published - droppedTotal - rejectedTotal }
    }

    /// A consistent copy of every counter.
    public struct Snapshot: Sendable, Equatable {
        public var sources: [String: SourceCounters]
        /// Batches computed, frames in them, and the sum of squared batch sizes.
        public var batches: UInt64
        public var computedFrames: UInt64
        /// Per worker: nanoseconds spent computing.
        public var workerBusyNanoseconds: [UInt64]
        /// Sums over published frames, in nanoseconds: waiting in the queue, computing, and from
        /// receipt to publication.
        public var queueNanoseconds: UInt64, computeNanoseconds: UInt64, endToEndNanoseconds: UInt64
        /// The last batch's size.
        public var lastBatch: Int

        public var received: UInt64 { sources.values.reduce(0) { $0 + $1.received } }
        public var published: UInt64 { sources.values.reduce(0) { $0 + $1.published } }
        public var dropped: UInt64 { sources.values.reduce(0) { $0 + $1.droppedTotal } }
        public var rejected: UInt64 { sources.values.reduce(0) { $0 + $1.rejectedTotal } }
    }

    private let state: Mutex<Snapshot>
    private let observer: (any PipelineObserver)?

    public init(sourceNames: [String], workers: Int, observer: (any PipelineObserver)? = nil) {
        self.observer = observer
        state = Mutex(Snapshot(
            sources: Dictionary(uniqueKeysWithValues: sourceNames.map { ($0, SourceCounters()) }),
            batches: 0, computedFrames: 0, workerBusyNanoseconds: Array(repeating: 0, count: workers),
            queueNanoseconds: 0, computeNanoseconds: 0, endToEndNanoseconds: 0, lastBatch: 0))
    }

    public func snapshot() -> Snapshot { state.withLock { $0 } }

    func received(_ source: String) {
        state.withLock { $0.sources[source, default: SourceCounters()].received += 1 }
        observer?.received(source: source)
    }

    func dropped(_ source: String, _ reason: DropReason, count: UInt64 = 1) {
        state.withLock { $0.sources[source, default: SourceCounters()].dropped[reason, default: 0] += count }
        for _ in 0..<count { observer?.dropped(source: source, reason: reason) }
    }

    func rejected(_ source: String, _ reason: RejectionReason) {
        state.withLock { $0.sources[source, default: SourceCounters()].rejected[reason, default: 0] += 1 }
        observer?.rejected(source: source, reason: reason)
    }

    func published(_ source: String, queue: UInt64, compute: UInt64, endToEnd: UInt64) {
        state.withLock {
            $0.sources[source, default: SourceCounters()].published += 1
            $0.queueNanoseconds += queue
            $0.computeNanoseconds += compute
            $0.endToEndNanoseconds += endToEnd
        }
        observer?.published(source: source, queueNanoseconds: queue, computeNanoseconds: compute, endToEndNanoseconds: endToEnd)
    }

    func computed(batch: Int, worker: Int, busyNanoseconds: UInt64) {
        state.withLock {
            $0.batches += 1
            $0.computedFrames += UInt64(batch)
            $0.lastBatch = batch
            if worker >= $0.workerBusyNanoseconds.count {
                $0.workerBusyNanoseconds += Array(repeating: 0, count: worker + 1 - $0.workerBusyNanoseconds.count)
            }
            $0.workerBusyNanoseconds[worker] += busyNanoseconds
        }
        observer?.computed(batch: batch, worker: worker, busyNanoseconds: busyNanoseconds)
    }
}
