#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Metrics

/// The standard Prometheus process metrics (`process_cpu_seconds_total`,
/// `process_resident_memory_bytes`, …, as every official client library exports them on Linux),
/// sampled from `/proc/self` when `/metrics` is scraped, so that stock dashboards and alerts on
/// a daemon's memory, CPU and file descriptors work for saliencyd too.
final class ProcessMetrics: @unchecked Sendable {
    enum Name {
        static let cpuSeconds = "process_cpu_seconds_total"
        static let residentMemory = "process_resident_memory_bytes"
        static let virtualMemory = "process_virtual_memory_bytes"
        static let startTime = "process_start_time_seconds"
        static let openFileDescriptors = "process_open_fds"
        static let maximumFileDescriptors = "process_max_fds"
    }

    static let help: [String: String] = [
        Name.cpuSeconds: "User and system CPU time of all the process's threads, in seconds.",
        Name.residentMemory: "Resident memory of the process, in bytes (/proc/self/stat rss).",
        Name.virtualMemory: "Virtual memory of the process, in bytes (/proc/self/stat vsize).",
        Name.startTime: "Start time of the process, in seconds since the Unix epoch.",
        Name.openFileDescriptors: "Open file descriptors (entries of /proc/self/fd).",
        Name.maximumFileDescriptors: "The soft limit on open file descriptors (RLIMIT_NOFILE).",
    ]

    /// What `/proc/self/stat` says that the metrics use, in its units: fields 22 (`starttime`,
    /// clock ticks after boot), 23 (`vsize`, bytes), 24 (`rss`, pages). (CPU time comes from
    /// `getrusage`, in microseconds rather than the file's 10 ms ticks.)
    struct Stat {
        var startTicks: UInt64
        var virtualBytes: UInt64
        var residentPages: UInt64

        /// Parses one `/proc/<pid>/stat` line. The command name (field 2) is in parentheses and may
        /// itself hold spaces and parentheses, so the fields are counted after its last `)`.
        init?(_ line: String) {
            guard let close = line.lastIndex(of: ")") else { return nil }
            // Fields 3 onwards: the state is field 3, so field n is at index n − 3.
            let fields = line[line.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
            func field(_ number: Int) -> UInt64? {
                number - 3 < fields.count ? UInt64(fields[number - 3]) : nil
            }
            guard let start = field(22), let virtual = field(23), let resident = field(24) else { return nil }
            startTicks = start
            virtualBytes = virtual
            residentPages = resident
        }
    }

    /// The boot time in `/proc/stat` (`btime`, seconds since the epoch).
    static func bootTime(procStat: String) -> UInt64? {
        for line in procStat.split(separator: "\n") where line.hasPrefix("btime ") {
            return UInt64(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    private let cpuSeconds: FloatingPointCounter
    private let residentMemory: Gauge
    private let virtualMemory: Gauge
    private let startTime: Gauge
    private let openFileDescriptors: Gauge
    private let maximumFileDescriptors: Gauge
    /// CPU seconds already added to the counter (it only goes up, by the difference).
    private var countedCPUSeconds = 0.0
    private let lock = NSLock()

    init(factory: any MetricsFactory) {
        cpuSeconds = FloatingPointCounter(label: Name.cpuSeconds, dimensions: [], factory: factory)
        residentMemory = Gauge(label: Name.residentMemory, dimensions: [], factory: factory)
        virtualMemory = Gauge(label: Name.virtualMemory, dimensions: [], factory: factory)
        startTime = Gauge(label: Name.startTime, dimensions: [], factory: factory)
        openFileDescriptors = Gauge(label: Name.openFileDescriptors, dimensions: [], factory: factory)
        maximumFileDescriptors = Gauge(label: Name.maximumFileDescriptors, dimensions: [], factory: factory)
        // The start time does not change: read once.
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        if ticksPerSecond > 0, let stat = Self.readStat(),
           let procStat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
           let boot = Self.bootTime(procStat: procStat) {
            startTime.record(Double(boot) + Double(stat.startTicks) / ticksPerSecond)
        }
        refresh()
    }

    private static func readStat() -> Stat? {
        (try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8)).flatMap(Stat.init)
    }

    /// Samples `/proc/self` now (all but the start time). A file that cannot be read leaves its
    /// metrics as they were.
    func refresh() {
        lock.lock()
        defer { lock.unlock() }
        if let stat = Self.readStat() {
            residentMemory.record(Double(stat.residentPages) * Double(sysconf(Int32(_SC_PAGESIZE))))
            virtualMemory.record(Double(stat.virtualBytes))
        }
        var usage = rusage()
        if getrusage(RUSAGE_SELF.rawValue, &usage) == 0 {
            let seconds = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
                + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
            if seconds > countedCPUSeconds {
                cpuSeconds.increment(by: seconds - countedCPUSeconds)
                countedCPUSeconds = seconds
            }
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openFileDescriptors.record(entries.count)
        }
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            maximumFileDescriptors.record(Double(limit.rlim_cur))
        }
    }
}
