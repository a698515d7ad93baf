import Foundation
import Pipeline
import Testing

/// `/metrics`, `/healthz`, `/readyz` and the log formats, on the built `saliencyd serve`.
@Suite(.serialized) struct ObservabilityTests {
    static let metricNames: [String: String] = [
        "saliencyd_frames_received_total": "counter",
        "saliencyd_frames_published_total": "counter",
        "saliencyd_frames_dropped_total": "counter",
        "saliencyd_frames_rejected_total": "counter",
        "saliencyd_queue_depth": "gauge",
        "saliencyd_batch_size": "histogram",
        "saliencyd_queue_latency_seconds": "histogram",
        "saliencyd_compute_latency_seconds": "histogram",
        "saliencyd_end_to_end_latency_seconds": "histogram",
        "saliencyd_worker_busy_seconds_total": "counter",
        "saliencyd_worker_busy_ratio": "gauge",
        "saliencyd_model_info": "gauge",
        "process_cpu_seconds_total": "counter",
        "process_resident_memory_bytes": "gauge",
        "process_virtual_memory_bytes": "gauge",
        "process_start_time_seconds": "gauge",
        "process_open_fds": "gauge",
        "process_max_fds": "gauge",
    ]

    /// Starts serve with a metrics address on port 0; returns it and the resolved base URL.
    static func startServe(_ arguments: [String]) throws -> (RunningProcess, metrics: URL) {
        let serve = try RunningProcess(["serve", "--status-interval", "0", "--metrics-address", "127.0.0.1:0"] + arguments)
        try #require(serve.waitForErrors { $0.contains("ready: maps on") }, "serve did not become ready: \(serve.errors)")
        let address = try #require(serve.firstMatch(#"metrics: /metrics, /healthz and /readyz on (http://127\.0\.0\.1:[0-9]+)"#),
                                   "no metrics address logged: \(serve.errors)")
        #expect(!address.hasSuffix(":0"), "port 0 must be resolved in the log")
        return (serve, URL(string: address)!)
    }

    /// serve installs its SIGTERM handler just after logging `ready:`; a SIGTERM in between kills
    /// it (status 143) or is lost. Tests that stop serve right after `ready:` wait this long first.
    static func letSignalHandlersInstall() { Thread.sleep(forTimeInterval: 0.5) }

    static func scrape(_ base: URL) throws -> PrometheusText {
        let reply = try HTTP.get(base.appendingPathComponent("metrics"))
        #expect(reply.status == 200)
        #expect(reply.contentType?.hasPrefix("text/plain; version=0.0.4") == true, "Content-Type \(reply.contentType ?? "none")")
        return try PrometheusText(reply.body)
    }

    /// A grey 28×28 uint8 array message, as imagezmq's `send_image` sends it.
    static func goodFrame(_ index: Int) -> [[UInt8]] {
        let header = #"{"msg":"metrics-test","dtype":"uint8","shape":[28,28],"index":\#(index)}"#
        return [Array(header.utf8), (0..<784).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }]
    }

    /// Bad messages with the rejection reason each must be counted under.
    static let badFrames: [(frames: [[UInt8]], reason: String)] = [
        ([Array("just one frame".utf8)], "frame_count"),
        ([Array("a".utf8), Array("b".utf8), Array("c".utf8), Array("d".utf8)], "frame_count"),
        ([Array("not json".utf8), [1, 2, 3]], "header_not_json"),
        ([Array(#"{"dtype":"uint8","shape":[2,2]}"#.utf8), [1, 2, 3, 4]], "header_missing_key"),
        ([Array(#"{"msg":"x","dtype":"uint8","shape":[2,2]}"#.utf8), [1, 2, 3]], "size_mismatch"),
        ([Array(#"{"msg":"x","dtype":"uint8","shape":[4,4,3]}"#.utf8), [UInt8](repeating: 0, count: 10)], "size_mismatch"),
        ([Array(#"{"msg":"x"}"#.utf8), Array("definitely not a JPEG".utf8)], "corrupt_image"),
    ]

    /// The traffic: over REQ to a `drop-new` REP source with a one-frame queue in front of one slow
    /// worker (so some frames are refused, and the replies say which), bad messages to the same
    /// source, and a lossless PUSH replay of the ten samples to a PULL source. Every counter must
    /// equal what was sent, refused and rejected; every latency histogram's count the frames
    /// published; the totals the daemon's own `stopped:` line.
    @Test func metricsCountTheTrafficSent() throws {
        let (serve, base) = try Self.startServe([
            "--source", "name=hub,socket=rep,endpoint=tcp://127.0.0.1:*,policy=drop-new,queue_capacity=1",
            "--source", "name=replay,socket=pull,endpoint=tcp://127.0.0.1:*",
            "--output", "tcp://127.0.0.1:*", "--workers", "1", "--max-batch", "4", "--debug-worker-delay-ms", "100",
        ])
        let hub = try #require(serve.firstMatch(#"source hub: REP bound to (tcp://[0-9.]+:[0-9]+)"#))
        let replay = try #require(serve.firstMatch(#"source replay: PULL bound to (tcp://[0-9.]+:[0-9]+)"#))
        let sha = try #require(serve.firstMatch(#"serving fashion-mnist-cnn \(sha256 ([0-9a-f]+)\)"#))

        // Before any traffic: health, readiness, and every series at zero.
        let health = try HTTP.get(base.appendingPathComponent("healthz"))
        #expect(health.status == 200 && health.body == "alive\n")
        let ready = try HTTP.get(base.appendingPathComponent("readyz"))
        #expect(ready.status == 200 && ready.body == "ready\n", "\(ready)")
        let before = try Self.scrape(base)
        for source in ["hub", "replay"] {
            #expect(before.value("saliencyd_frames_received_total", ["source": source]) == 0)
            #expect(before.samples("saliencyd_frames_dropped_total", ["source": source]).count == DropReason.allCases.count)
            #expect(before.samples("saliencyd_frames_rejected_total", ["source": source]).count == RejectionReason.allCases.count)
            #expect(before.samples("saliencyd_frames_rejected_total", ["source": source]).allSatisfy { $0.value == 0 })
        }

        // The traffic.
        let context = ZeroMQContext()
        let request = try ZeroMQSocket(context, type: .req)
        defer { request.close() }
        try request.setReceiveTimeout(milliseconds: 30_000)
        try request.setLinger(milliseconds: 0)
        try request.connect(hub)
        func ask(_ frames: [[UInt8]]) throws -> String {
            try #require(try request.send(frames))
            let reply = try #require(try request.receive(), "no REP reply within 30 s")
            return String(decoding: reply.joined(), as: UTF8.self)
        }
        let goodCount = 12
        var accepted = 0, refused = 0
        for index in 0..<goodCount {
            let reply = try ask(Self.goodFrame(index))
            if reply == "OK" { accepted += 1 } else if reply == "DROPPED: queue full" { refused += 1 } else { Issue.record("reply to a good frame: \(reply)") }
        }
        #expect(refused > 0, "a one-frame queue before a 100 ms worker must refuse some of \(goodCount) frames sent back to back")
        var rejections: [String: Int] = [:]
        for (frames, reason) in Self.badFrames {
            let reply = try ask(frames)
            #expect(reply.hasPrefix("ERROR \(reason)"), "expected ERROR \(reason), got \(reply)")
            rejections[reason, default: 0] += 1
        }
        let send = try ExplainCommandTests.run(["send", "--socket", "push", "--endpoint", replay, "models/samples/samples.npy"])
        #expect(send.status == 0, "send: \(send.errors)")

        // Wait until every accepted frame has been published.
        var metrics = before
        let deadline = Date().addingTimeInterval(60)
        repeat {
            Thread.sleep(forTimeInterval: 0.2)
            metrics = try Self.scrape(base)
        } while ((metrics.value("saliencyd_frames_published_total", ["source": "hub"]) ?? 0) < Double(accepted)
                 || (metrics.value("saliencyd_frames_published_total", ["source": "replay"]) ?? 0) < 10) && Date() < deadline
        Thread.sleep(forTimeInterval: 0.3)
        metrics = try Self.scrape(base)

        // Every family has its TYPE and HELP.
        for (name, type) in Self.metricNames {
            #expect(metrics.types[name] == type, "TYPE of \(name): \(metrics.types[name] ?? "missing")")
            #expect(!(metrics.help[name] ?? "").isEmpty, "HELP of \(name) missing")
        }
        #expect(metrics.help["saliencyd_worker_busy_ratio"]?.contains("last 60 s") == true)
        // The serving process: the model and its workspace resident, CPU spent on the traffic, and
        // at least its sockets open.
        #expect((metrics.value("process_resident_memory_bytes", [:]) ?? 0) > 10_000_000)
        #expect((metrics.value("process_cpu_seconds_total", [:]) ?? 0) > 0)
        #expect((metrics.value("process_open_fds", [:]) ?? 0) > 5)

        // Counters equal the traffic.
        let hubLabels = ["source": "hub"], replayLabels = ["source": "replay"]
        #expect(metrics.value("saliencyd_frames_received_total", hubLabels) == Double(goodCount + Self.badFrames.count))
        #expect(metrics.value("saliencyd_frames_published_total", hubLabels) == Double(accepted))
        #expect(metrics.value("saliencyd_frames_dropped_total", ["source": "hub", "reason": "queue_full_new"]) == Double(refused))
        for reason in RejectionReason.allCases {
            #expect(metrics.value("saliencyd_frames_rejected_total", ["source": "hub", "reason": reason.rawValue]) == Double(rejections[reason.rawValue] ?? 0),
                    "rejected \(reason.rawValue)")
            #expect(metrics.value("saliencyd_frames_rejected_total", ["source": "replay", "reason": reason.rawValue]) == 0)
        }
        for reason in DropReason.allCases {
            #expect(metrics.value("saliencyd_frames_dropped_total", ["source": "replay", "reason": reason.rawValue]) == 0)
            if reason != .queueFullNew {
                #expect(metrics.value("saliencyd_frames_dropped_total", ["source": "hub", "reason": reason.rawValue]) == 0)
            }
        }
        #expect(metrics.value("saliencyd_frames_received_total", replayLabels) == 10)
        #expect(metrics.value("saliencyd_frames_published_total", replayLabels) == 10)
        #expect(metrics.value("saliencyd_queue_depth", hubLabels) == 0)
        #expect(metrics.value("saliencyd_queue_depth", replayLabels) == 0)

        // Histograms: one observation per published frame, buckets cumulative up to +Inf = count.
        let published = ["hub": Double(accepted), "replay": 10.0]
        for name in ["saliencyd_queue_latency_seconds", "saliencyd_compute_latency_seconds", "saliencyd_end_to_end_latency_seconds"] {
            for (source, count) in published {
                #expect(metrics.value("\(name)_count", ["source": source]) == count, "\(name)_count{source=\(source)}")
                try Self.checkBuckets(metrics, name, ["source": source], count: count)
            }
        }
        let computeSum = try #require(metrics.value("saliencyd_compute_latency_seconds_sum", hubLabels))
        #expect(computeSum >= 0.1 * Double(accepted), "each hub frame sat in a batch that took at least the 100 ms delay")
        let batches = try #require(metrics.value("saliencyd_batch_size_count"))
        #expect(metrics.value("saliencyd_batch_size_sum") == Double(accepted + 10), "batch sizes add up to the frames computed")
        try Self.checkBuckets(metrics, "saliencyd_batch_size", [:], count: batches)
        #expect(metrics.value("saliencyd_batch_size_bucket", ["le": "4.0"]) == batches, "max_batch is 4")

        // Worker busy time: at least the artificial delay per batch; the ratio a fraction.
        let busy = try #require(metrics.value("saliencyd_worker_busy_seconds_total", ["worker": "0"]))
        #expect(busy >= 0.1 * batches, "busy \(busy) s for \(batches) batches of ≥ 100 ms")
        let ratio = try #require(metrics.value("saliencyd_worker_busy_ratio", ["worker": "0"]))
        #expect(ratio > 0 && ratio <= 1, "busy ratio \(ratio)")

        // The model.
        #expect(metrics.value("saliencyd_model_info", ["name": "fashion-mnist-cnn", "sha256": sha]) == 1)
        #expect(metrics.samples("saliencyd_model_info").count == 1)

        // The daemon's own totals agree.
        let received = metrics.samples("saliencyd_frames_received_total").map(\.value).reduce(0, +)
        let publishedTotal = metrics.samples("saliencyd_frames_published_total").map(\.value).reduce(0, +)
        let dropped = metrics.samples("saliencyd_frames_dropped_total").map(\.value).reduce(0, +)
        let rejected = metrics.samples("saliencyd_frames_rejected_total").map(\.value).reduce(0, +)
        #expect(received == publishedTotal + dropped + rejected)
        #expect(serve.stop() == 0)
        #expect(serve.errors.contains("stopped: received \(Int(received)), published \(Int(publishedTotal)), dropped \(Int(dropped)), rejected \(Int(rejected))"),
                "\(serve.errors)")
    }

    static func checkBuckets(_ metrics: PrometheusText, _ name: String, _ labels: [String: String], count: Double) throws {
        let buckets = metrics.samples("\(name)_bucket", labels).filter { $0.labels.count == labels.count + 1 }
        #expect(buckets.count >= 2, "\(name) has buckets")
        let ordered = buckets.map { (bound: $0.labels["le"] == "+Inf" ? Double.infinity : Double($0.labels["le"] ?? "") ?? .nan, value: $0.value) }
            .sorted { $0.bound < $1.bound }
        #expect(ordered.allSatisfy { !$0.bound.isNaN }, "\(name): every bucket has a numeric le")
        #expect(zip(ordered, ordered.dropFirst()).allSatisfy { $0.value <= $1.value }, "\(name) buckets are cumulative")
        #expect(ordered.last?.bound == .infinity && ordered.last?.value == count, "\(name){le=+Inf} equals the count \(count)")
    }

    /// A metrics address already in use stops serve before anything is announced, naming it.
    @Test func aMetricsAddressInUseIsAStartupError() throws {
        let (first, base) = try Self.startServe(["--source", "name=hub,socket=rep,endpoint=tcp://127.0.0.1:*", "--output", "tcp://127.0.0.1:*"])
        let address = try #require(base.host).appending(":\(try #require(base.port))")
        let second = try ExplainCommandTests.run(["serve", "--source", "name=hub,socket=rep,endpoint=tcp://127.0.0.1:*",
                                                  "--output", "tcp://127.0.0.1:*", "--metrics-address", address])
        #expect(second.status != 0)
        #expect(second.errors.contains("metrics.address: cannot listen on \(address): "), "\(second.errors)")
        #expect(!second.errors.contains("ready:"))
        #expect(first.stop() == 0)
    }

    /// `--metrics-address ""` serves no HTTP at all.
    @Test func anEmptyMetricsAddressTurnsMetricsOff() throws {
        let serve = try RunningProcess(["serve", "--source", "name=hub,socket=rep,endpoint=tcp://127.0.0.1:*", "--output", "tcp://127.0.0.1:*",
                                        "--status-interval", "0", "--metrics-address", ""])
        try #require(serve.waitForErrors { $0.contains("ready: maps on") }, "\(serve.errors)")
        #expect(!serve.errors.contains("metrics:"))
        Self.letSignalHandlersInstall()
        #expect(serve.stop() == 0)
    }

    /// Bad `[metrics]`/`[logging]` settings name the key.
    @Test(arguments: [
        ("[metrics]\naddress = \"localhost\"\n", "metrics.address: 'localhost' is not host:port"),
        ("[metrics]\naddress = \"127.0.0.1:70000\"\n", "metrics.address: '70000' in '127.0.0.1:70000' is not a port"),
        ("[metrics]\naddress = 9560\n", "metrics.address: expected a string"),
        ("[metrics]\nport = 9560\n", "metrics.port: unknown key"),
        ("[logging]\nformat = \"xml\"\n", "logging.format: 'xml' is not a log format"),
        ("[logging]\nlevel = \"loud\"\n", "logging.level: 'loud' is not a log level"),
    ])
    func badObservabilitySettingsNameTheKey(toml: String, message: String) throws {
        let (run, _) = try ServeCommandTests.serve(configuration: toml)
        #expect(run.status != 0)
        #expect(run.errors.contains(message), "expected '\(message)' in: \(run.errors)")
        #expect(!run.errors.contains("ready:"))
    }

    @Test func badObservabilityFlagsNameTheFlag() throws {
        let format = try ExplainCommandTests.run(["serve", "--log-format", "xml"])
        #expect(format.status != 0 && format.errors.contains("--log-format: 'xml' is not a log format"), "\(format.errors)")
        let level = try ExplainCommandTests.run(["serve", "--log-level", "loud"])
        #expect(level.status != 0 && level.errors.contains("--log-level: 'loud' is not a log level"), "\(level.errors)")
    }

    /// Text logs on a pipe: `<level> <label>: message`, no timestamp, no escape sequences.
    @Test func textLogsOnAPipeArePlain() throws {
        let serve = try RunningProcess(["serve", "--source", "name=hub,socket=rep,endpoint=tcp://127.0.0.1:*", "--output", "tcp://127.0.0.1:*",
                                        "--status-interval", "0", "--metrics-address", "127.0.0.1:0"],
                                       environment: ["JOURNAL_STREAM": ""])
        try #require(serve.waitForErrors { $0.contains("ready: maps on") }, "\(serve.errors)")
        Self.letSignalHandlersInstall()
        #expect(serve.stop() == 0)
        let lines = serve.errors.split(separator: "\n").map(String.init)
        #expect(lines.count >= 4)
        let pattern = try NSRegularExpression(pattern: #"^(trace|debug|info|notice|warning|error|critical) saliencyd(\.[a-z]+)?: \S"#)
        for line in lines {
            #expect(pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil, "not '<level> <label>: message': \(line)")
            #expect(!line.contains("\u{1B}"), "escape sequence in \(line)")
        }
    }

    /// `--log-format json`: every stderr line is one JSON object with the five keys.
    @Test func jsonLogsAreOneObjectPerLine() throws {
        let serve = try RunningProcess(["serve", "--source", "name=hub,socket=rep,endpoint=tcp://127.0.0.1:*", "--output", "tcp://127.0.0.1:*",
                                        "--status-interval", "0", "--metrics-address", "127.0.0.1:0", "--log-format", "json"])
        try #require(serve.waitForErrors { $0.contains("ready: maps on") }, "\(serve.errors)")
        Self.letSignalHandlersInstall()
        #expect(serve.stop() == 0)
        let lines = serve.errors.split(separator: "\n")
        #expect(lines.count >= 5, "\(serve.errors)")
        var messages: [String] = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
            #expect(Set(object.keys) == ["time", "level", "label", "message", "metadata"], "\(line)")
            #expect((object["time"] as? String).map { ISO8601DateFormatter.withFractionalSeconds.date(from: $0) != nil } == true, "time in \(line)")
            #expect(object["metadata"] is [String: Any])
            messages.append(object["message"] as? String ?? "")
        }
        #expect(messages.contains { $0.hasPrefix("ready: maps on") })
        #expect(messages.contains { $0.hasPrefix("stopped: received 0") })
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
