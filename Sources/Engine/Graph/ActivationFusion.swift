/// Fuses a `Relu` into the convolution before it when nothing else reads the convolution's
/// output: the convolution applies the activation as it writes each output block, and its VJP
/// masks the output gradient (``FusedActivation``). Saves the pre-activation tensor, a forward
/// pass over it and a backward pass over every cotangent row.
enum ActivationFusion {
    /// The graph with every fusable `Relu` removed, and the names of the fused nodes as
    /// `"relu → conv"`.
    static func fuse(_ graph: Graph) -> (graph: Graph, fused: [String]) {
        var readers: [String: Int] = [:]
        for node in graph.nodes {
            for input in node.inputs { readers[input, default: 0] += 1 }
        }
        var producer: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() { producer[node.output] = index }

        var nodes = graph.nodes
        var removed = Set<Int>()
        var fused: [String] = []
        for (index, node) in graph.nodes.enumerated() {
            guard node.op is ReLUOperator, let source = node.inputs.first, node.inputs.count == 1,
                  readers[source] == 1, source != graph.outputName,
                  let convolutionIndex = producer[source], !removed.contains(convolutionIndex),
                  var convolution = nodes[convolutionIndex].op as? ConvolutionOperator,
                  convolution.activation == .none else { continue }
            convolution.activation = .relu
            nodes[convolutionIndex].op = convolution
            nodes[convolutionIndex].output = node.output
            removed.insert(index)
            fused.append("\(node.name) → \(nodes[convolutionIndex].name)")
        }
        var result = graph
        result.nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return (result, fused)
    }
}
