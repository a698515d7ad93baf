/// Folds inference-mode batch normalisation into the convolution before it, when nothing else
/// reads the convolution's output: `BN(conv(x)) = conv'(x)` with scaled weights and a new bias.
enum BatchNormalizationFolding {
    /// The graph with every foldable `BatchNormalization` removed, and the names of the folded
    /// nodes as `"bn → conv"`.
    static func fold(_ graph: Graph) -> (graph: Graph, folded: [String]) {
        let (result, folded) = NodeAbsorption.rewrite(graph, into: ConvolutionOperator.self) { node, convolution in
            (node.op as? BatchNormalizationOperator)?.folded(into: convolution)
        }
        return (result, folded)
    }
}
