/// Fuses a `Relu` or `Clip` (ReLU6) into the operator before it when nothing else reads that
/// operator's output: a convolution applies the activation as it writes each output block, an
/// `Add` (a residual block's end) as it writes each sum, and the VJP masks the output gradient
/// (``FusedActivation``). Saves the pre-activation tensor, a forward pass over it and a backward
/// pass over every cotangent row.
enum ActivationFusion {
    /// The graph with every fusable `Relu` and `Clip` removed, and the names of the fused nodes
    /// as `"relu → conv"` or `"relu → add"`.
    static func fuse(_ graph: Graph) -> (graph: Graph, fused: [String]) {
        let (convolutionsFused, intoConvolutions) = NodeAbsorption.rewrite(graph, into: ConvolutionOperator.self) { node, convolution in
            guard convolution.activation == .none, let activation = fusable(node) else { return nil }
            var activated = convolution
            activated.activation = activation
            return activated
        }
        let (result, intoAdditions) = NodeAbsorption.rewrite(convolutionsFused, into: AddOperator.self) { node, addition in
            guard addition.activation == .none, let activation = fusable(node) else { return nil }
            var activated = addition
            activated.activation = activation
            return activated
        }
        return (result, intoConvolutions + intoAdditions)
    }

    /// The activation `node` computes, if it is one an operator can take as its epilogue.
    private static func fusable(_ node: GraphNode) -> FusedActivation? {
        if node.op is ReLUOperator { return .relu }
        if let clip = node.op as? ClipOperator, clip.minimum <= clip.maximum {
            return .clip(minimum: clip.minimum, maximum: clip.maximum)
        }
        return nil
    }
}
