import Foundation

/// Options for importing an ONNX model.
public struct ONNXImportOptions: Sendable {
    /// The input height and width to use where the model leaves them dynamic.
    public var inputHeight: Int?
    public var inputWidth: Int?

    /// Graph inputs bound to fixed values, which then act as constants (the conformance suite
    /// feeds weights as inputs).
    var boundInputs: [String: ONNXConstant] = [:]

    public init(inputHeight: Int? = nil, inputWidth: Int? = nil) {
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
    }
}

/// An ONNX model translated into the engine's ``Graph``, with what `model info` reports.
public struct ImportedModel: Sendable {
    public let graph: Graph
    /// The default-domain opset the file imports.
    public let opsetVersion: Int
    /// `producer_name producer_version` from the file.
    public let producer: String
    /// The input's name and dimensions as the file declares them (`batch` for a named dimension).
    public let inputName: String
    public let inputDimensions: [String]
    /// The graph output's name and declared dimensions.
    public let outputName: String
    public let outputDimensions: [String]
    /// How many nodes of each ONNX operator type the file holds.
    public let operatorCounts: [String: Int]
    /// Elements in the file's floating-point initializers (weights and batch-norm statistics).
    public let parameterCount: Int
    /// Whether the batch dimension is dynamic in the file (a static batch is run as dynamic).
    public let batchIsDynamic: Bool
}

/// Reads `.onnx` files exported by PyTorch (TorchScript and dynamo exporters, opsets 11–21) and
/// translates them into the engine's graph: weights become operator constants, shape arithmetic
/// on constants is folded, and every unsupported construct is an ``ONNXImportError`` naming the
/// node, the operator and the reason.
public enum ONNXImporter {
    /// Imports the model at `url`.
    public static func load(contentsOf url: URL, options: ONNXImportOptions = .init()) throws(ONNXImportError) -> ImportedModel {
        let file: ONNXModelFile
        let opset: Int
        do {
            file = try ONNXModelFile(contentsOf: url)
            opset = try file.defaultDomainOpsetVersion()
        } catch {
            throw ONNXImportError(file: url.path, reason: error.description)
        }
        var translator = try ONNXTranslator(file: file, opset: opset, options: options)
        try translator.translateNodes()
        return try translator.result()
    }
}

/// Walks an ONNX graph node by node, building the engine graph.
struct ONNXTranslator {
    let file: ONNXModelFile
    let opset: Int
    var path: String { file.url.path }
    var graph: Onnx_GraphProto { file.model.graph }

    /// Values known at import time, by tensor name.
    var constants: [String: ONNXConstant] = [:]
    /// Frame shapes of the activations translated so far, by tensor name.
    var activations: [String: TensorShape] = [:]
    var nodes: [GraphNode] = []
    /// Names read by some node or declared as graph outputs (for refusing used extra outputs).
    let consumed: Set<String>

    let inputName: String
    let inputShape: TensorShape
    let inputDimensions: [String]
    /// The batch size the file fixes, if it fixes one.
    let staticBatch: Int?
    /// Inputs after the first: read per frame, not differentiated.
    let auxiliaryInputs: [(name: String, shape: TensorShape)]
    var parameterCount = 0

    init(file: ONNXModelFile, opset: Int, options: ONNXImportOptions) throws(ONNXImportError) {
        self.file = file
        self.opset = opset
        let graph = file.model.graph
        let path = file.url.path
        var consumed = Set(graph.output.map(\.name))
        for node in graph.node { consumed.formUnion(node.input) }
        self.consumed = consumed

        var constants: [String: ONNXConstant] = [:]
        var parameters = 0
        for initializer in graph.initializer {
            let constant = try Self.decode(initializer, file: file, context: "initializer '\(initializer.name)'")
            if case let .floats(tensor) = constant { parameters += tensor.values.count }
            constants[initializer.name] = constant
        }
        constants.merge(options.boundInputs) { _, bound in bound }
        self.constants = constants
        self.parameterCount = parameters

        let inputs = graph.input.filter { constants[$0.name] == nil }
        guard let input = inputs.first else {
            throw ONNXImportError(file: path, reason: "the graph has no input that is not an initializer")
        }
        let type = input.type.tensorType
        guard type.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue) else {
            throw ONNXImportError(file: path, reason: "input '\(input.name)' has element type \(onnxDataTypeName(type.elemType)); only FLOAT inputs are supported")
        }
        let dims = type.shape.dim
        guard !dims.isEmpty else {
            throw ONNXImportError(file: path, reason: "input '\(input.name)' must have a batch axis (N×C×H×W), it is a scalar")
        }
        func staticValue(_ dim: Onnx_TensorShapeProto.Dimension) -> Int? {
            if case let .dimValue(value) = dim.value, value > 0 { return Int(value) }
            return nil
        }
        self.inputDimensions = Self.describe(dims)
        var frame: [Int] = []
        let spatialAxes = dims.count == 4
            ? [(1, nil, "channel dimension"), (2, options.inputHeight, "height"), (3, options.inputWidth, "width")]
            : (1..<dims.count).map { ($0, nil as Int?, "dimension \($0)") }
        for (axis, configured, name) in spatialAxes {
            if let fixed = staticValue(dims[axis]) {
                if let configured, configured != fixed {
                    throw ONNXImportError(file: path, reason: "input '\(input.name)' has a fixed \(name) of \(fixed); the configured \(name) \(configured) does not match")
                }
                frame.append(fixed)
            } else if let configured, configured > 0 {
                frame.append(configured)
            } else {
                throw ONNXImportError(file: path, reason: "input '\(input.name)' has a dynamic \(name); configure the input size")
            }
        }
        self.inputName = input.name
        self.inputShape = TensorShape(frame)
        self.staticBatch = staticValue(dims[0])
        var activations = [input.name: inputShape]

        // Further inputs are per-frame auxiliary inputs; saliency is taken on the first.
        var auxiliary: [(name: String, shape: TensorShape)] = []
        for other in inputs.dropFirst() {
            let type = other.type.tensorType
            let dims = type.shape.dim.dropFirst().map(staticValue)
            guard type.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue), !type.shape.dim.isEmpty,
                  dims.allSatisfy({ $0 != nil }) else {
                throw ONNXImportError(file: path, reason: "input '\(other.name)' must be a float N×… tensor with fixed dimensions after the batch axis")
            }
            auxiliary.append((other.name, TensorShape(dims.map { $0! })))
            activations[other.name] = auxiliary.last!.shape
        }
        self.activations = activations
        self.auxiliaryInputs = auxiliary
    }

    /// Dimensions as the file declares them: numbers, names of dynamic ones, `?` when unknown.
    static func describe(_ dims: [Onnx_TensorShapeProto.Dimension]) -> [String] {
        dims.map { dim in
            switch dim.value {
            case let .dimValue(value): String(value)
            case let .dimParam(name): name.isEmpty ? "?" : name
            case nil: "?"
            }
        }
    }

    static func decode(_ tensor: Onnx_TensorProto, file: ONNXModelFile, context: String) throws(ONNXImportError) -> ONNXConstant {
        do {
            let data = try file.tensorData(tensor)
            switch data.dataType {
            case .float, .float16, .double, .bfloat16:
                return .floats(Tensor(shape: TensorShape(data.dims), values: try data.floats()))
            default:
                return .ints(dims: data.dims, values: try data.ints())
            }
        } catch {
            throw ONNXImportError(file: file.url.path, reason: "\(context): \(error.description)")
        }
    }

    mutating func translateNodes() throws(ONNXImportError) {
        for (index, node) in graph.node.enumerated() {
            let name = node.name.isEmpty ? "\(node.opType)_\(index)" : node.name
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw ONNXImportError(file: path, node: name, opType: node.opType,
                                      reason: "operators of domain '\(node.domain)' are not supported")
            }
            for extra in node.output.dropFirst() where !extra.isEmpty && consumed.contains(extra) {
                throw ONNXImportError(file: path, node: name, opType: node.opType,
                                      reason: "its output '\(extra)' is used; only the first output of \(node.opType) is supported")
            }
            do {
                try translate(ONNXNode(proto: node, name: name, translator: self))
            } catch {
                throw ONNXImportError(file: path, node: name, opType: node.opType, reason: error.reason)
            }
        }
    }

    func result() throws(ONNXImportError) -> ImportedModel {
        guard let output = graph.output.first else { throw ONNXImportError(file: path, reason: "the graph has no output") }
        guard activations[output.name] != nil else {
            throw ONNXImportError(file: path, reason: "the graph output '\(output.name)' does not depend on the input")
        }
        var counts: [String: Int] = [:]
        for node in graph.node { counts[node.opType, default: 0] += 1 }
        let outputDimensions = Self.describe(output.type.tensorType.shape.dim)
        let name = graph.name.isEmpty ? file.url.deletingPathExtension().lastPathComponent : graph.name
        let producer = [file.model.producerName, file.model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        return ImportedModel(
            graph: Graph(name: name, inputName: inputName, inputShape: inputShape, nodes: nodes, outputName: output.name,
                         auxiliaryInputs: auxiliaryInputs),
            opsetVersion: opset, producer: producer, inputName: inputName, inputDimensions: inputDimensions,
            outputName: output.name, outputDimensions: outputDimensions, operatorCounts: counts,
            parameterCount: parameterCount, batchIsDynamic: staticBatch == nil)
    }

    /// Adds an engine node and records its output's frame shape.
    mutating func add(_ op: any Operator, inputs: [String], node: ONNXNode) throws(ONNXNodeError) {
        let shapes = try inputs.map { (name) throws(ONNXNodeError) -> TensorShape in try node.activation(name) }
        let shape: TensorShape
        do {
            shape = try op.outputShape(inputShapes: shapes)
        } catch {
            throw ONNXNodeError(error.reason)
        }
        nodes.append(GraphNode(name: node.name, op: op, inputs: inputs, output: node.output))
        activations[node.output] = shape
    }
}

/// A translation failure inside one node; the importer adds the file, node and operator.
struct ONNXNodeError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
