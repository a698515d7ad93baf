extension CompiledModel {
    /// Floating-point operations per frame for the forward pass, counting a multiply-add as two:
    /// `2·M·Ho·Wo·(C/g)·kH·kW` per convolution, `2·F·G` per fully connected row, one per
    /// window cell for pooling and one per output element for elementwise operators.
    public var forwardFLOPs: Int {
        nodes.reduce(0) { $0 + Self.flops($1) }
    }

    private static func flops(_ node: CompiledNode) -> Int {
        let outputs = node.outputShape.elementCount
        switch node.op {
        case let conv as ConvolutionOperator:
            let depth = conv.weights.shape.elementCount / conv.outputChannels
            return 2 * outputs * depth
        case is GemmOperator:
            return 2 * outputs * node.inputShapes[0].elementCount
        case let matmul as MatMulOperator:
            return 2 * outputs * matmul.weights.shape[0]
        case let pool as MaxPoolOperator:
            return outputs * pool.window.kernelHeight * pool.window.kernelWidth
        case let pool as AveragePoolOperator:
            return outputs * pool.window.kernelHeight * pool.window.kernelWidth
        case is SpatialMeanOperator:
            return node.inputShapes[0].elementCount
        case is FlattenOperator, is ReshapeOperator, is IdentityOperator, is ConcatOperator:
            return 0
        default:
            return outputs
        }
    }
}
