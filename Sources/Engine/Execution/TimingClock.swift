import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What timings measure (`bench --clock`, ``OperatorProfile``).
public enum TimingClock: String, CaseIterable, Sendable {
    /// Elapsed (monotonic) time: what a caller waits.
    case wall
    /// CPU time of the calling thread only: with one thread, a measure of the work that a busy
    /// shared machine disturbs far less than elapsed time (other threads, e.g. OpenBLAS's, are
    /// not counted).
    case threadCPU = "thread-cpu"

    /// The clock's current reading in nanoseconds.
    @inline(__always)
    public func nanoseconds() -> UInt64 {
        switch self {
        case .wall:
            return DispatchTime.now().uptimeNanoseconds
        case .threadCPU:
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
        }
    }
}
