import Foundation
import Testing

/// `saliencyd serve`, `send` and `tap` as a user runs them: the built binaries, real sockets.
@Suite(.serialized) struct ServeCommandTests {
    /// Runs `serve --config` on `toml` written to a temporary file (removed afterwards); returns
    /// the run and the file's path.
    static func serve(configuration toml: String) throws -> (ExplainCommandTests.Run, path: String) {
        let folder = try ExplainCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("bad.toml")
        try toml.write(to: file, atomically: true, encoding: .utf8)
        return (try ExplainCommandTests.run(["serve", "--config", file.path]), file.path)
    }

    /// Starts serve on wildcard ports; returns it with its resolved source and output endpoints.
    static func startServe(_ extra: [String] = []) throws -> (RunningProcess, source: String, output: String) {
        let serve = try RunningProcess(["serve", "--source", "name=hub,socket=rep,endpoint=tcp://127.0.0.1:*",
                                        "--output", "tcp://127.0.0.1:*", "--status-interval", "0", "--workers", "2",
                                        // A free port, not the default 9560: suites run in parallel.
                                        "--metrics-address", "127.0.0.1:0"] + extra)
        let ready = serve.waitForErrors { $0.contains("ready: maps on") }
        try #require(ready, "serve did not become ready: \(serve.errors)")
        let source = try #require(serve.firstMatch(#"source hub: REP bound to (tcp://[0-9.]+:[0-9]+)"#))
        let output = try #require(serve.firstMatch(#"ready: maps on (tcp://[0-9.]+:[0-9]+)"#))
        return (serve, source, output)
    }

    @Test func sendServeTapEndToEnd() throws {
        let (serve, source, output) = try Self.startServe()
        let folder = try ExplainCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tap = try RunningProcess(["tap", "--endpoint", output, "--count", "10", "--idle-timeout", "60", "--save", folder.path])
        Thread.sleep(forTimeInterval: 0.5)
        let send = try ExplainCommandTests.run(["send", "--endpoint", source, "--msg", "test-camera", "models/samples/samples.npy"])
        #expect(send.status == 0, "send failed: \(send.errors)")
        #expect(send.output.contains("sent 10 message(s)") && send.output.contains("10 OK, 0 refused"), "\(send.output)")
        let deadline = Date().addingTimeInterval(60)
        while tap.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(tap.process.terminationStatus == 0, "tap: \(tap.errors)")
        let lines = tap.output.split(separator: "\n")
        #expect(lines.count == 10)
        let labels = try String(contentsOf: ExplainCommandTests.repository.appendingPathComponent("models/samples/labels.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        for (index, line) in lines.enumerated() {
            #expect(line.hasPrefix("hub seq \(index): "), "\(line)")
            #expect(line.contains("msg \"test-camera\""))
            // The bundled samples are chosen to be classified correctly: the label shows up.
            let name = try #require(labels[index].split(separator: "\t").last)
            #expect(line.contains(": \(name) (class "), "\(line) vs \(labels[index])")
        }
        let saved = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(saved.filter { $0.hasSuffix(".npy") }.count == 50 && saved.filter { $0.hasSuffix(".png") }.count == 50,
                "five maps per message as .npy and .png: \(saved.count) files")
        #expect(serve.stop() == 0)
        #expect(serve.errors.contains("stopped: received 10, published 10, dropped 0, rejected 0"), "\(serve.errors)")
    }

    @Test func serveRefusesAPortInUseNamingIt() throws {
        let (first, source, _) = try Self.startServe()
        let second = try ExplainCommandTests.run(["serve", "--source", "name=hub,socket=rep,endpoint=\(source)",
                                                   "--output", "tcp://127.0.0.1:*", "--status-interval", "0",
                                                   "--metrics-address", "127.0.0.1:0"])
        #expect(second.status != 0)
        #expect(second.errors.contains("source hub: cannot open \(source): Address already in use"), "\(second.errors)")
        #expect(first.stop() == 0)
    }

    /// Bad configurations: non-zero exit, a message naming the key, nothing bound.
    @Test(arguments: [
        ("[workers]\ncuont = 2\n", "workers.cuont: unknown key"),
        ("[workers]\nmax_batch = \"8\"\n", "workers.max_batch: expected an integer"),
        ("[workers]\nmax_batch = 0\n", "workers.max_batch: must be at least 1"),
        ("[output]\nencoding = \"f64\"\n", "output.encoding: 'f64' is not a map encoding"),
        ("[output]\nmaps = [\"positive\", \"wrong\"]\n", "output.maps: 'wrong' is not a map"),
        ("[[sources]]\nendpoints = [\"tcp://127.0.0.1:5555\"]\n", "sources[0].name: every source needs a name"),
        ("[[sources]]\nname = \"a\"\npolicy = \"newest\"\n", "sources[0].policy: 'newest' is not a backpressure policy"),
        ("[[sources]]\nname = \"a\"\nsocket = \"dealer\"\n", "sources[0].socket: 'dealer' is not a source socket type"),
        ("[[sources]]\nname = \"a\"\n[[sources]]\nname = \"a\"\n", "sources[1].name: 'a' names two sources"),
        ("[[sources]]\nname = \"a\"\nqueue_capacity = -1\n", "sources[0].queue_capacity: must be at least 1"),
        ("[[sources]]\nname = \"a\"\nendpoints = [\"localhost\"]\n", "sources[0].endpoints: give at least one endpoint"),
        ("[[sources]]\nname = \"a\"\nsocket = \"pull\"\ntopic = \"x\"\n", "sources[0].topic: only a SUB source"),
        ("[service]\ndrain_timeout_s = -3\n", "service.drain_timeout_s: must not be negative"),
        ("[model]\npath = 3\n", "model.path: expected a string"),
        ("extra = true\n", "extra: unknown key"),
        ("[workers\n", "not valid TOML"),
    ])
    func badConfigurationsNameTheKey(toml: String, message: String) throws {
        let (run, path) = try Self.serve(configuration: toml)
        #expect(run.status != 0)
        #expect(run.errors.contains(message), "expected '\(message)' in: \(run.errors)")
        #expect(run.errors.contains(path))
        #expect(!run.errors.contains("ready:"), "nothing may be bound with a bad configuration")
    }

    @Test func badFlagsNameTheFlag() throws {
        let run = try ExplainCommandTests.run(["serve", "--source", "name=a,colour=blue"])
        #expect(run.status != 0 && run.errors.contains("--source colour: unknown key"), "\(run.errors)")
        let batch = try ExplainCommandTests.run(["serve", "--max-batch", "0"])
        #expect(batch.status != 0 && batch.errors.contains("workers.max_batch: must be at least 1"), "\(batch.errors)")
    }

    @Test func aConfigurationFileWithTwoSourcesServesBoth() throws {
        let folder = try ExplainCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("two.toml")
        try """
        [output]
        endpoint = "tcp://127.0.0.1:*"
        maps = ["positive", "negative"]
        encoding = "u8"

        [service]
        status_interval_s = 0

        [metrics]
        address = "127.0.0.1:0"

        [[sources]]
        name = "replay"
        socket = "pull"
        endpoints = ["tcp://127.0.0.1:*"]

        [[sources]]
        name = "hub"
        socket = "rep"
        endpoints = ["tcp://127.0.0.1:*"]
        """.write(to: file, atomically: true, encoding: .utf8)
        let serve = try RunningProcess(["serve", "--config", file.path, "--metrics-address", "127.0.0.1:0"])
        try #require(serve.waitForErrors { $0.contains("ready: maps on") }, "\(serve.errors)")
        let replay = try #require(serve.firstMatch(#"source replay: PULL bound to (tcp://[0-9.]+:[0-9]+)"#))
        let hub = try #require(serve.firstMatch(#"source hub: REP bound to (tcp://[0-9.]+:[0-9]+)"#))
        let output = try #require(serve.firstMatch(#"ready: maps on (tcp://[0-9.]+:[0-9]+)"#))
        let tap = try RunningProcess(["tap", "--endpoint", output, "--count", "4", "--json", "--idle-timeout", "60"])
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try ExplainCommandTests.run(["send", "--socket", "push", "--endpoint", replay, "models/samples/samples.npy", "--count", "2"]).status == 0)
        #expect(try ExplainCommandTests.run(["send", "--endpoint", hub, "models/samples/samples.npy", "--count", "2"]).status == 0)
        let deadline = Date().addingTimeInterval(60)
        while tap.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let headers = tap.output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(headers.count == 4)
        #expect(Set(headers.compactMap { $0["source"] as? String }) == ["replay", "hub"])
        let maps = headers.compactMap { $0["maps"] as? [[String: Any]] }
        #expect(maps.allSatisfy { $0.compactMap { $0["name"] as? String } == ["positive", "negative"] })
        #expect(maps.allSatisfy { $0.allSatisfy { ($0["dtype"] as? String) == "uint8" } })
        #expect(serve.stop() == 0)
    }
}
