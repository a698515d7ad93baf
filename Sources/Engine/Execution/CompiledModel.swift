/// A node of a compiled model: its operator with tensors resolved to indices and shapes known.
public struct CompiledNode: Sendable {
    public let name: String
    public let op: any Operator
    /// Tensor indices of the data inputs and of the output.
    public let inputs: [Int]
    public let output: Int
    public let inputShapes: [TensorShape]
    public let outputShape: TensorShape
}

/// A validated, shape-inferred, topologically ordered graph, ready to run in a ``Workspace``.
/// Immutable and shareable between workers; each worker makes its own workspace.
///
/// Compilation checks the structure (duplicate names, dangling tensors, cycles), folds batch
/// normalisation into convolutions, fuses ReLUs into the convolutions before them and
/// `Mul(x, Sigmoid(x))` into one Swish, drops nodes the output does not need, infers every
/// tensor's frame shape and decides which tensor holds the logits: the output, or the input of a
/// final softmax (saliency is taken on logits, as in the paper).
public final class CompiledModel: Sendable {
    public let name: String
    /// The input's frame shape, `C×H×W`.
    public let inputShape: TensorShape
    /// Every tensor's name and frame shape; tensor 0 is the input, tensors `1…auxiliaryInputCount`
    /// the auxiliary inputs.
    public let tensorNames: [String]
    public let tensorShapes: [TensorShape]
    /// The nodes in execution order.
    public let nodes: [CompiledNode]
    /// The tensor holding the logits, and the graph's output tensor (the same unless the graph
    /// ends in a softmax).
    public let logitsTensor: Int
    public let outputTensor: Int
    /// The number of classes: the logits' element count per frame.
    public let classCount: Int
    /// Batch normalisations folded into convolutions, as `"bn → conv"`.
    public let foldedNodes: [String]
    /// ReLUs and clips fused into the convolution or addition before them (``ActivationFusion``),
    /// as `"relu → conv"`, and sigmoid–multiply pairs made one Swish (``SwishFusion``), as
    /// `"sigmoid → mul"`.
    public let fusedNodes: [String]
    /// Indices into ``nodes`` of the nodes the backward pass visits, in visiting order (reverse
    /// execution order, only ancestors of the logits).
    public let backwardOrder: [Int]
    /// The number of auxiliary (non-differentiated) inputs.
    public let auxiliaryInputCount: Int
    /// Whether each tensor depends on the input, so that a gradient flows into it.
    public let requiresGradient: [Bool]

    /// - Parameter fusingActivations: fuse ReLU and Clip into convolutions and additions, and sigmoid–multiply
    ///   pairs into Swish (the default); `false` keeps every activation's own output tensor, for
    ///   comparing node by node with another runtime.
    public init(_ graph: Graph, fusingActivations: Bool = true) throws(EngineError) {
        _ = try TopologicalOrder.sort(graph)
        let (normalizationFolded, foldedNames) = BatchNormalizationFolding.fold(graph)
        let (activationFused, fusedNames) = fusingActivations ? ActivationFusion.fuse(normalizationFolded) : (normalizationFolded, [])
        let (folded, swishNames) = fusingActivations ? SwishFusion.fuse(activationFused) : (activationFused, [])
        let order = try TopologicalOrder.sort(folded)
        guard folded.inputShape.isValid else {
            throw .invalidOutput(tensor: graph.inputName, reason: "input shape \(folded.inputShape) is not positive")
        }

        // Keep only the nodes the output depends on.
        let producer = folded.producerIndices
        guard folded.outputName == folded.inputName || producer[folded.outputName] != nil else {
            throw .invalidOutput(tensor: folded.outputName, reason: "no node produces it")
        }
        var needed = Set<Int>()
        var pending = [folded.outputName]
        while let tensor = pending.popLast() {
            guard let index = producer[tensor], needed.insert(index).inserted else { continue }
            pending.append(contentsOf: folded.nodes[index].inputs)
        }
        guard !needed.isEmpty else { throw .invalidOutput(tensor: folded.outputName, reason: "the graph has no nodes") }

        // Resolve names and infer shapes in execution order.
        var tensorIndex: [String: Int] = [:]
        for (index, name) in folded.inputNames.enumerated() { tensorIndex[name] = index }
        var names = folded.inputNames, shapes = [folded.inputShape] + folded.auxiliaryInputs.map(\.shape)
        var dependsOnInput = [true] + folded.auxiliaryInputs.map { _ in false }
        for (name, shape) in folded.auxiliaryInputs where !shape.isValid {
            throw .invalidOutput(tensor: name, reason: "auxiliary input shape \(shape) is not positive")
        }
        var nodes: [CompiledNode] = []
        for index in order where needed.contains(index) {
            let node = folded.nodes[index]
            let inputs = node.inputs.map { tensorIndex[$0]! }
            let inputShapes = inputs.map { shapes[$0] }
            guard inputs.count == node.op.dataInputCount else {
                throw .invalidNode(node: node.name, operator: node.op.typeName,
                                   reason: "expects \(node.op.dataInputCount) data input(s), got \(inputs.count)")
            }
            let outputShape: TensorShape
            do {
                outputShape = try node.op.outputShape(inputShapes: inputShapes)
            } catch {
                throw .invalidNode(node: node.name, operator: node.op.typeName, reason: error.reason)
            }
            guard outputShape.isValid else {
                throw .invalidNode(node: node.name, operator: node.op.typeName, reason: "output shape \(outputShape) is empty")
            }
            tensorIndex[node.output] = names.count
            nodes.append(CompiledNode(name: node.name, op: node.op.prepared(inputShapes: inputShapes), inputs: inputs,
                                      output: names.count,
                                      inputShapes: inputShapes, outputShape: outputShape))
            names.append(node.output)
            shapes.append(outputShape)
            dependsOnInput.append(inputs.contains { dependsOnInput[$0] })
        }

        let output = tensorIndex[folded.outputName]!
        var logits = output
        if let last = nodes.last(where: { $0.output == output }), last.op is SoftmaxOperator {
            logits = last.inputs[0]
        }
        guard dependsOnInput[logits] else {
            throw .invalidOutput(tensor: names[logits], reason: "the logits do not depend on the input")
        }

        // The backward pass visits the logits' ancestors in reverse order.
        var ancestors = Set([logits])
        var backward: [Int] = []
        for position in nodes.indices.reversed() where ancestors.contains(nodes[position].output) {
            backward.append(position)
            ancestors.formUnion(nodes[position].inputs.filter { dependsOnInput[$0] })
        }

        self.name = graph.name
        self.inputShape = folded.inputShape
        self.tensorNames = names
        self.tensorShapes = shapes
        self.nodes = nodes
        self.logitsTensor = logits
        self.outputTensor = output
        self.classCount = shapes[logits].elementCount
        self.foldedNodes = foldedNames
        self.fusedNodes = fusedNames + swishNames
        self.backwardOrder = backward
        self.auxiliaryInputCount = folded.auxiliaryInputs.count
        self.requiresGradient = dependsOnInput
    }

    /// Elements of one input frame (`C·H·W`).
    public var inputCount: Int { inputShape.elementCount }
}
