@testable import Daemon
import Foundation
import Logging
import Metrics
import Pipeline
import Prometheus
import Testing

/// The log handlers, the busy window, the address parser and the observer, in process.
@Suite struct ObservabilityUnitTests {
    /// Collects what a handler writes.
    final class Captured: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        var output: LogOutput { LogOutput { line in self.lock.withLock { self.text += line } } }
        var lines: [String] { lock.withLock { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) } }
    }

    @Test func jsonLogHandlerWritesOneValidObjectPerLine() throws {
        let captured = Captured()
        var handler = JSONLogHandler(label: "saliencyd.test", output: captured.output)
        handler.now = { Date(timeIntervalSince1970: 1_700_000_000.25) }
        handler.logLevel = .trace
        handler[metadataKey: "worker"] = "3"
        let logger = Logger(label: "saliencyd.test") { _ in handler }
        let tricky = "quote \" backslash \\ newline\nthen tab\t, nul \u{0}, é, 🎞️ and </script>"
        logger.warning("\(tricky)", metadata: ["source": "cam \"0\"", "list": ["a", "b\nc"], "nested": ["k": "v", "n": .stringConvertible(42)]])
        logger.debug("second line")

        let lines = captured.lines
        #expect(lines.count == 3 && lines[2].isEmpty, "two lines, each ending in a newline: \(lines)")
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any], "\(lines[0])")
        #expect(first["time"] as? String == "2023-11-14T22:13:20.250Z")
        #expect(first["level"] as? String == "warning")
        #expect(first["label"] as? String == "saliencyd.test")
        #expect(first["message"] as? String == tricky, "the message survives every escape")
        let metadata = try #require(first["metadata"] as? [String: Any])
        #expect(metadata["worker"] as? String == "3")
        #expect(metadata["source"] as? String == "cam \"0\"")
        #expect(metadata["list"] as? [String] == ["a", "b\nc"])
        #expect((metadata["nested"] as? [String: String]) == ["k": "v", "n": "42"])
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["message"] as? String == "second line" && second["level"] as? String == "debug")
        #expect((second["metadata"] as? [String: Any])?.keys.sorted() == ["worker"])
        #expect(!lines[0].contains("\n") && lines[0].unicodeScalars.allSatisfy { $0.isASCII }, "one ASCII line")
    }

    @Test func textLogHandlerFormatsPerDestination() {
        let plain = Captured(), journal = Captured(), terminal = Captured()
        for (destination, captured) in [(LogDestination.plain, plain), (.journal, journal), (.terminal, terminal)] {
            let handler = TextLogHandler(label: "saliencyd", destination: destination, output: captured.output)
            let logger = Logger(label: "saliencyd") { _ in handler }
            logger.warning("queue full", metadata: ["source": "cam0", "detail": "two words", "empty": ""])
        }
        #expect(plain.lines[0] == #"warning saliencyd: queue full detail="two words" empty="" source=cam0"#)
        #expect(journal.lines[0] == #"<4>warning saliencyd: queue full detail="two words" empty="" source=cam0"#)
        let colour = terminal.lines[0]
        #expect(colour.contains("\u{1B}[33mwarning\u{1B}[0m saliencyd: queue full"), "\(colour)")
        #expect(colour.range(of: #"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} "#, options: .regularExpression) != nil, "\(colour)")
    }

    @Test func metricsAddresses() throws {
        #expect(try MetricsAddress.parse("127.0.0.1:9560", key: "k") == MetricsAddress(host: "127.0.0.1", port: 9560))
        #expect(try MetricsAddress.parse("[::1]:0", key: "k") == MetricsAddress(host: "::1", port: 0))
        #expect(try MetricsAddress.parse("[::1]:0", key: "k")?.description == "[::1]:0")
        #expect(try MetricsAddress.parse("", key: "k") == nil)
        for bad in ["9560", ":9560", "host:", "host:x", "::1:9560", "[::1]9560", "a:65536", "a:-1"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try MetricsAddress.parse(bad, key: "k") }
        }
    }

    @Test func busyWindowSplitsBatchesAcrossSecondsAndForgetsOldOnes() {
        let second: UInt64 = 1_000_000_000
        var window = BusyWindow(seconds: 60, origin: 10 * second)
        // 0.5 s busy ending 1.25 s after the origin: 0.25 s in second 0, 0.25 s in second 1.
        window.add(busy: second / 2, endingAt: 10 * second + second + second / 4)
        #expect(abs(window.ratio(now: 12 * second) - 0.25) < 1e-9, "0.5 s of 2 s")
        // 100 s later the window holds none of it.
        #expect(window.ratio(now: 112 * second) == 0)
        // Fully busy for the last 30 s of a full window: 30 of the last 60 s (the current second
        // being 0.5 s old).
        window.add(busy: 30 * second, endingAt: 112 * second + second / 2)
        let ratio = window.ratio(now: 112 * second + second / 2)
        #expect(abs(ratio - 30.0 / 59.5) < 1e-9, "\(ratio)")
        // Longer than the window is capped at 1.
        window.add(busy: 500 * second, endingAt: 113 * second)
        #expect(window.ratio(now: 113 * second) == 1)
    }

    @Test func observerCountsIntoTheRegistry() throws {
        let registry = PrometheusCollectorRegistry()
        let now = Locked<UInt64>(0)
        let observer = PrometheusObserver(sources: ["a"], workers: 2, factory: DocumentedMetricsFactory.daemon(registry: registry),
                                          clock: { now.get() })
        observer.setModel(name: "m1", sha256: "abc")
        observer.setModel(name: "m2", sha256: "def")
        observer.setQueueDepths { ["a": 3, "b": 1] }
        observer.received(source: "a")
        observer.received(source: "a")
        observer.received(source: "b")
        observer.rejected(source: "a", reason: .corruptImage)
        observer.dropped(source: "b", reason: .queueFullOldest)
        now.set(2_000_000_000)
        observer.computed(batch: 1, worker: 1, busyNanoseconds: 500_000_000)
        observer.published(source: "a", queueNanoseconds: 1_000_000, computeNanoseconds: 20_000_000, endToEndNanoseconds: 30_000_000)
        observer.refresh()
        let text = try PrometheusText(registry.emitToString())
        #expect(text.value("saliencyd_frames_received_total", ["source": "a"]) == 2)
        #expect(text.value("saliencyd_frames_received_total", ["source": "b"]) == 1, "a source seen only in events gets series too")
        #expect(text.value("saliencyd_frames_rejected_total", ["source": "a", "reason": "corrupt_image"]) == 1)
        #expect(text.value("saliencyd_frames_dropped_total", ["source": "b", "reason": "queue_full_oldest"]) == 1)
        #expect(text.value("saliencyd_frames_published_total", ["source": "a"]) == 1)
        #expect(text.value("saliencyd_queue_depth", ["source": "a"]) == 3)
        #expect(text.value("saliencyd_queue_depth", ["source": "b"]) == 1)
        #expect(text.value("saliencyd_end_to_end_latency_seconds_sum", ["source": "a"]) == 0.03)
        #expect(text.value("saliencyd_end_to_end_latency_seconds_bucket", ["source": "a", "le": "0.025"]) == 0)
        #expect(text.value("saliencyd_end_to_end_latency_seconds_bucket", ["source": "a", "le": "0.05"]) == 1)
        #expect(text.value("saliencyd_worker_busy_seconds_total", ["worker": "1"]) == 0.5)
        #expect(text.value("saliencyd_worker_busy_ratio", ["worker": "1"]) == 0.25)
        #expect(text.value("saliencyd_worker_busy_ratio", ["worker": "0"]) == 0)
        #expect(text.samples("saliencyd_model_info").map(\.labels) == [["name": "m2", "sha256": "def"]], "a new model replaces the old series")
        #expect(text.help["saliencyd_frames_received_total"] == PrometheusObserver.help["saliencyd_frames_received_total"])
    }

    /// `/proc/<pid>/stat` is read by field number after the command name's last `)`: a name with
    /// spaces and parentheses does not shift the fields. (A line of a process named `a (b) c`.)
    @Test func processStatFieldsAfterAnOddCommandName() throws {
        let line = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 1200 0 3 0 "
            + "731 89 0 0 20 0 5 0 123456 987654321 2048 18446744073709551615 1 1 0 0 0 0 0 4096 17926 0 0 0 17 1 0 0 0 0 0"
        let stat = try #require(ProcessMetrics.Stat(line))
        #expect(stat.startTicks == 123456 && stat.virtualBytes == 987654321 && stat.residentPages == 2048)
        #expect(ProcessMetrics.Stat("4242 (short) S 1 2 3") == nil, "too few fields")
        #expect(ProcessMetrics.Stat("no parenthesis at all") == nil)
        #expect(ProcessMetrics.bootTime(procStat: "cpu  1 2 3\nintr 5\nbtime 1764979200\nprocesses 9\n") == 1764979200)
        #expect(ProcessMetrics.bootTime(procStat: "cpu  1 2 3\n") == nil)
    }

    /// The `process_*` metrics of this test process: plausible, with their TYPE and HELP.
    @Test func processMetricsDescribeThisProcess() throws {
        let registry = PrometheusCollectorRegistry()
        let observer = PrometheusObserver(sources: [], workers: 1, factory: DocumentedMetricsFactory.daemon(registry: registry))
        // Some CPU time and an extra open descriptor, both seen by the next refresh.
        var sum = 0.0
        for i in 0..<2_000_000 { sum += Double(i).squareRoot() }
        #expect(sum > 0)
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/stat"))
        defer { try? handle.close() }
        observer.refresh()
        let text = try PrometheusText(registry.emitToString())
        let resident = try #require(text.value("process_resident_memory_bytes", [:]))
        let virtual = try #require(text.value("process_virtual_memory_bytes", [:]))
        #expect(resident > 4_000_000 && resident < virtual, "resident \(resident), virtual \(virtual)")
        #expect(try #require(text.value("process_cpu_seconds_total", [:])) > 0)
        let start = try #require(text.value("process_start_time_seconds", [:]))
        let now = Date().timeIntervalSince1970
        #expect(start <= now + 1 && start > now - 24 * 3600, "started at \(start), now \(now)")
        let open = try #require(text.value("process_open_fds", [:]))
        let maximum = try #require(text.value("process_max_fds", [:]))
        #expect(open >= 4 && open <= maximum, "open \(open), maximum \(maximum)")
        let processMetrics = ObservabilityTests.metricNames.filter { $0.key.hasPrefix("process_") }
        #expect(processMetrics.count == 6)
        for (name, type) in processMetrics {
            #expect(text.types[name] == type, "TYPE of \(name)")
            #expect(text.help[name] == ProcessMetrics.help[name], "HELP of \(name)")
        }
    }

    /// The test's exposition parser refuses what Prometheus would (so a passing scrape means something).
    @Test(arguments: [
        "m 1\n",                                              // no TYPE before the sample
        "# TYPE m counter\nm{a=b} 1\n",                      // unquoted label value
        "# TYPE m counter\nm{a=\"b\"} 1 2 3\n",              // too many fields
        "# TYPE m counter\nm{a=\"b\"}1\n",                   // no space before the value
        "# TYPE m counter\nm one\n",                         // not a number
        "# TYPE m counter\n\nm 1\n",                         // an empty line inside
        "# TYPE m counter\n# TYPE m gauge\nm 1\n",           // two TYPEs
        "# TYPE m counter\n# something else\nm 1\n",         // a stray comment
        "# TYPE m counter\nm{a=\"b\",a=\"c\"} 1\n",          // a label twice
        "# TYPE m histogram\nm_total 1\n",                   // not a histogram series
    ])
    func prometheusParserIsStrict(text: String) {
        #expect(throws: PrometheusText.ParseError.self) { try PrometheusText(text) }
    }

    @Test func prometheusParserReadsEscapesAndHistograms() throws {
        let text = try PrometheusText(#"""
        # HELP h A histogram.
        # TYPE h histogram
        h_bucket{le="1.0",path="a\\b\"c\nd"} 2
        h_bucket{le="+Inf",path="a\\b\"c\nd"} 3
        h_sum{path="a\\b\"c\nd"} 4.5
        h_count{path="a\\b\"c\nd"} 3

        """#)
        #expect(text.help["h"] == "A histogram." && text.types["h"] == "histogram")
        #expect(text.value("h_count", ["path": "a\\b\"c\nd"]) == 3)
        #expect(text.value("h_bucket", ["le": "+Inf", "path": "a\\b\"c\nd"]) == 3)
    }
}
