import Foundation
import Pipeline
import Testing

/// `saliencyd serve` as systemd runs it: the notify protocol, the watchdog, SIGTERM's drain and
/// SIGHUP's reload — the built binary, a real notify socket, real ZeroMQ senders.
@Suite(.serialized) struct ServiceTests {
    static let serveArguments = ["serve", "--output", "tcp://127.0.0.1:*", "--status-interval", "0.3", "--metrics-address", "127.0.0.1:0"]

    static func source(_ serve: RunningProcess, _ name: String, _ type: String = "REP") throws -> String {
        _ = serve.waitForErrors { $0.contains("ready: maps on") }
        return try #require(serve.firstMatch("source \(name): \(type) bound to (tcp://[0-9.]+:[0-9]+)"), "\(serve.errors)")
    }

    static func frame(_ index: Int) -> [[UInt8]] {
        let sample = Image(width: 28, height: 28, channels: 1, pixels: (0..<784).map { UInt8(($0 * 7 + index * 13) % 256) })
        return ImageMessages.array(msg: .integer(Int64(index)), image: sample)
    }

    @Test(arguments: [false, true])
    func notifiesReadyStatusWatchdogAndStopping(abstract: Bool) throws {
        let listener = try NotifyListener(abstract: abstract)
        let serve = try RunningProcess(Self.serveArguments + ["--source", "name=hub,socket=rep,endpoint=tcp://127.0.0.1:*"],
                                       environment: ["NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "400000"])
        #expect(listener.wait(for: "READY=1") != nil, "no READY=1: \(serve.errors)")
        // READY=1 means bound: a frame sent right now is accepted.
        let endpoint = try Self.source(serve, "hub")
        let context = ZeroMQContext()
        let sender = try ZeroMQSocket(context, type: .req)
        try sender.setReceiveTimeout(milliseconds: 30_000)
        try sender.connect(endpoint)
        try sender.send(Self.frame(0))
        #expect(try sender.receive() == [Array("OK".utf8)])
        let watchStart = Date()
        Thread.sleep(forTimeInterval: 2)
        let pings = listener.times(of: "WATCHDOG=1").filter { $0 >= watchStart && $0 <= watchStart.addingTimeInterval(2) }
        // Every WATCHDOG_USEC/2 = 0.2 s: about 10 in 2 s.
        #expect((7...13).contains(pings.count), "\(pings.count) WATCHDOG=1 in 2 s, expected about 10")
        let statuses = listener.messages.flatMap(\.lines).filter { $0.hasPrefix("STATUS=") }
        #expect(statuses.contains { $0.contains("frames/s") && $0.contains("published 1") }, "\(statuses.suffix(3))")
        #expect(serve.stop() == 0)
        #expect(listener.wait(for: "STOPPING=1", timeout: 5) != nil)
    }

    @Test func aWedgedWorkerStopsTheWatchdogPings() throws {
        let listener = try NotifyListener(abstract: false)
        let serve = try RunningProcess(
            Self.serveArguments + ["--source", "name=hub,socket=rep,endpoint=tcp://127.0.0.1:*", "--workers", "1",
                                   "--max-batch", "1", "--stall-timeout", "0.5", "--drain-timeout", "1", "--debug-wedge-after-batches", "1"],
            environment: ["NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "200000"])
        #expect(listener.wait(for: "READY=1") != nil, "\(serve.errors)")
        let context = ZeroMQContext()
        let sender = try ZeroMQSocket(context, type: .req)
        try sender.setReceiveTimeout(milliseconds: 30_000)
        try sender.connect(try Self.source(serve, "hub"))
        for index in 0..<2 {
            try sender.send(Self.frame(index))
            #expect(try sender.receive() == [Array("OK".utf8)])
        }
        // The first batch goes through; the worker wedges on the second.
        #expect(listener.wait(for: "STATUS=stuck: worker 0 has been on one batch", timeout: 10) != nil, "\(serve.errors)")
        let quietStart = Date()
        Thread.sleep(forTimeInterval: 1.5)
        let pings = listener.times(of: "WATCHDOG=1").filter { $0 > quietStart }
        #expect(pings.isEmpty, "\(pings.count) pings while a worker was wedged")
        #expect(serve.errors.contains("watchdog: not pinging systemd: worker 0 has been on one batch"))
        #expect(serve.stop() == 0, "SIGTERM still exits 0 once the drain times out")
        #expect(serve.errors.contains("drain timed out"), "\(serve.errors)")
    }

    @Test func sigtermDuringALosslessReplayPublishesEveryAcceptedFrame() throws {
        let serve = try RunningProcess(
            Self.serveArguments + ["--source", "name=replay,socket=rep,endpoint=tcp://127.0.0.1:*,queue_capacity=8", "--workers", "1",
                                   "--max-batch", "1", "--debug-worker-delay-ms", "30", "--drain-timeout", "30"])
        try #require(serve.waitForErrors { $0.contains("ready: maps on") })
        let output = try #require(serve.firstMatch(#"ready: maps on (tcp://[0-9.]+:[0-9]+)"#))
        let context = ZeroMQContext()
        let tap = try ZeroMQSocket(context, type: .sub)
        try tap.subscribe("")
        try tap.setReceiveTimeout(milliseconds: 200)
        try tap.connect(output)
        Thread.sleep(forTimeInterval: 0.3)
        let sender = try ZeroMQSocket(context, type: .req)
        try sender.setReceiveTimeout(milliseconds: 10_000)
        try sender.connect(try Self.source(serve, "replay"))
        var accepted = 0
        for index in 0..<12 {
            try sender.send(Self.frame(index))
            guard try sender.receive() == [Array("OK".utf8)] else { break }
            accepted += 1
        }
        // Up to 8 frames wait in the queue when the signal arrives.
        kill(serve.process.processIdentifier, SIGTERM)
        var seqs: [UInt64] = []
        let deadline = Date().addingTimeInterval(30)
        while seqs.count < accepted && Date() < deadline {
            if let frames = try tap.receive(), case let .maps(message) = try MapsMessage.parse(frames) { seqs.append(message.header.seq) }
        }
        #expect(seqs == (0..<UInt64(accepted)).map { $0 }, "published \(seqs.count) of \(accepted) accepted")
        #expect(serve.stop(timeout: 30) == 0)
        #expect(serve.errors.contains("published \(accepted), dropped 0"), "\(serve.errors)")
    }

    /// Writes a configuration with the given model and extra text.
    static func writeConfig(_ file: URL, model: String, extra: String = "") throws {
        try """
        [model]
        path = "\(model)"
        [output]
        endpoint = "tcp://127.0.0.1:*"
        [service]
        status_interval_s = 0
        [[sources]]
        name = "hub"
        socket = "rep"
        endpoints = ["tcp://127.0.0.1:*"]
        \(extra)
        """.write(to: file, atomically: true, encoding: .utf8)
    }

    @Test func sighupSwapsTheModelWithoutLosingFramesAndRejectsABrokenConfiguration() throws {
        let folder = try ExplainCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("serve.toml")
        let root = ExplainCommandTests.repository.path
        let first = "\(root)/models/fashion-mnist-cnn.onnx", second = "\(root)/Tests/Fixtures/onnx/paper-cnn-torchscript/model.onnx"
        try Self.writeConfig(config, model: first)
        let listener = try NotifyListener(abstract: true)
        let serve = try RunningProcess(["serve", "--config", config.path, "--metrics-address", "127.0.0.1:0"], environment: ["NOTIFY_SOCKET": listener.address])
        try #require(listener.wait(for: "READY=1") != nil, "\(serve.errors)")
        let output = try #require(serve.firstMatch(#"ready: maps on (tcp://[0-9.]+:[0-9]+)"#))
        let endpoint = try Self.source(serve, "hub")
        let context = ZeroMQContext()
        let tap = try ZeroMQSocket(context, type: .sub)
        try tap.subscribe("saliency/hub")
        try tap.setReceiveTimeout(milliseconds: 200)
        try tap.connect(output)
        Thread.sleep(forTimeInterval: 0.3)
        let sender = try ZeroMQSocket(context, type: .req)
        try sender.setReceiveTimeout(milliseconds: 30_000)
        try sender.connect(endpoint)
        func send(_ range: Range<Int>) throws {
            for index in range {
                try sender.send(Self.frame(index))
                #expect(try sender.receive() == [Array("OK".utf8)], "frame \(index)")
            }
        }
        try send(0..<10)
        try Self.writeConfig(config, model: second)
        kill(serve.process.processIdentifier, SIGHUP)
        try send(10..<20)  // sent while the reload runs: held by ZeroMQ, then served
        #expect(serve.waitForErrors { $0.contains("reloaded: serving") }, "\(serve.errors)")
        // "reloaded:" is logged inside the swap; READY=1 follows it.
        let readyAgain = Date().addingTimeInterval(30)
        while listener.times(of: "READY=1").count < 2 && Date() < readyAgain { Thread.sleep(forTimeInterval: 0.01) }
        #expect(listener.times(of: "RELOADING=1").count == 1 && listener.times(of: "READY=1").count == 2)
        try send(20..<30)
        // A broken configuration: logged with its key, the running one stays.
        try Self.writeConfig(config, model: second, extra: "queue_capacity = \"many\"")
        kill(serve.process.processIdentifier, SIGHUP)
        #expect(serve.waitForErrors { $0.contains("reload rejected") }, "\(serve.errors)")
        #expect(serve.errors.contains("sources[0].queue_capacity: expected an integer"), "\(serve.errors)")
        try send(30..<35)
        var messages: [MapsMessage] = []
        let deadline = Date().addingTimeInterval(60)
        while messages.count < 35 && Date() < deadline {
            if let frames = try tap.receive(), case let .maps(message) = try MapsMessage.parse(frames) { messages.append(message) }
        }
        #expect(messages.map(\.header.seq) == (0..<35).map { UInt64($0) }, "every frame published once, in order, seq continuing")
        let hashes = messages.map(\.header.model.sha256)
        let firstHash = try #require(hashes.first)
        let switchAt = try #require(hashes.firstIndex { $0 != firstHash }, "no message carried the new model's hash")
        #expect(switchAt >= 10 && switchAt <= 20, "the new model took over at message \(switchAt)")
        #expect(hashes[switchAt...].allSatisfy { $0 == hashes[switchAt] }, "after the swap every message carries the new hash")
        #expect(serve.stop() == 0)
    }
}
