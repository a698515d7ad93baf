import Foundation
import Logging

/// Logs a warning for a (source, reason) pair at most once per `interval`; the next line that
/// gets through says how many were suppressed in between. Thread-safe.
final class RateLimitedLog: @unchecked Sendable {
    private struct Entry { var last: Date; var suppressed: Int }
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private let interval: TimeInterval
    private let logger: Logger

    init(logger: Logger, interval: TimeInterval = 1) {
        self.logger = logger
        self.interval = interval
    }

    func warning(key: String, _ message: String, metadata: Logger.Metadata = [:]) {
        let now = Date()
        lock.lock()
        var entry = entries[key] ?? Entry(last: .distantPast, suppressed: 0)
        let emit = now.timeIntervalSince(entry.last) >= interval
        let suppressed = entry.suppressed
        if emit {
            entry = Entry(last: now, suppressed: 0)
        } else {
            entry.suppressed += 1
        }
        entries[key] = entry
        lock.unlock()
        guard emit else { return }
        let suffix = suppressed > 0 ? " (and \(suppressed) more like it in the last \(Int(interval)) s)" : ""
        logger.warning("\(message)\(suffix)", metadata: metadata)
    }
}
