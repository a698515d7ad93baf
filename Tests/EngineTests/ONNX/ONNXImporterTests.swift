import Foundation
import SwiftProtobuf
import Testing
@testable import Engine

/// The importer on small models built here: translation of the patterns exporters write, and
/// one clear error per kind of unsupported input, each naming the node, operator and reason.
@Suite struct ONNXImporterTests {
    /// Builds a model: input `x` (`N×…` with the given dims), nodes, float initializers.
    struct ModelSpec {
        var inputDims: [Int64] = [1, 2, 4, 4]
        var inputType: Onnx_TensorProto.DataType = .float
        var nodes: [Onnx_NodeProto] = []
        var initializers: [String: (dims: [Int64], values: [Float])] = [:]
        var intInitializers: [String: [Int64]] = [:]
        var output = "y"
        var opset: Int64 = 17

        func data() throws -> Data {
            var model = Onnx_ModelProto()
            model.irVersion = 8
            model.producerName = "tests"
            var opsetEntry = Onnx_OperatorSetIdProto()
            opsetEntry.version = opset
            model.opsetImport = [opsetEntry]
            model.graph.name = "test"
            var input = Onnx_ValueInfoProto()
            input.name = "x"
            input.type.tensorType.elemType = Int32(inputType.rawValue)
            input.type.tensorType.shape.dim = inputDims.map { value in
                var dim = Onnx_TensorShapeProto.Dimension()
                if value < 0 { dim.dimParam = "batch" } else { dim.dimValue = value }
                return dim
            }
            model.graph.input = [input]
            var output = Onnx_ValueInfoProto()
            output.name = self.output
            model.graph.output = [output]
            model.graph.node = nodes
            for (name, tensor) in initializers.sorted(by: { $0.key < $1.key }) {
                var proto = Onnx_TensorProto()
                proto.name = name
                proto.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
                proto.dims = tensor.dims
                proto.floatData = tensor.values
                model.graph.initializer.append(proto)
            }
            for (name, values) in intInitializers.sorted(by: { $0.key < $1.key }) {
                var proto = Onnx_TensorProto()
                proto.name = name
                proto.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
                proto.dims = [Int64(values.count)]
                proto.int64Data = values
                model.graph.initializer.append(proto)
            }
            return try model.serializedData()
        }

        func load(_ options: ONNXImportOptions = .init()) throws -> ImportedModel {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("importer-\(UUID().uuidString).onnx")
            try data().write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            return try ONNXImporter.load(contentsOf: url, options: options)
        }
    }

    static func node(_ op: String, _ inputs: [String], _ output: String, name: String = "",
                     ints: [String: [Int64]] = [:], int: [String: Int64] = [:], float: [String: Float] = [:],
                     string: [String: String] = [:]) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = name
        node.input = inputs
        node.output = [output]
        for (key, value) in ints {
            var attribute = Onnx_AttributeProto()
            attribute.name = key
            attribute.type = .ints
            attribute.ints = value
            node.attribute.append(attribute)
        }
        for (key, value) in int {
            var attribute = Onnx_AttributeProto()
            attribute.name = key
            attribute.type = .int
            attribute.i = value
            node.attribute.append(attribute)
        }
        for (key, value) in float {
            var attribute = Onnx_AttributeProto()
            attribute.name = key
            attribute.type = .float
            attribute.f = value
            node.attribute.append(attribute)
        }
        for (key, value) in string {
            var attribute = Onnx_AttributeProto()
            attribute.name = key
            attribute.type = .string
            attribute.s = Data(value.utf8)
            node.attribute.append(attribute)
        }
        return node
    }

    private func expectError(_ spec: ModelSpec, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try spec.load()
            Issue.record("expected an import error", sourceLocation: sourceLocation)
        } catch let error as ONNXImportError {
            #expect(error.description.hasSuffix(expected), "\(error.description)", sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix(FileManager.default.temporaryDirectory.path), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    /// The old exporter's `GlobalAveragePool → Flatten → Gemm`, with a weight wrapped in
    /// `Identity`, folds and runs.
    @Test func torchScriptClassifierHead() throws {
        var spec = ModelSpec(inputDims: [-1, 2, 3, 3])
        spec.nodes = [
            Self.node("Identity", ["w0"], "w"),
            Self.node("Conv", ["x", "w", "b"], "c", name: "conv", ints: ["pads": [1, 1, 1, 1], "kernel_shape": [3, 3]]),
            Self.node("Relu", ["c"], "r"),
            Self.node("GlobalAveragePool", ["r"], "g"),
            Self.node("Flatten", ["g"], "f", int: ["axis": 1]),
            Self.node("Gemm", ["f", "fc_w", "fc_b"], "y", int: ["transB": 1]),
        ]
        spec.initializers = [
            "w0": ([4, 2, 3, 3], (0..<72).map { Float($0 % 7) / 10 - 0.3 }), "b": ([4], [0.1, -0.1, 0.2, 0]),
            "fc_w": ([3, 4], (0..<12).map { Float($0) / 12 }), "fc_b": ([3], [0, 1, 2]),
        ]
        let imported = try spec.load()
        #expect(imported.batchIsDynamic)
        #expect(imported.inputDimensions == ["batch", "2", "3", "3"])
        #expect(imported.operatorCounts["Identity"] == 1)
        let model = try CompiledModel(imported.graph)
        #expect(imported.graph.nodes.map(\.op.typeName) == ["Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"])
        // Compiled, the ReLU becomes the convolution's epilogue.
        #expect(model.nodes.map(\.op.typeName) == ["Conv", "GlobalAveragePool", "Flatten", "Gemm"])
        #expect(model.fusedNodes.count == 1)
        #expect(model.classCount == 3)
    }

    /// The dynamo exporter's `ReduceMean → Reshape → Gemm`, and the TorchScript exporter's
    /// `Shape → Gather → Unsqueeze → Concat → Reshape` for `x.view(x.size(0), -1)`.
    @Test(arguments: [false, true])
    func reshapePatterns(fromShapeArithmetic: Bool) throws {
        var spec = ModelSpec(inputDims: [-1, 2, 3, 3], opset: 18)
        spec.nodes = [Self.node("ReduceMean", ["x", "axes"], "m", int: ["keepdims": 1])]
        if fromShapeArithmetic {
            spec.nodes += [
                Self.node("Shape", ["m"], "s"),
                Self.node("Gather", ["s", "zero"], "n", int: ["axis": 0]),
                Self.node("Unsqueeze", ["n", "axes0"], "n1"),
                Self.node("Concat", ["n1", "minus_one"], "shape", int: ["axis": 0]),
            ]
            spec.intInitializers = ["zero": [0], "axes0": [0], "minus_one": [-1], "axes": [2, 3]]
            spec.nodes[2].input = ["s", "zero_scalar"]
            var zero = Onnx_NodeProto()
            zero.opType = "Constant"
            zero.output = ["zero_scalar"]
            var value = Onnx_AttributeProto()
            value.name = "value"
            value.type = .tensor
            value.t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
            value.t.int64Data = [0]
            zero.attribute = [value]
            spec.nodes.insert(zero, at: 0)
        } else {
            spec.intInitializers = ["shape": [-1, 2], "axes": [2, 3]]
        }
        spec.nodes += [
            Self.node("Reshape", ["m", "shape"], "f"),
            Self.node("Gemm", ["f", "fc_w"], "y", int: ["transB": 1]),
        ]
        spec.initializers = ["fc_w": ([5, 2], (0..<10).map(Float.init))]
        let model = try CompiledModel(spec.load().graph)
        #expect(model.nodes.map(\.op.typeName) == ["ReduceMean", "Reshape", "Gemm"])
        let workspace = Workspace(model: model, maxBatch: 2)
        try workspace.forward((0..<36).map { Float($0 / 9) }, batch: 2)
        // Means per channel: frame 0 → [0, 1], frame 1 → [2, 3]; logits = means · W[g]ᵀ.
        #expect(Array(workspace.logits) == [1, 3, 5, 7, 9, 3, 13, 23, 33, 43])
    }

    @Test func unsupportedOperatorNamesTheNode() {
        var spec = ModelSpec()
        spec.nodes = [Self.node("LSTM", ["x"], "y", name: "recurrent")]
        expectError(spec, "node 'recurrent' (LSTM): operator LSTM is not supported; supported: "
                    + ONNXTranslator.supportedOperators.joined(separator: ", "))
    }

    @Test func unnamedNodesAreNamedByOperatorAndIndex() {
        var spec = ModelSpec()
        spec.nodes = [Self.node("Relu", ["x"], "r"), Self.node("Tanh", ["r"], "y")]
        expectError(spec, "node 'Tanh_1' (Tanh): operator Tanh is not supported; supported: "
                    + ONNXTranslator.supportedOperators.joined(separator: ", "))
    }

    @Test func unsupportedAttributeValues() {
        var spec = ModelSpec()
        spec.initializers = ["w": ([1, 2, 3, 3], [Float](repeating: 0.1, count: 18))]
        spec.nodes = [Self.node("Conv", ["x", "w"], "y", name: "conv", string: ["auto_pad": "SAME_MIDDLE"])]
        expectError(spec, "node 'conv' (Conv): auto_pad 'SAME_MIDDLE' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER")

        spec.nodes = [Self.node("Gemm", ["x", "w"], "y", name: "fc", int: ["transA": 1])]
        expectError(spec, "node 'fc' (Gemm): transA = 1 is not supported (transposing the data input would move the batch axis)")

        spec.nodes = [Self.node("Softmax", ["x"], "y", name: "sm", int: ["axis": 0])]
        expectError(spec, "node 'sm' (Softmax): softmax along the batch axis is not supported")

        spec.nodes = [Self.node("ReduceMean", ["x"], "y", name: "mean", ints: ["axes": [0, 1]])]
        expectError(spec, "node 'mean' (ReduceMean): ReduceMean over axes [0, 1] of N×2×4×4 would average across the batch axis")
    }

    @Test func unsupportedShapesAndWeights() {
        var spec = ModelSpec()
        spec.initializers = ["w": ([1, 2, 3], [Float](repeating: 0.1, count: 6))]
        spec.nodes = [Self.node("Conv", ["x", "w"], "y", name: "conv1d")]
        expectError(spec, "node 'conv1d' (Conv): only 2-D convolution is supported (weights M×C×kH×kW), got weights of shape 1×2×3")

        spec.initializers = ["w": ([1, 3, 3, 3], [Float](repeating: 0.1, count: 27))]
        spec.nodes = [Self.node("Conv", ["x", "w"], "y", name: "conv")]
        expectError(spec, "node 'conv' (Conv): weights 1×3×3×3 expect 3 input channels, input has 2")

        spec.nodes = [Self.node("Conv", ["x", "x"], "y", name: "dynamic")]
        expectError(spec, "node 'dynamic' (Conv): weights 'x' must be a constant (an initializer or Constant), not computed from the input")

        spec.nodes = [Self.node("Flatten", ["x"], "y", name: "flat", int: ["axis": 0])]
        expectError(spec, "node 'flat' (Flatten): Flatten with axis 0 of N×2×4×4 is not supported (only axis 1, which keeps the batch axis)")
    }

    @Test func unsupportedInputs() {
        var spec = ModelSpec(inputType: .int8)
        spec.nodes = [Self.node("Relu", ["x"], "y")]
        expectError(spec, "input 'x' has element type INT8; only FLOAT inputs are supported")

        spec = ModelSpec(inputDims: [1, 3, -1, -1])
        spec.nodes = [Self.node("Relu", ["x"], "y")]
        expectError(spec, "input 'x' has a dynamic height; configure the input size")
        #expect(throws: Never.self) { _ = try spec.load(ONNXImportOptions(inputHeight: 8, inputWidth: 6)) }

        spec.opset = 9
        expectError(spec, "default-domain opset 9 is not supported (supported: 11...21)")
    }

    @Test func usedExtraOutputsAreRefused() {
        var spec = ModelSpec()
        var pool = Self.node("MaxPool", ["x"], "p", name: "pool", ints: ["kernel_shape": [2, 2]])
        pool.output.append("indices")
        spec.nodes = [pool, Self.node("Add", ["p", "indices"], "y")]
        expectError(spec, "node 'pool' (MaxPool): its output 'indices' is used; only the first output of MaxPool is supported")
    }

    @Test func truncatedAndCorruptFilesAreErrors() throws {
        var spec = ModelSpec()
        spec.nodes = [Self.node("Relu", ["x"], "y")]
        let bytes = try spec.data()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("truncated-\(UUID().uuidString).onnx")
        defer { try? FileManager.default.removeItem(at: url) }
        for length in [0, 1, bytes.count / 3, bytes.count / 2, bytes.count - 1] {
            try bytes.prefix(length).write(to: url)
            #expect(throws: ONNXImportError.self, "length \(length)") { _ = try ONNXImporter.load(contentsOf: url) }
        }
        try Data("this is not a model".utf8).write(to: url)
        #expect(throws: ONNXImportError.self) { _ = try ONNXImporter.load(contentsOf: url) }
        let missing = URL(fileURLWithPath: "/nonexistent/model.onnx")
        let error = #expect(throws: ONNXImportError.self) { _ = try ONNXImporter.load(contentsOf: missing) }
        #expect(error?.description.hasPrefix("/nonexistent/model.onnx") == true)
    }
}
