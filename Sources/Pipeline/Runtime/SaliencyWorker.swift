import Engine
import Foundation
import Logging
import Synchronization

/// One compute thread: takes batches from the scheduler, runs forward and backward on its own
/// workspace, computes the configured maps, encodes the messages, and hands them to the
/// publisher.
final class SaliencyWorker: @unchecked Sendable {
    let index: Int
    private let bundle: ModelBundle
    private let identity: ModelIdentity
    private let configuration: PipelineConfiguration
    private let scheduler: FrameScheduler
    private let publisher: Publisher
    private let statistics: PipelineStatistics
    private let logger: Logger
    private let sourceNames: [String]
    /// Set by the pipeline when a wedged worker (a testing aid) should give up.
    let release = NSCondition()
    private var released = false
    /// Monotonic nanoseconds when the current batch was taken; 0 while waiting for one.
    let busySince = Atomic<UInt64>(0)

    init(index: Int, bundle: ModelBundle, identity: ModelIdentity, configuration: PipelineConfiguration,
         scheduler: FrameScheduler, publisher: Publisher, statistics: PipelineStatistics, logger: Logger) {
        self.index = index
        self.bundle = bundle
        self.identity = identity
        self.configuration = configuration
        self.scheduler = scheduler
        self.publisher = publisher
        self.statistics = statistics
        self.logger = logger
        sourceNames = configuration.sources.map(\.name)
    }

    private var methods: [SaliencyMethod] { configuration.output.maps }
    private var needsJacobian: Bool { methods.contains(where: \.needsJacobian) }

    func releaseWedge() {
        release.lock()
        released = true
        release.broadcast()
        release.unlock()
    }

    /// The thread's body: returns when the scheduler is closed and empty.
    func run() {
        let maxBatch = configuration.workers.maxBatch
        let workspace = Workspace(model: bundle.model, maxBatch: maxBatch,
                                  maxCotangents: needsJacobian ? bundle.model.classCount : 1, threads: configuration.workers.threads)
        var input = [Float](repeating: 0, count: maxBatch * bundle.model.inputCount)
        var batches = 0
        while true {
            busySince.store(0, ordering: .relaxed)
            let batch = scheduler.takeBatch(maxBatch: maxBatch, maxDelay: configuration.workers.maxBatchDelay)
            if batch.isEmpty { return }
            busySince.store(monotonicNanoseconds(), ordering: .relaxed)
            let started = unixNanoseconds()
            if let wedge = configuration.workers.wedgeAfterBatches, index == 0, batches >= wedge {
                logger.warning("worker \(index): wedged on purpose (testing aid)")
                release.lock()
                while !released { release.wait() }
                release.unlock()
            }
            if configuration.workers.artificialDelay > .zero {
                Thread.sleep(forTimeInterval: configuration.workers.artificialDelay.timeInterval)
            }
            let items = compute(batch, workspace: workspace, input: &input, started: started)
            let finished = unixNanoseconds()
            statistics.computed(batch: batch.count, worker: index, busyNanoseconds: finished - started)
            publisher.submit(items)
            batches += 1
        }
    }

    private func compute(_ batch: [PendingFrame], workspace: Workspace, input: inout [Float], started: UInt64) -> [Publisher.Item] {
        do {
            try run(batch, workspace: workspace, input: &input)
            let finished = unixNanoseconds()
            return batch.indices.map { mapsItem(batch[$0], frame: $0, batchSize: batch.count, workspace: workspace,
                                                 started: started, finished: finished) }
        } catch {
            // One bad frame must not cost the others: compute them one by one.
            return batch.map { frame in
                do {
                    try run([frame], workspace: workspace, input: &input)
                    return mapsItem(frame, frame: 0, batchSize: 1, workspace: workspace, started: started, finished: unixNanoseconds())
                } catch {
                    let rejection = FrameRejection(.computeFailed, "source \(frame.sourceName), seq \(frame.seq): \(error)")
                    statistics.rejected(frame.sourceName, .computeFailed)
                    logger.error("\(rejection.detail)")
                    return Publisher.Item(
                        source: frame.source, dispatchIndex: frame.dispatchIndex,
                        message: ErrorEvents.message(for: rejection, source: frame.sourceName, seq: frame.seq, msg: frame.msg,
                                                     receivedAt: frame.receivedAt, prefix: configuration.output.topicPrefix),
                        timing: nil)
                }
            }
        }
    }

    private func run(_ batch: [PendingFrame], workspace: Workspace, input: inout [Float]) throws(EngineError) {
        let frame = bundle.model.inputCount
        for (position, pending) in batch.enumerated() {
            input.withUnsafeMutableBufferPointer { buffer in
                pending.tensor.withUnsafeBufferPointer { buffer.baseAddress!.advanced(by: position * frame).update(from: $0.baseAddress!, count: frame) }
            }
        }
        try input.withUnsafeBufferPointer { (buffer) throws(EngineError) in
            try workspace.forward(UnsafeBufferPointer(rebasing: buffer[0..<(batch.count * frame)]), batch: batch.count)
        }
        try workspace.backward(needsJacobian ? .allClasses : .predictedClass)
    }

    private func mapsItem(_ pending: PendingFrame, frame: Int, batchSize: Int, workspace: Workspace,
                          started: UInt64, finished: UInt64) -> Publisher.Item {
        let classes = bundle.model.classCount
        let logits = Array(workspace.logits[(frame * classes)..<((frame + 1) * classes)])
        let predicted = workspace.predictedClass(frame: frame)
        let largest = logits.max() ?? 0
        let exponentials = logits.map { exp(Double($0 - largest)) }
        let score = exponentials[predicted] / exponentials.reduce(0, +)
        var described: [MapsHeader.Map] = []
        var payload: [[UInt8]] = []
        for method in methods {
            let map = SaliencyMaps.compute(method, workspace: workspace, frame: frame) ?? []
            let minimum = map.min() ?? 0, maximum = map.max() ?? 0
            described.append(.init(name: method.rawValue, dtype: configuration.output.encoding.dtype,
                                   width: bundle.width, height: bundle.height, min: minimum, max: maximum))
            payload.append(configuration.output.encoding.encode(map, minimum: minimum, maximum: maximum))
        }
        let queue = started > pending.receivedAt ? started - pending.receivedAt : 0
        let header = MapsHeader(
            source: pending.sourceName, seq: pending.seq, msg: pending.msg, extra: pending.extra, senderTopic: pending.senderTopic,
            model: identity, input: .init(width: bundle.width, height: bundle.height, channels: bundle.channels),
            original: .init(width: pending.originalWidth, height: pending.originalHeight, channels: pending.originalChannels,
                            format: pending.kind.rawValue),
            predicted: .init(index: predicted, label: bundle.labels[predicted], score: score), logits: logits, maps: described,
            tReceived: pending.receivedAt, tStarted: started, tFinished: finished,
            queueMs: Double(queue) / 1e6, computeMs: Double(finished - started) / 1e6, batch: batchSize, worker: index)
        return Publisher.Item(
            source: pending.source, dispatchIndex: pending.dispatchIndex,
            message: OutgoingMessage(topic: configuration.output.topicPrefix + pending.sourceName,
                                     header: HeaderEncoding.encode(header), payload: payload),
            timing: (pending.receivedAt, queue, finished - started))
    }
}

/// Builds error-event messages.
enum ErrorEvents {
    static func message(for rejection: FrameRejection, source: String, seq: UInt64, msg: JSONValue?, receivedAt: UInt64,
                        prefix: String) -> OutgoingMessage {
        let header = ErrorEventHeader(source: source, seq: seq, msg: msg, reason: rejection.reason.rawValue,
                                      detail: rejection.detail, tReceived: receivedAt)
        return OutgoingMessage(topic: "\(prefix)error/\(source)", header: HeaderEncoding.encode(header), payload: [])
    }
}
