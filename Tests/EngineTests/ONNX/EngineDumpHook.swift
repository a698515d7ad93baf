import Foundation
import Testing
@testable import Engine

/// Not a check: the engine side of `tools/fixtures/explain_jacobian_mismatch.py`, which runs it
/// as `SALIENCYD_ENGINE_DUMP=DIR swift test -c release -Xswiftc -enable-testing --filter EngineDumpHook`.
/// Skipped unless `SALIENCYD_ENGINE_DUMP` is set.
///
/// `DIR/request.json` is `{"model": PATH, "input": PATH, "tensors": [NAME, …]}` (an ONNX model,
/// a float32 `B×C×H×W` `.npy`, and ONNX tensor names). The hook runs the forward pass and the
/// whole Jacobian (all classes) exactly as `GoldenFixtureTests` does and writes
///
///     DIR/logits.npy        float32 B×K
///     DIR/jacobian.npy      float32 B×K×C×H×W
///     DIR/tensors/<i>.npy   float32 B×…, the engine's forward values of tensors[i]
///     DIR/dump.json         {"tensors": [{"name", "file", "shape"} or {"name", "missing": true}]}
///
/// A tensor is missing when the engine has no twin for it (folded away at import).
@Suite struct EngineDumpHook {
    static let directory = ProcessInfo.processInfo.environment["SALIENCYD_ENGINE_DUMP"]

    struct Request: Decodable { var model: String; var input: String; var tensors: [String] }
    struct Entry: Encodable { var name: String; var file: String?; var shape: [Int]?; var missing: Bool? }
    struct Summary: Encodable { var tensors: [Entry] }

    @Test(.enabled(if: directory != nil, "SALIENCYD_ENGINE_DUMP is not set"))
    func dumpLogitsJacobianAndTensors() throws {
        let folder = URL(fileURLWithPath: try #require(Self.directory), isDirectory: true)
        let request = try JSONDecoder().decode(Request.self, from: Data(contentsOf: folder.appendingPathComponent("request.json")))
        let imported = try ONNXImporter.load(contentsOf: URL(fileURLWithPath: request.model))
        let model = try CompiledModel(imported.graph)
        let input = try NumpyArray(contentsOf: URL(fileURLWithPath: request.input))
        let batch = input.shape[0], classes = model.classCount
        let workspace = Workspace(model: model, maxBatch: batch)
        try workspace.forward(input.values, batch: batch)
        try NumpyArray.write(Array(workspace.logits), shape: [batch, classes],
                             to: folder.appendingPathComponent("logits.npy"))

        let tensorFolder = folder.appendingPathComponent("tensors", isDirectory: true)
        try FileManager.default.createDirectory(at: tensorFolder, withIntermediateDirectories: true)
        var entries: [Entry] = []
        for (index, name) in request.tensors.enumerated() {
            guard let tensor = model.tensorNames.firstIndex(of: name) else {
                entries.append(Entry(name: name, missing: true))
                continue
            }
            let shape = [batch] + model.tensorShapes[tensor].dimensions
            try NumpyArray.write(Array(workspace.values(ofTensor: tensor)), shape: shape,
                                 to: tensorFolder.appendingPathComponent("\(index).npy"))
            entries.append(Entry(name: name, file: "tensors/\(index).npy", shape: shape))
        }

        try workspace.backward(.allClasses)
        try NumpyArray.write(Array(workspace.inputGradient), shape: [batch, classes] + model.inputShape.dimensions,
                             to: folder.appendingPathComponent("jacobian.npy"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(Summary(tensors: entries)).write(to: folder.appendingPathComponent("dump.json"))
    }
}
