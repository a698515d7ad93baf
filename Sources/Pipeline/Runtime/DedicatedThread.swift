import Foundation

/// A named OS thread running one closure, that can be joined. Compute and socket loops run on
/// these, never on Swift's cooperative pool.
public final class DedicatedThread: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let thread: Thread

    /// Starts `body` on a new thread called `name` (shown by `top -H` and in debuggers).
    public init(name: String, stackSize: Int = 8 << 20, _ body: @escaping @Sendable () -> Void) {
        let finished = self.finished
        thread = Thread {
            body()
            finished.signal()
        }
        thread.name = name
        thread.stackSize = stackSize
        thread.start()
    }

    /// Waits until the closure has returned; `false` if `timeout` passed first.
    @discardableResult
    public func join(timeout: Duration? = nil) -> Bool {
        guard let timeout else {
            finished.wait()
            finished.signal()
            return true
        }
        let result = finished.wait(timeout: .now() + timeout.timeInterval)
        if result == .success { finished.signal() }
        return result == .success
    }
}

/// A value handed to another thread whose ownership moves with it (a ZeroMQ socket bound on the
/// main thread, then used only by its ingest thread).
struct Transfer<Value>: @unchecked Sendable {
    let value: Value
}
