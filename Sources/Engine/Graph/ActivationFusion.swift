/// Fuses a `Relu` or `Clip` (ReLU6) into the convolution before it when nothing else reads the convolution's
/// output: the convolution applies the activation as it writes each output block, and its VJP
/// masks the output gradient (``FusedActivation``). Saves the pre-activation tensor, a forward
/// pass over it and a backward pass over every cotangent row.
enum ActivationFusion {
    /// The graph with every fusable `Relu` and `Clip` removed, and the names of the fused nodes
    /// as `"relu → conv"`.
    static func fuse(_ graph: Graph) -> (graph: Graph, fused: [String]) {
        let (result, fused) = ConvolutionAbsorption.rewrite(graph) { node, convolution in
            guard convolution.activation == .none else { return nil }
            var activated = convolution
            if node.op is ReLUOperator {
                activated.activation = .relu
            } else if let clip = node.op as? ClipOperator, clip.minimum <= clip.maximum {
                activated.activation = .clip(minimum: clip.minimum, maximum: clip.maximum)
            } else {
                return nil
            }
            return activated
        }
        return (result, fused)
    }
}
