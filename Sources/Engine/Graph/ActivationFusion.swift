/// Fuses a `Relu` into the convolution before it when nothing else reads the convolution's
/// output: the convolution applies the activation as it writes each output block, and its VJP
/// masks the output gradient (``FusedActivation``). Saves the pre-activation tensor, a forward
/// pass over it and a backward pass over every cotangent row.
enum ActivationFusion {
    /// The graph with every fusable `Relu` removed, and the names of the fused nodes as
    /// `"relu → conv"`.
    static func fuse(_ graph: Graph) -> (graph: Graph, fused: [String]) {
        let (result, fused) = ConvolutionAbsorption.rewrite(graph) { node, convolution in
            guard node.op is ReLUOperator, convolution.activation == .none else { return nil }
            var activated = convolution
            activated.activation = .relu
            return activated
        }
        return (result, fused)
    }
}
