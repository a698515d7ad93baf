/// The rewrite both compile-time fusions share: a single-input node whose input is read by
/// nothing else (and is not the graph's output) merges into the convolution that produces that
/// input. The convolution takes over the node's output name; the node disappears.
enum ConvolutionAbsorption {
    /// The graph with every node that `absorb` accepts merged into its producing convolution,
    /// and the names of the merged pairs as `"node → conv"`. `absorb` returns the convolution
    /// that computes both, or `nil` to leave the node alone.
    static func rewrite(_ graph: Graph,
                        absorb: (GraphNode, ConvolutionOperator) -> ConvolutionOperator?) -> (graph: Graph, merged: [String]) {
        var readers: [String: Int] = [:]
        for node in graph.nodes {
            for input in node.inputs { readers[input, default: 0] += 1 }
        }
        var producer: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() { producer[node.output] = index }

        var nodes = graph.nodes
        var removed = Set<Int>()
        var merged: [String] = []
        for (index, node) in graph.nodes.enumerated() {
            guard let source = node.inputs.first, node.inputs.count == 1,
                  readers[source] == 1, source != graph.outputName,
                  let convolutionIndex = producer[source], !removed.contains(convolutionIndex),
                  let convolution = nodes[convolutionIndex].op as? ConvolutionOperator,
                  let combined = absorb(node, convolution) else { continue }
            nodes[convolutionIndex].op = combined
            nodes[convolutionIndex].output = node.output
            removed.insert(index)
            merged.append("\(node.name) → \(nodes[convolutionIndex].name)")
        }
        var result = graph
        result.nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return (result, merged)
    }
}
