import Foundation
import Testing
@testable import Engine

/// The ONNX project's backend node tests (Debian's `libonnx-testdata`) for every operator the
/// engine implements: each model is imported, run on its test inputs and compared with the
/// expected outputs within the suite's tolerances (rtol 1e-3, atol 1e-7).
///
/// The suite feeds weights and second operands as graph inputs. The first input's leading axis
/// is the batch axis. The runner binds an input to its test value as a constant when a node
/// needs a constant there (weights, shapes, bounds) or when it does not share the batch axis
/// (a broadcast operand); every other input is fed per frame as an auxiliary activation. Tests the importer refuses are listed with the reason, and must be
/// exactly the ones in `ConformanceExclusions.txt` beside this file — a new refusal, or a listed
/// test that now runs, fails the test, so the list stays true.
@Suite struct ConformanceTests {
    static let root = URL(fileURLWithPath: "/usr/share/libonnx-testdata/data/node")

    /// The operators whose conformance tests are run (the translated ones, not shape helpers).
    static let engineOperators: Set<String> = [
        "Conv", "BatchNormalization", "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Add", "Sub",
        "Mul", "Div", "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "Concat", "Flatten", "Reshape",
        "Gemm", "MatMul", "Identity", "Dropout", "Softmax",
    ]

    enum Outcome: Equatable {
        case passed
        case failed(String)
        case refused(String)
    }

    /// Runs one test folder: every `test_data_set_*` in it.
    static func run(_ folder: URL) -> Outcome {
        let modelURL = folder.appendingPathComponent("model.onnx")
        let file: ONNXModelFile
        do { file = try ONNXModelFile(contentsOf: modelURL) } catch { return .refused(error.description) }
        let graph = file.model.graph
        let initializers = Set(graph.initializer.map(\.name))
        let inputNames = graph.input.map(\.name).filter { !initializers.contains($0) }
        let sets = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasPrefix("test_data_set_") }.sorted()
        guard !sets.isEmpty, !inputNames.isEmpty, let outputName = graph.output.first?.name else {
            return .refused("no test data")
        }
        for set in sets {
            let data = folder.appendingPathComponent(set)
            do {
                var inputs: [ONNXTensorData] = []
                for index in inputNames.indices {
                    inputs.append(try ONNXTensorData(contentsOf: data.appendingPathComponent("input_\(index).pb")))
                }
                let expected = try ONNXTensorData(contentsOf: data.appendingPathComponent("output_0.pb"))
                var options = ONNXImportOptions()
                var auxiliary: [[Float]] = []
                let batchDims = inputs[0].dims
                for (name, tensor) in zip(inputNames.dropFirst(), inputs.dropFirst()) {
                    let sharesBatch = tensor.dims.count == batchDims.count && tensor.dims.first == batchDims.first
                        && [.float, .double, .float16].contains(tensor.dataType)
                    if sharesBatch && !constantSlot(name, in: graph) {
                        auxiliary.append(try tensor.floats())
                    } else {
                        options.boundInputs[name] = tensor.constant
                    }
                }
                guard graph.output.count == 1 || graph.output.dropFirst().allSatisfy({ name in
                    !FileManager.default.fileExists(atPath: data.appendingPathComponent("output_1.pb").path) || name.name.isEmpty
                }) else { return .refused("the engine runs graphs with one output; this test checks \(graph.output.count)") }
                let imported: ImportedModel
                do {
                    imported = try ONNXImporter.load(contentsOf: modelURL, options: options)
                } catch {
                    return .refused(error.reason)
                }
                _ = outputName
                let model: CompiledModel
                do { model = try CompiledModel(imported.graph) } catch { return .refused(error.description) }
                let input = try inputs[0].floats()
                guard let batch = inputs[0].dims.first, batch > 0 else { return .refused("the input has no batch axis") }
                let workspace = Workspace(model: model, maxBatch: batch, maxCotangents: 1)
                let buffers = auxiliary.map { values in
                    let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
                    _ = buffer.initialize(from: values)
                    return buffer
                }
                defer { buffers.forEach { $0.deallocate() } }
                try input.withUnsafeBufferPointer {
                    try workspace.forward($0, batch: batch, auxiliary: buffers.map { UnsafeBufferPointer($0) })
                }
                let actualDims = [batch] + model.tensorShapes[model.outputTensor].dimensions
                guard actualDims == expected.dims else {
                    return .failed("\(set): output shape \(actualDims), expected \(expected.dims)")
                }
                let want = try expected.floats(), got = Array(workspace.outputs)
                for i in want.indices where !(abs(got[i] - want[i]) <= 1e-7 + 1e-3 * abs(want[i])) {
                    return .failed("\(set): element \(i) is \(got[i]), expected \(want[i])")
                }
            } catch {
                return .failed("\(set): \(error)")
            }
        }
        return .passed
    }

    /// Input slots where the importer needs a constant (weights, shapes, bounds, axes).
    static let constantSlots: [String: Set<Int>] = [
        "Conv": [1, 2], "BatchNormalization": [1, 2, 3, 4], "Gemm": [1, 2], "MatMul": [1], "Reshape": [1],
        "Clip": [1, 2], "ReduceMean": [1], "Dropout": [1, 2], "Unsqueeze": [1], "Squeeze": [1],
    ]

    /// Whether some node reads `name` in a slot that must be constant.
    static func constantSlot(_ name: String, in graph: Onnx_GraphProto) -> Bool {
        graph.node.contains { node in
            node.input.enumerated().contains { $0.element == name && (constantSlots[node.opType]?.contains($0.offset) ?? false) }
        }
    }

    /// The conformance tests that exercise the engine's operators.
    static func relevantTests() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().filter { name in
            guard let file = try? ONNXModelFile(contentsOf: root.appendingPathComponent(name).appendingPathComponent("model.onnx"))
            else { return false }
            let ops = Set(file.model.graph.node.map(\.opType))
            // Sequence and optional inputs are outside the engine's world of tensors.
            let tensorsOnly = file.model.graph.input.allSatisfy { $0.type.tensorType.elemType != 0 }
            return tensorsOnly && !ops.isEmpty && ops.isSubset(of: engineOperators.union(ONNXTranslator.supportedOperators))
                && !ops.isDisjoint(with: engineOperators)
        }
    }

    static func exclusions() throws -> [String: String] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("ConformanceExclusions.txt")
        var result: [String: String] = [:]
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if let name = parts.first { result[String(name)] = parts.count > 1 ? String(parts[1]) : "" }
        }
        return result
    }

    @Test func conformanceSuite() throws {
        try #require(FileManager.default.fileExists(atPath: Self.root.path),
                     "the ONNX conformance data is missing: apt-get install libonnx-testdata (make test does)")
        let tests = Self.relevantTests()
        #expect(tests.count > 100)
        var passed: [String] = [], failed: [(String, String)] = [], refused: [(String, String)] = []
        for name in tests {
            switch Self.run(Self.root.appendingPathComponent(name)) {
            case .passed: passed.append(name)
            case let .failed(reason): failed.append((name, reason))
            case let .refused(reason): refused.append((name, reason))
            }
        }
        print("ONNX conformance: \(tests.count) node tests for the engine's operators: \(passed.count) passed, \(failed.count) failed, \(refused.count) refused by the importer")
        for (name, reason) in refused { print("  refused \(name): \(reason)") }
        for (name, reason) in failed { Issue.record("conformance test \(name) failed: \(reason)") }

        let excluded = try Self.exclusions()
        for (name, reason) in refused where excluded[name] == nil {
            Issue.record("conformance test \(name) was refused but is not listed in ConformanceExclusions.txt: \(reason)")
        }
        for name in excluded.keys where !refused.contains(where: { $0.0 == name }) {
            Issue.record("ConformanceExclusions.txt lists \(name), which was not refused (it passed, failed or is gone): update the list")
        }
    }
}

extension ONNXTensorData {
    /// The tensor as an importer constant.
    var constant: ONNXConstant {
        if let floats = try? floats(), [.float, .float16, .double].contains(dataType) {
            return .floats(Tensor(shape: TensorShape(dims), values: floats))
        }
        return .ints(dims: dims, values: (try? ints()) ?? [])
    }
}

extension Error {
    /// The readable reason of an import or engine error.
    var reason: String {
        if let error = self as? ONNXImportError { return error.reason }
        return String(describing: self)
    }
}
