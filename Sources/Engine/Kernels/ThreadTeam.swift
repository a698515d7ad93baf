#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The threads one workspace runs operators on: the caller's and `count − 1` helper threads of
/// its own, started on the first call that spreads work and ended with the team.
///
/// Work items are handed out one at a time from a shared counter, so on a busy machine a thread
/// that is descheduled simply takes fewer items (a static split would wait for it). Every item
/// learns which thread runs it (`0..<count`: 0 is the caller, helper `i` is always `i`), to use
/// that thread's slice of the scratch memory.
///
/// A pass calls ``forEach(items:threads:_:)`` once or more per layer, items of 0.1–2 ms each, so
/// a helper's wake-up latency is paid at every call. After a call a helper therefore keeps
/// watching for the next one for ``watchNanoseconds`` (yielding the core to anything else that
/// is runnable) before it sleeps on a condition variable. (GCD's `concurrentPerform`, used
/// before, woke its worker anew for every call: resnet18 ran 1.3× faster on 2 threads than on 1.)
/// Made once per workspace; running work allocates nothing of its own.
public final class ThreadTeam: @unchecked Sendable {
    /// Threads work is spread over (1: everything runs on the caller's thread).
    public let count: Int
    /// How long a helper watches for the next call before it sleeps.
    static let watchNanoseconds: UInt64 = 2_000_000
    private let shared: TeamState
    private var helpers: [pthread_t] = []

    public init(count: Int) {
        self.count = max(1, count)
        shared = TeamState()
    }

    deinit {
        guard !helpers.isEmpty else { return }
        shared.stopping = true
        shared.publishCall()
        for helper in helpers { pthread_join(helper, nil) }
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
        if helpers.isEmpty { startHelpers() }
        withoutActuallyEscaping(body) { body in
            shared.call = TeamState.Call(body: body, items: items, threads: threads)
            shared.claimed.store(0, ordering: .relaxed)
            shared.finished.store(0, ordering: .relaxed)
            shared.publishCall()
            shared.runItems(thread: 0)
            // Every helper acknowledges every call (those past `threads` without running items),
            // so none can still be reading this call's state when the next one is written.
            var polls = 0
            while shared.finished.load(ordering: .acquiring) < count - 1 {
                polls += 1
                if polls > 64 { sched_yield() }
            }
            shared.call = nil
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

    private func startHelpers() {
        for index in 1..<count {
            let context = Unmanaged.passRetained(HelperContext(shared: shared, index: index)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { context in
                let helper = Unmanaged<HelperContext>.fromOpaque(context!).takeRetainedValue()
                helper.shared.serve(thread: helper.index)
                return nil
            }, context)
            precondition(status == 0, "cannot start a compute thread (pthread_create: \(status))")
            helpers.append(thread)
        }
    }
}

/// What a helper thread is started with.
private final class HelperContext {
    let shared: TeamState
    let index: Int
    init(shared: TeamState, index: Int) {
        self.shared = shared
        self.index = index
    }
}

/// The state a team's caller and helpers share. `call` and `stopping` are written by the caller
/// only while no helper reads them (before ``publishCall()``, after every helper acknowledged);
/// `generation`'s release and acquire order those writes before the helpers' reads.
private final class TeamState: @unchecked Sendable {
    struct Call {
        let body: (Int, Int) -> Void
        let items: Int
        let threads: Int
    }

    var call: Call?
    var stopping = false
    /// Calls published so far.
    let generation = Atomic<Int>(0)
    /// Items of the current call handed out.
    let claimed = Atomic<Int>(0)
    /// Helpers done with the current call.
    let finished = Atomic<Int>(0)
    private var sleepers = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Makes the written call (or `stopping`) visible to the helpers and wakes those asleep.
    func publishCall() {
        generation.wrappingAdd(1, ordering: .releasing)
        pthread_mutex_lock(mutex)
        if sleepers > 0 { pthread_cond_broadcast(condition) }
        pthread_mutex_unlock(mutex)
    }

    /// Claims and runs items of the current call until none is left.
    @inline(never)
    func runItems(thread: Int) {
        guard let call, thread < call.threads else { return }
        while true {
            let item = claimed.wrappingAdd(1, ordering: .relaxed).oldValue
            guard item < call.items else { return }
            call.body(item, thread)
        }
    }

    /// A helper's life: wait for a call, run its items, acknowledge it; until `stopping`.
    func serve(thread: Int) {
        var seen = 0
        while true {
            seen = waitForCall(after: seen)
            if stopping { return }
            runItems(thread: thread)
            finished.wrappingAdd(1, ordering: .releasing)
        }
    }

    /// The generation after `seen`: watched for ``ThreadTeam/watchNanoseconds`` (yielding the
    /// core between looks), then waited for asleep.
    private func waitForCall(after seen: Int) -> Int {
        var looks = 0
        var deadline: UInt64 = 0
        while true {
            let current = generation.load(ordering: .acquiring)
            if current != seen { return current }
            looks += 1
            guard looks > 64 else { continue }
            sched_yield()
            if looks % 64 != 0 { continue }
            let now = Self.monotonicNanoseconds()
            if deadline == 0 {
                deadline = now + ThreadTeam.watchNanoseconds
            } else if now > deadline {
                break
            }
        }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while generation.load(ordering: .acquiring) == seen {
            sleepers += 1
            pthread_cond_wait(condition, mutex)
            sleepers -= 1
        }
        return generation.load(ordering: .acquiring)
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
