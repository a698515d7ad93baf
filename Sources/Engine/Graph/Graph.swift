/// One operator application: reads the named data inputs, writes one named output.
public struct GraphNode: Sendable {
    public var name: String
    public var op: any Operator
    public var inputs: [String]
    public var output: String

    public init(name: String, op: any Operator, inputs: [String], output: String) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.output = output
    }
}

/// A classifier as a graph of named tensors: one input (a batch of `C×H×W` frames), nodes in any
/// order, one output (logits, or probabilities when the last node is a softmax). ONNX import and
/// ``GraphBuilder`` produce it; ``CompiledModel`` validates and plans it.
public struct Graph: Sendable {
    public var name: String
    public var inputName: String
    /// The frame shape of the input, `C×H×W`.
    public var inputShape: TensorShape
    public var nodes: [GraphNode]
    public var outputName: String
    /// Further per-frame inputs (name and frame shape) the model reads but saliency is not taken
    /// with respect to: no gradient flows into them.
    public var auxiliaryInputs: [(name: String, shape: TensorShape)]

    public init(name: String, inputName: String, inputShape: TensorShape, nodes: [GraphNode], outputName: String,
                auxiliaryInputs: [(name: String, shape: TensorShape)] = []) {
        self.name = name
        self.inputName = inputName
        self.inputShape = inputShape
        self.nodes = nodes
        self.outputName = outputName
        self.auxiliaryInputs = auxiliaryInputs
    }

    /// The names of every graph input, the differentiated one first.
    var inputNames: [String] { [inputName] + auxiliaryInputs.map(\.name) }

    /// The index of the node that writes each tensor (for a structurally valid graph, one each).
    var producerIndices: [String: Int] {
        var producer: [String: Int] = [:]
        for (index, node) in nodes.enumerated() { producer[node.output] = index }
        return producer
    }

    /// The tensors a compile-time rewrite may consume: those read by exactly one node input and
    /// not the graph's output.
    var tensorsReadOnce: Set<String> {
        var readers: [String: Int] = [:]
        for node in nodes {
            for input in node.inputs { readers[input, default: 0] += 1 }
        }
        return Set(readers.filter { $0.value == 1 && $0.key != outputName }.keys)
    }

    /// The graph without the nodes at `indices`.
    func removingNodes(_ indices: Set<Int>) -> Graph {
        var result = self
        result.nodes = nodes.enumerated().filter { !indices.contains($0.offset) }.map(\.element)
        return result
    }
}

/// Builds a ``Graph`` in Swift, one node at a time; every `add` returns the new tensor's name.
public struct GraphBuilder {
    public private(set) var graph: Graph
    private var counter = 0

    /// Starts a graph whose input has frame shape `inputShape` (`C×H×W`).
    public init(name: String, inputShape: TensorShape, inputName: String = "input") {
        graph = Graph(name: name, inputName: inputName, inputShape: inputShape, nodes: [], outputName: inputName)
    }

    /// The input tensor's name.
    public var input: String { graph.inputName }

    /// Appends a node applying `op` to `inputs`; returns its output tensor's name.
    @discardableResult
    public mutating func add(_ op: any Operator, _ inputs: String..., name: String? = nil) -> String {
        counter += 1
        let nodeName = name ?? "\(op.typeName.lowercased())_\(counter)"
        let output = "\(nodeName):0"
        graph.nodes.append(GraphNode(name: nodeName, op: op, inputs: inputs, output: output))
        graph.outputName = output
        return output
    }

    /// The graph with `output` (default: the last node's output) as its output.
    public func build(output: String? = nil) -> Graph {
        var result = graph
        if let output { result.outputName = output }
        return result
    }
}
