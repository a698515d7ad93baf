/// Receives every event the pipeline counts, as it happens, from whichever thread it happens on
/// (ingest, worker, publisher threads): how the daemon feeds its metrics (histograms need each
/// observation, not just sums). Implementations must be thread-safe and quick.
public protocol PipelineObserver: Sendable {
    func received(source: String)
    func dropped(source: String, reason: DropReason)
    func rejected(source: String, reason: RejectionReason)
    /// A maps message went out; durations in nanoseconds.
    func published(source: String, queueNanoseconds: UInt64, computeNanoseconds: UInt64, endToEndNanoseconds: UInt64)
    /// A worker finished a batch of `size` frames after `busyNanoseconds`.
    func computed(batch size: Int, worker: Int, busyNanoseconds: UInt64)
}
