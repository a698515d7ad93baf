import Engine
import Foundation
@testable import Pipeline
import Testing

/// A running pipeline on the bundled model with real ZeroMQ sockets (tcp loopback on wildcard
/// ports, or ipc), and a subscriber on its output.
final class StreamingHarness {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let bundle: ModelBundle = try! ModelBundle.load(repository.appendingPathComponent("models/fashion-mnist-cnn.onnx"))
    /// The bundled samples as 28×28 grey images, and their labels.
    static let samples: ImageDataset = try! ImageDataset.load(repository.appendingPathComponent("models/samples/samples.npy").path)
    static func samplePNG(_ index: Int) throws -> [UInt8] {
        let names = try FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("models/samples").path)
            .filter { $0.hasSuffix(".png") }.sorted()
        return Array(try Data(contentsOf: repository.appendingPathComponent("models/samples/\(names[index])")))
    }

    let context = ZeroMQContext()
    let pipeline: SaliencyPipeline
    let subscriber: ZeroMQSocket

    init(sources: [SourceConfiguration], workers: WorkerConfiguration = WorkerConfiguration(count: 2),
         output: OutputConfiguration = OutputConfiguration(endpoint: "tcp://127.0.0.1:*"), limits: IngestLimits = IngestLimits()) throws {
        pipeline = try SaliencyPipeline(
            configuration: PipelineConfiguration(sources: sources, workers: workers, output: output, limits: limits),
            bundle: Self.bundle)
        try pipeline.start()
        subscriber = try ZeroMQSocket(context, type: output.socketType == .pub ? .sub : .pull)
        if output.socketType == .pub { try subscriber.subscribe("") }
        try subscriber.setReceiveTimeout(milliseconds: 100)
        try subscriber.connect(pipeline.outputEndpoint)
        // PUB/SUB: the subscription must reach the publisher before the first result.
        Thread.sleep(forTimeInterval: 0.3)
    }

    deinit {
        pipeline.stop(drainTimeout: .seconds(5))
        subscriber.close()
    }

    /// The endpoint a source bound, resolved.
    func endpoint(_ source: String) -> String { pipeline.sourceEndpoints[source]![0] }

    /// A sending socket connected to `source`'s bound endpoint.
    func sender(_ type: ZeroMQSocketType, to source: String) throws -> ZeroMQSocket {
        let socket = try ZeroMQSocket(context, type: type)
        try socket.setReceiveTimeout(milliseconds: 10_000)
        try socket.setSendTimeout(milliseconds: 10_000)
        try socket.connect(endpoint(source))
        return socket
    }

    /// Receives until `count` messages arrived or `timeout` passed.
    func collect(_ count: Int, timeout: Duration = .seconds(60)) throws -> [MapsMessage.Parsed] {
        var result: [MapsMessage.Parsed] = []
        let deadline = Date().addingTimeInterval(timeout.timeInterval)
        while result.count < count && Date() < deadline {
            guard let frames = try subscriber.receive() else { continue }
            result.append(try MapsMessage.parse(frames))
        }
        return result
    }

    /// Waits until the statistics say every received message is accounted for.
    func settle(timeout: Duration = .seconds(60)) {
        let deadline = Date().addingTimeInterval(timeout.timeInterval)
        while Date() < deadline {
            let snapshot = pipeline.statistics.snapshot()
            if snapshot.sources.values.allSatisfy({ $0.inFlight == 0 }) { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// The maps the engine computes for one prepared tensor on its own (batch 1).
    static func referenceMaps(_ tensor: [Float], methods: [SaliencyMethod]) throws -> (predicted: Int, maps: [[Float]]) {
        let workspace = Workspace(model: bundle.model, maxBatch: 1, maxCotangents: bundle.model.classCount)
        try workspace.forward(tensor, batch: 1)
        try workspace.backward(.allClasses)
        return (workspace.predictedClass(frame: 0), methods.map { SaliencyMaps.compute($0, workspace: workspace, frame: 0)! })
    }
}

extension MapsMessage.Parsed {
    var maps: MapsMessage? { if case let .maps(message) = self { message } else { nil } }
    var error: ErrorEventHeader? { if case let .error(_, event) = self { event } else { nil } }
}

/// Expects two maps to agree within `1e-5 · max|reference|` (batched GEMMs may sum in another order).
func expectMapsClose(_ actual: [Float], _ reference: [Float], _ comment: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let scale = max(reference.map(abs).max() ?? 0, 1e-12)
    #expect(actual.count == reference.count, "\(comment): size", sourceLocation: sourceLocation)
    let worst = zip(actual, reference).map { abs($0 - $1) }.max() ?? 0
    #expect(worst <= 1e-5 * scale, "\(comment): max difference \(worst) of \(scale)", sourceLocation: sourceLocation)
}
