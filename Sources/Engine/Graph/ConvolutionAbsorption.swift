/// The rewrite both compile-time fusions share: a single-input node whose input is read by
/// nothing else (and is not the graph's output) merges into the convolution that produces that
/// input. The convolution takes over the node's output name; the node disappears.
enum ConvolutionAbsorption {
    /// The graph with every node that `absorb` accepts merged into its producing convolution,
    /// and the names of the merged pairs as `"node → conv"`. `absorb` returns the convolution
    /// that computes both, or `nil` to leave the node alone.
    static func rewrite(_ graph: Graph,
                        absorb: (GraphNode, ConvolutionOperator) -> ConvolutionOperator?) -> (graph: Graph, merged: [String]) {
        let readOnce = graph.tensorsReadOnce, producer = graph.producerIndices

        var nodes = graph.nodes
        var removed = Set<Int>()
        var merged: [String] = []
        for (index, node) in graph.nodes.enumerated() {
            guard let source = node.inputs.first, node.inputs.count == 1,
                  readOnce.contains(source),
                  let convolutionIndex = producer[source], !removed.contains(convolutionIndex),
                  let convolution = nodes[convolutionIndex].op as? ConvolutionOperator,
                  let combined = absorb(node, convolution) else { continue }
            nodes[convolutionIndex].op = combined
            nodes[convolutionIndex].output = node.output
            removed.insert(index)
            merged.append("\(node.name) → \(nodes[convolutionIndex].name)")
        }
        var result = graph
        result.nodes = nodes
        return (result.removingNodes(removed), merged)
    }
}
