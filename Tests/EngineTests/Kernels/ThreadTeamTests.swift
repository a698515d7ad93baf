import Foundation
import Synchronization
import Testing
@testable import Engine

/// The team's helper threads: every item runs once on a thread below the call's `threads`, calls
/// follow each other without losing one, a helper that went to sleep wakes for the next call,
/// and a team's end joins its helpers.
struct ThreadTeamTests {
    /// Per item: how many times it ran and on which thread.
    private final class Record: Sendable {
        private let state: Mutex<(runs: [Int], threads: [Int])>
        init(items: Int) { state = Mutex((Array(repeating: 0, count: items), Array(repeating: -1, count: items))) }
        func ran(_ item: Int, on thread: Int, runs: Int? = nil) {
            state.withLock {
                $0.runs[item] = runs ?? $0.runs[item] + 1
                $0.threads[item] = thread
            }
        }
        var runs: [Int] { state.withLock { $0.runs } }
        var threads: [Int] { state.withLock { $0.threads } }
    }

    @Test(arguments: [(2, 1, nil), (2, 2, nil), (2, 1000, nil), (3, 10, 2), (4, 100, nil), (4, 3, nil), (1, 5, nil)]
              as [(Int, Int, Int?)])
    func everyItemRunsOnceOnAThreadOfTheCall(count: Int, items: Int, threads: Int?) {
        let team = ThreadTeam(count: count)
        for _ in 0..<3 {
            let record = Record(items: items)
            team.forEach(items: items, threads: threads) { item, thread in
                record.ran(item, on: thread)
            }
            let allowed = min(threads ?? count, count, items)
            #expect(record.runs == Array(repeating: 1, count: items))
            #expect(record.threads.allSatisfy { (0..<allowed).contains($0) })
        }
    }

    @Test func thousandsOfCallsInARowEachRunWhole() {
        let team = ThreadTeam(count: 2)
        let total = Atomic(0)
        var expected = 0
        for call in 0..<5000 {
            let items = 1 + call % 7
            team.forEach(items: items) { item, _ in total.wrappingAdd(item + 1, ordering: .relaxed) }
            expected += items * (items + 1) / 2
            // Every call's items have all run when forEach returns.
            if total.load(ordering: .relaxed) != expected { break }
        }
        #expect(total.load(ordering: .relaxed) == expected)
    }

    /// Two items that each wait for the other to start can only finish on two threads: the
    /// caller runs one, so a helper must run the other — here after it has gone to sleep.
    @Test func aSleepingHelperWakesForTheNextCall() throws {
        let team = ThreadTeam(count: 2)
        for round in 0..<3 {
            let started = Atomic(0)
            let sawPartner = Record(items: 2)
            team.forEach(items: 2) { item, thread in
                started.wrappingAdd(1, ordering: .relaxed)
                let deadline = Date().addingTimeInterval(20)
                while started.load(ordering: .relaxed) < 2 && Date() < deadline { sched_yield() }
                sawPartner.ran(item, on: thread, runs: started.load(ordering: .relaxed))
            }
            // `runs` here: how many items had started when each item stopped waiting.
            #expect(sawPartner.runs == [2, 2], "round \(round)")
            #expect(Set(sawPartner.threads) == [0, 1], "round \(round)")
            // Long past the helper's watch: it is asleep when the next round calls.
            Thread.sleep(forTimeInterval: Double(ThreadTeam.watchNanoseconds) / 1e9 * 5)
        }
    }

    @Test func teamsEndTheirHelpers() {
        let total = Atomic(0)
        let before = Self.threadCount()
        for _ in 0..<50 {
            let team = ThreadTeam(count: 3)
            team.forEach(items: 6) { _, _ in total.wrappingAdd(1, ordering: .relaxed) }
        }
        #expect(total.load(ordering: .relaxed) == 300)
        // Each team joined its two helpers in deinit: 100 would be left running otherwise (other
        // tests running alongside start and end threads of their own, hence the margin).
        #expect(Self.threadCount() - before < 50)
    }

    /// Threads of this process, from /proc.
    private static func threadCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    }
}
