import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The threads one workspace runs operators on: the caller's and GCD's pool, `count` in all.
///
/// Work items are handed out one at a time from a shared counter, so on a busy machine a thread
/// that is descheduled simply takes fewer items (a static split would wait for it). Every item
/// learns which thread runs it (`0..<count`), to use that thread's slice of the scratch memory.
/// Made once per workspace; running work allocates nothing of its own.
public final class ThreadTeam: @unchecked Sendable {
    /// Threads work is spread over (1: everything runs on the caller's thread).
    public let count: Int
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var next = 0

    public init(count: Int) {
        self.count = max(1, count)
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Calls `body(item, thread)` for every item in `0..<items` on up to `threads` threads (at
    /// most ``count``) and returns when all have run. One thread, or one item, runs inline.
    /// Not reentrant: one `forEach` at a time per team.
    func forEach(items: Int, threads: Int? = nil, _ body: (_ item: Int, _ thread: Int) -> Void) {
        let threads = min(threads ?? count, count, items)
        guard threads > 1 else {
            for item in 0..<items { body(item, 0) }
            return
        }
        next = 0
        withoutActuallyEscaping(body) { body in
            let work = UnsafeTransfer(body)
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                while let item = self.claim(below: items) { work.value(item, thread) }
            }
        }
    }

    /// Splits `0..<count` into ranges of about `grain` elements and calls `body` for each, on
    /// every thread when `count` reaches `minimumParallel` (one thread below: not worth a wake-up).
    /// For memory-bound passes (masks, copies, pooling).
    func forEachRange(_ count: Int, grain: Int = 1 << 14, minimumParallel: Int = 1 << 16,
                      _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let pieces = (count + grain - 1) / grain
        forEach(items: pieces, threads: count >= minimumParallel ? count : 1) { piece, _ in
            body((piece * grain)..<min(count, (piece + 1) * grain))
        }
    }

    private func claim(below items: Int) -> Int? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard next < items else { return nil }
        next += 1
        return next - 1
    }
}

/// A value handed to the team's threads; ``ThreadTeam/forEach(items:threads:_:)`` makes the
/// access race-free (each item runs once, on one thread, before `forEach` returns).
private struct UnsafeTransfer<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
