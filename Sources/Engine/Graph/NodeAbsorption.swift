/// The rewrite the compile-time fusions share: a single-input node whose input is read by
/// nothing else (and is not the graph's output) merges into the operator that produces that
/// input (a convolution, or a residual `Add`). The producer takes over the node's output name;
/// the node disappears.
enum NodeAbsorption {
    /// The graph with every node that `absorb` accepts merged into its producer of type
    /// `Producer`, and the names of the merged pairs as `"node → producer"`. `absorb` returns the
    /// operator that computes both, or `nil` to leave the node alone.
    static func rewrite<Producer: Operator>(_ graph: Graph, into _: Producer.Type,
                                           absorb: (GraphNode, Producer) -> Producer?) -> (graph: Graph, merged: [String]) {
        let readOnce = graph.tensorsReadOnce, producer = graph.producerIndices

        var nodes = graph.nodes
        var removed = Set<Int>()
        var merged: [String] = []
        for (index, node) in graph.nodes.enumerated() {
            guard let source = node.inputs.first, node.inputs.count == 1,
                  readOnce.contains(source),
                  let producerIndex = producer[source], !removed.contains(producerIndex),
                  let absorbing = nodes[producerIndex].op as? Producer,
                  let combined = absorb(node, absorbing) else { continue }
            nodes[producerIndex].op = combined
            nodes[producerIndex].output = node.output
            removed.insert(index)
            merged.append("\(node.name) → \(nodes[producerIndex].name)")
        }
        var result = graph
        result.nodes = nodes
        return (result.removingNodes(removed), merged)
    }
}
