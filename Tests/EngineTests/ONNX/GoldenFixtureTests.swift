import Foundation
import Testing
@testable import Engine

/// Models exported from PyTorch by `tools/fixtures/make_fixtures.py`, with the logits, full
/// Jacobians and maps PyTorch computed and the per-node outputs onnxruntime computed. The engine
/// must match: logits within 1e-4 of the largest logit, Jacobians within 1e-3 of the largest
/// entry, per-node outputs within 1e-4 of each tensor's largest value.
@Suite struct GoldenFixtureTests {
    static let root: URL = {
        if let override = ProcessInfo.processInfo.environment["SALIENCYD_FIXTURES"] { return URL(fileURLWithPath: override) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fixtures/onnx").standardizedFileURL
    }()

    static var fixtures: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().filter {
            FileManager.default.fileExists(atPath: root.appendingPathComponent($0).appendingPathComponent("model.onnx").path)
        }
    }

    @Test func fixturesArePresent() {
        #expect(Self.fixtures.count >= 2, "no golden fixtures under \(Self.root.path)")
    }

    private func array(_ folder: URL, _ name: String) throws -> NumpyArray {
        try NumpyArray(contentsOf: folder.appendingPathComponent(name))
    }

    @Test(arguments: fixtures)
    func logitsJacobiansAndMapsMatchPyTorch(_ fixture: String) throws {
        let folder = Self.root.appendingPathComponent(fixture)
        let imported = try ONNXImporter.load(contentsOf: folder.appendingPathComponent("model.onnx"))
        let model = try CompiledModel(imported.graph)
        let input = try array(folder, "input.npy")
        let batch = input.shape[0], classes = model.classCount, frame = model.inputCount
        #expect(Array(input.shape.dropFirst()) == model.inputShape.dimensions)
        let workspace = Workspace(model: model, maxBatch: batch)
        try workspace.forward(input.values, batch: batch)

        let logits = try array(folder, "logits.npy")
        expectCloseRelativeToMax(workspace.logits, logits.values, tolerance: 1e-4, "\(fixture) logits")

        try workspace.backward(.allClasses)
        let jacobian = try array(folder, "jacobian.npy")
        #expect(jacobian.shape == [batch, classes] + model.inputShape.dimensions)
        expectCloseRelativeToMax(workspace.inputGradient, jacobian.values, tolerance: 1e-3, "\(fixture) Jacobian")

        // The maps: our definition applied to PyTorch's Jacobian must give PyTorch's maps exactly;
        // applied to our own Jacobian, the values agree to the Jacobian's tolerance wherever the
        // per-element class comparisons are not near-ties.
        let plane = frame / model.inputShape[0]
        for method in SaliencyMethod.allCases {
            let expected = try array(folder, "maps/\(method.rawValue).npy")
            #expect(expected.shape == [batch] + Array(model.inputShape.dimensions.dropFirst()))
            for b in 0..<batch {
                let target = workspace.predictedClass(frame: b)
                let reference = Array(expected.values[(b * plane)..<((b + 1) * plane)])
                var fromPyTorch = [Float](repeating: 0, count: plane)
                jacobian.values.withUnsafeBufferPointer { j in
                    SaliencyMaps.compute(method, gradients: j.baseAddress! + b * classes * frame, target: target,
                                         rows: classes, shape: model.inputShape, into: &fromPyTorch)
                }
                expectClose(fromPyTorch, reference, rtol: 0, atol: 0, "\(fixture) \(method) map of frame \(b) from PyTorch's Jacobian")
                let ours = SaliencyMaps.compute(method, workspace: workspace, frame: b) ?? []
                let scale = reference.map(abs).max() ?? 0
                let differing = zip(ours, reference).filter { abs($0 - $1) > 1e-3 * scale }.count
                #expect(Double(differing) <= 0.01 * Double(plane),
                        "\(fixture) \(method) map of frame \(b): \(differing) of \(plane) pixels differ from PyTorch's")
            }
        }
    }

    /// Per-node outputs against onnxruntime, so a mismatch points at the node that causes it.
    /// Compiled without activation fusion, so every activation keeps its own output to compare
    /// (the fused models are checked end to end above).
    @Test(arguments: fixtures.filter {
        FileManager.default.fileExists(atPath: root.appendingPathComponent($0).appendingPathComponent("nodes/index.json").path)
    })
    func perNodeOutputsMatchOnnxRuntime(_ fixture: String) throws {
        struct Entry: Decodable { var index: Int; var node_name: String; var op_type: String; var output_name: String }
        let folder = Self.root.appendingPathComponent(fixture)
        let entries = try JSONDecoder().decode([Entry].self, from: Data(contentsOf: folder.appendingPathComponent("nodes/index.json")))
        let imported = try ONNXImporter.load(contentsOf: folder.appendingPathComponent("model.onnx"))
        let model = try CompiledModel(imported.graph, fusingActivations: false)
        let input = try array(folder, "input.npy")
        let workspace = Workspace(model: model, maxBatch: input.shape[0])
        try workspace.forward(input.values, batch: input.shape[0])
        var compared = 0
        for entry in entries {
            // Tensors folded away (a convolution's output before its batch norm) have no engine twin.
            guard let tensor = model.tensorNames.firstIndex(of: entry.output_name) else { continue }
            let expected = try array(folder, "nodes/\(entry.index).npy")
            expectCloseRelativeToMax(workspace.values(ofTensor: tensor), expected.values, tolerance: 1e-4,
                                     "\(fixture): node \(entry.node_name) (\(entry.op_type)) output \(entry.output_name)")
            compared += 1
        }
        #expect(compared >= entries.count / 2, "only \(compared) of \(entries.count) node outputs were comparable")
    }
}
