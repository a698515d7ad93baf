import Dispatch
import Metrics
import Pipeline
import Synchronization

/// Feeds the pipeline's events into swift-metrics, backed by a swift-prometheus registry that
/// `/metrics` renders (``MetricsServer``). docs/observability.md lists every metric.
///
/// Counters and histograms are updated as the events happen (from the ingest, worker and
/// publisher threads: every metric handle is atomic, the per-source table is behind a mutex).
/// Gauges that describe a state — queue depth, worker busy ratio — are computed when scraped
/// (``refresh()``), as are the standard `process_*` metrics (``ProcessMetrics``). Every
/// per-source series, including each drop and rejection reason, exists from the start with
/// value 0, so a rate or an alert never sees a missing series.
final class PrometheusObserver: PipelineObserver {
    /// Metric names, and the help texts `# HELP` shows.
    enum Name {
        static let received = "saliencyd_frames_received_total"
        static let published = "saliencyd_frames_published_total"
        static let dropped = "saliencyd_frames_dropped_total"
        static let rejected = "saliencyd_frames_rejected_total"
        static let queueDepth = "saliencyd_queue_depth"
        static let batchSize = "saliencyd_batch_size"
        static let queueLatency = "saliencyd_queue_latency_seconds"
        static let computeLatency = "saliencyd_compute_latency_seconds"
        static let endToEndLatency = "saliencyd_end_to_end_latency_seconds"
        static let workerBusy = "saliencyd_worker_busy_seconds_total"
        static let workerBusyRatio = "saliencyd_worker_busy_ratio"
        static let modelInfo = "saliencyd_model_info"
    }

    /// The sliding window of ``Name/workerBusyRatio``.
    static let busyWindowSeconds = 60

    static let help: [String: String] = [
        Name.received: "Messages received per source (each ends published, dropped or rejected).",
        Name.published: "Maps messages published per source.",
        Name.dropped: "Accepted frames never computed, per source and reason (queue_full_oldest, queue_full_new, shutdown, late, unsent).",
        Name.rejected: "Messages refused per source and reason (the reason of the error event, see docs/protocol.md).",
        Name.queueDepth: "Frames waiting in the source's queue, sampled at scrape time.",
        Name.batchSize: "Frames per computed batch.",
        Name.queueLatency: "Seconds a published frame waited in its queue before a worker took it.",
        Name.computeLatency: "Seconds spent computing the batch a published frame was in.",
        Name.endToEndLatency: "Seconds from receipt of a message to publication of its maps.",
        Name.workerBusy: "Seconds each worker spent computing batches (rate() of it is the busy ratio over any range).",
        Name.workerBusyRatio: "Fraction of the last \(busyWindowSeconds) s (or of the time since start, if shorter) the worker spent computing; a batch counts once it finishes. Sampled at scrape time.",
        Name.modelInfo: "The served model: always 1, with the model's name and the SHA-256 of its file as labels.",
    ].merging(ProcessMetrics.help) { ours, _ in ours }

    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
        .seconds(5), .seconds(10),
    ]
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]

    private struct SourceMetrics: Sendable {
        let received: Counter
        let published: Counter
        let dropped: [DropReason: Counter]
        let rejected: [RejectionReason: Counter]
        let queueDepth: Gauge
        let queueLatency: Metrics.Timer
        let computeLatency: Metrics.Timer
        let endToEndLatency: Metrics.Timer

        init(source: String, factory: any MetricsFactory) {
            let labels = [("source", source)]
            received = Counter(label: Name.received, dimensions: labels, factory: factory)
            published = Counter(label: Name.published, dimensions: labels, factory: factory)
            dropped = Dictionary(uniqueKeysWithValues: DropReason.allCases.map {
                ($0, Counter(label: Name.dropped, dimensions: labels + [("reason", $0.rawValue)], factory: factory))
            })
            rejected = Dictionary(uniqueKeysWithValues: RejectionReason.allCases.map {
                ($0, Counter(label: Name.rejected, dimensions: labels + [("reason", $0.rawValue)], factory: factory))
            })
            queueDepth = Gauge(label: Name.queueDepth, dimensions: labels, factory: factory)
            queueLatency = Metrics.Timer(label: Name.queueLatency, dimensions: labels, factory: factory)
            computeLatency = Metrics.Timer(label: Name.computeLatency, dimensions: labels, factory: factory)
            endToEndLatency = Metrics.Timer(label: Name.endToEndLatency, dimensions: labels, factory: factory)
        }
    }

    private struct WorkerMetrics: Sendable {
        let busy: FloatingPointCounter
        let ratio: Gauge
    }

    private struct State: ~Copyable {
        var sources: [String: SourceMetrics] = [:]
        var workers: [WorkerMetrics] = []
        var windows: [BusyWindow] = []
        var model: Gauge?
        var queueDepths: (@Sendable () -> [String: Int])?
    }

    private let factory: any MetricsFactory
    private let batchSize: Recorder
    /// The `process_*` metrics, sampled with the gauges.
    private let process: ProcessMetrics
    private let state = Mutex(State())
    private let clock: @Sendable () -> UInt64
    private let origin: UInt64

    /// Creates the metrics of `sources` and `workers` (more appear when events name them, e.g.
    /// after a reload). `clock` gives monotonic nanoseconds (replaceable in tests).
    init(sources: [String], workers: Int, factory: any MetricsFactory,
         clock: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) {
        self.factory = factory
        self.clock = clock
        origin = clock()
        batchSize = Recorder(label: Name.batchSize, dimensions: [], aggregate: true, factory: factory)
        process = ProcessMetrics(factory: factory)
        state.withLock { state in
            for source in sources { state.sources[source] = SourceMetrics(source: source, factory: factory) }
            Self.ensureWorker(workers - 1, in: &state, factory: factory, origin: origin)
        }
    }

    /// The served model, as `saliencyd_model_info{name, sha256} 1` (a later call replaces it).
    func setModel(name: String, sha256: String) {
        state.withLock { state in
            state.model?.destroy()
            let gauge = Gauge(label: Name.modelInfo, dimensions: [("name", name), ("sha256", sha256)], factory: factory)
            gauge.record(1)
            state.model = gauge
        }
    }

    /// Where queue depths come from at scrape time (the running pipeline's `queueDepths`).
    func setQueueDepths(_ provider: @escaping @Sendable () -> [String: Int]) {
        state.withLock { $0.queueDepths = provider }
    }

    /// Updates the gauges sampled at scrape time: queue depths, worker busy ratios and the
    /// process metrics.
    func refresh() {
        process.refresh()
        let provider = state.withLock { $0.queueDepths }
        let depths = provider?() ?? [:]
        let now = clock()
        state.withLock { state in
            for (source, depth) in depths {
                sourceMetrics(source, in: &state).queueDepth.record(depth)
            }
            for (worker, metrics) in state.workers.enumerated() {
                metrics.ratio.record(state.windows[worker].ratio(now: now))
            }
        }
    }

    // MARK: PipelineObserver

    func received(source: String) {
        state.withLock { sourceMetrics(source, in: &$0) }.received.increment()
    }

    func dropped(source: String, reason: DropReason) {
        state.withLock { sourceMetrics(source, in: &$0) }.dropped[reason]?.increment()
    }

    func rejected(source: String, reason: RejectionReason) {
        state.withLock { sourceMetrics(source, in: &$0) }.rejected[reason]?.increment()
    }

    func published(source: String, queueNanoseconds: UInt64, computeNanoseconds: UInt64, endToEndNanoseconds: UInt64) {
        let metrics = state.withLock { sourceMetrics(source, in: &$0) }
        metrics.queueLatency.recordNanoseconds(queueNanoseconds)
        metrics.computeLatency.recordNanoseconds(computeNanoseconds)
        metrics.endToEndLatency.recordNanoseconds(endToEndNanoseconds)
        metrics.published.increment()
    }

    func computed(batch size: Int, worker: Int, busyNanoseconds: UInt64) {
        batchSize.record(size)
        let now = clock()
        let metrics = state.withLock { state in
            Self.ensureWorker(worker, in: &state, factory: factory, origin: origin)
            state.windows[worker].add(busy: busyNanoseconds, endingAt: now)
            return state.workers[worker]
        }
        metrics.busy.increment(by: Double(busyNanoseconds) / 1e9)
    }

    // MARK: Tables

    private func sourceMetrics(_ source: String, in state: inout State) -> SourceMetrics {
        if let existing = state.sources[source] { return existing }
        let created = SourceMetrics(source: source, factory: factory)
        state.sources[source] = created
        return created
    }

    private static func ensureWorker(_ index: Int, in state: inout State, factory: any MetricsFactory, origin: UInt64) {
        while state.workers.count <= index {
            let labels = [("worker", String(state.workers.count))]
            state.workers.append(WorkerMetrics(
                busy: FloatingPointCounter(label: Name.workerBusy, dimensions: labels, factory: factory),
                ratio: Gauge(label: Name.workerBusyRatio, dimensions: labels, factory: factory)))
            state.windows.append(BusyWindow(seconds: busyWindowSeconds, origin: origin))
        }
    }
}

/// A worker's busy time over a sliding window, in one-second buckets: each batch's busy interval
/// (ending when it was reported) is split exactly across the seconds it overlaps, so the ratio is
/// exact up to the window's leading partial second.
struct BusyWindow: Sendable {
    let seconds: Int
    /// When the worker started (monotonic nanoseconds): the window never reaches before it.
    let origin: UInt64
    private var busy: [UInt64]
    /// Which second (since `origin`) each bucket currently holds; stale buckets count as 0.
    private var second: [Int]

    init(seconds: Int, origin: UInt64) {
        self.seconds = seconds
        self.origin = origin
        busy = Array(repeating: 0, count: seconds)
        second = Array(repeating: -1, count: seconds)
    }

    /// Records `busy` nanoseconds of computing that ended at `end`.
    mutating func add(busy duration: UInt64, endingAt end: UInt64) {
        guard end > origin else { return }
        let end = end - origin
        let start = end - min(duration, end, UInt64(seconds) * 1_000_000_000)
        var cursor = start
        while cursor < end {
            let index = Int(cursor / 1_000_000_000)
            let next = min(end, UInt64(index + 1) * 1_000_000_000)
            let slot = index % seconds
            if second[slot] != index {
                second[slot] = index
                busy[slot] = 0
            }
            busy[slot] += next - cursor
            cursor = next
        }
    }

    /// Busy time over the last `seconds` seconds (or since `origin`, if shorter) as a fraction.
    func ratio(now: UInt64) -> Double {
        guard now > origin else { return 0 }
        let now = now - origin
        let current = Int(now / 1_000_000_000)
        let first = max(0, current - seconds + 1)
        var total: UInt64 = 0
        for index in first...current where second[index % seconds] == index {
            total += busy[index % seconds]
        }
        let window = now - UInt64(first) * 1_000_000_000
        guard window > 0 else { return 0 }
        return min(1, Double(total) / Double(window))
    }
}
