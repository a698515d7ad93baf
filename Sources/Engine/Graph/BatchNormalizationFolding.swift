/// Folds inference-mode batch normalisation into the convolution before it, when nothing else
/// reads the convolution's output: `BN(conv(x)) = conv'(x)` with scaled weights and a new bias.
enum BatchNormalizationFolding {
    /// The graph with every foldable `BatchNormalization` removed, and the names of the folded
    /// nodes as `"bn → conv"`.
    static func fold(_ graph: Graph) -> (graph: Graph, folded: [String]) {
        var readers: [String: Int] = [:]
        for node in graph.nodes {
            for input in node.inputs { readers[input, default: 0] += 1 }
        }
        var producer: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() { producer[node.output] = index }

        var nodes = graph.nodes
        var removed = Set<Int>()
        var folded: [String] = []
        for (index, node) in graph.nodes.enumerated() {
            guard let normalization = node.op as? BatchNormalizationOperator,
                  let source = node.inputs.first, node.inputs.count == 1,
                  readers[source] == 1, source != graph.outputName,
                  let convolutionIndex = producer[source], !removed.contains(convolutionIndex),
                  let convolution = nodes[convolutionIndex].op as? ConvolutionOperator,
                  let fused = normalization.folded(into: convolution) else { continue }
            nodes[convolutionIndex].op = fused
            nodes[convolutionIndex].output = node.output
            removed.insert(index)
            folded.append("\(node.name) → \(nodes[convolutionIndex].name)")
        }
        var result = graph
        result.nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return (result, folded)
    }
}
