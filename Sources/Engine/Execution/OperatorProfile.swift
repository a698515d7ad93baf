/// Wall-clock time spent in each node's forward and backward calls, accumulated over runs of a
/// ``Workspace`` while it is attached as ``Workspace/profile``. Used by `saliencyd bench
/// --profile`; a workspace without a profile reads no clock.
///
/// Allocated once, for one compiled model (arrays indexed like ``CompiledModel/nodes``), so
/// attaching it does not add allocations to `forward`/`backward`.
public final class OperatorProfile {
    /// Nanoseconds per node in `forward`, summed over every call since the last ``reset()``.
    public private(set) var forwardNanoseconds: [UInt64]
    /// Nanoseconds per node in `backward`, summed over every call since the last ``reset()``.
    public private(set) var backwardNanoseconds: [UInt64]

    /// The clock the calls are timed with.
    public let clock: TimingClock

    public init(nodeCount: Int, clock: TimingClock = .wall) {
        self.clock = clock
        forwardNanoseconds = [UInt64](repeating: 0, count: nodeCount)
        backwardNanoseconds = [UInt64](repeating: 0, count: nodeCount)
    }

    public func reset() {
        for i in forwardNanoseconds.indices {
            forwardNanoseconds[i] = 0
            backwardNanoseconds[i] = 0
        }
    }

    @inline(__always) func now() -> UInt64 { clock.nanoseconds() }

    @inline(__always) func addForward(node: Int, since start: UInt64) {
        forwardNanoseconds[node] &+= now() &- start
    }

    @inline(__always) func addBackward(node: Int, since start: UInt64) {
        backwardNanoseconds[node] &+= now() &- start
    }
}
