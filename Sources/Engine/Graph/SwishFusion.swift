/// Rewrites `Mul(x, Sigmoid(x))` (either input order) into one ``SwishOperator`` node when the
/// sigmoid's output is read by nothing else and is not the graph's output — how PyTorch exports
/// `SiLU` (EfficientNet, many detection backbones).
enum SwishFusion {
    /// The graph with every such pair replaced, and the fused pairs as `"sigmoid → mul"`.
    static func fuse(_ graph: Graph) -> (graph: Graph, fused: [String]) {
        let readOnce = graph.tensorsReadOnce, producer = graph.producerIndices

        var nodes = graph.nodes
        var removed = Set<Int>()
        var fused: [String] = []
        for (index, node) in graph.nodes.enumerated() where node.op is MultiplyOperator && node.inputs.count == 2 {
            for (gate, other) in [(node.inputs[1], node.inputs[0]), (node.inputs[0], node.inputs[1])] {
                guard readOnce.contains(gate), let sigmoidIndex = producer[gate],
                      !removed.contains(sigmoidIndex), graph.nodes[sigmoidIndex].op is SigmoidOperator,
                      graph.nodes[sigmoidIndex].inputs == [other] else { continue }
                nodes[index].op = SwishOperator()
                nodes[index].inputs = [other]
                removed.insert(sigmoidIndex)
                fused.append("\(graph.nodes[sigmoidIndex].name) → \(node.name)")
                break
            }
        }
        var result = graph
        result.nodes = nodes
        return (result.removingNodes(removed), fused)
    }
}
