/// Fully connected layer (ONNX `Gemm`, PyTorch `Linear`): `Y = alpha · A · op(B) + beta · C`.
///
/// - A: the data input, `N×F` (frame shape `F`; `transA` is not supported, it would move the
///   batch axis).
/// - B: constant, `F×G`, or `G×F` with `transB` (PyTorch's `Linear` exports `transB = 1`).
/// - C: optional constant broadcast to `G` (shape `G`, `1×G`, `1` or a scalar).
/// - Output: `N×G`.
///
/// Forward: one GEMM (`GEMM.multiply`) over the whole batch. VJP: `dA = alpha · dY · op(B)ᵀ`, one
/// GEMM over all `N·K` cotangent rows.
public struct GemmOperator: Operator {
    public var weights: Tensor
    public var bias: Tensor?
    public var transposeWeights: Bool
    public var alpha: Float
    public var beta: Float

    public init(weights: Tensor, bias: Tensor? = nil, transposeWeights: Bool = false,
                alpha: Float = 1, beta: Float = 1) {
        self.weights = weights
        self.bias = bias
        self.transposeWeights = transposeWeights
        self.alpha = alpha
        self.beta = beta
    }

    public var typeName: String { "Gemm" }

    /// `(F, G)`: input features and output features.
    private var dimensions: (features: Int, outputs: Int) {
        transposeWeights ? (weights.shape[1], weights.shape[0]) : (weights.shape[0], weights.shape[1])
    }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        guard weights.shape.rank == 2 else { throw OperatorError("B must be 2-D, got \(weights.shape)") }
        guard inputShapes[0].rank == 1 else {
            throw OperatorError("A must be N×F (flatten first), got frame shape \(inputShapes[0])")
        }
        let (features, outputs) = dimensions
        guard inputShapes[0][0] == features else {
            throw OperatorError("A has \(inputShapes[0][0]) features, B\(transposeWeights ? "ᵀ" : "") \(weights.shape) expects \(features)")
        }
        if let bias {
            let count = bias.shape.elementCount
            guard count == 1 || count == outputs, bias.shape.rank <= 1 || bias.shape[0] == 1 else {
                throw OperatorError("C of shape \(bias.shape) does not broadcast to \(outputs) outputs")
            }
        }
        return [outputs]
    }

    public func forward(_ invocation: ForwardInvocation) {
        let (features, outputs) = dimensions
        let batch = invocation.batch
        let y = invocation.output
        if let bias {
            for n in 0..<batch {
                for g in 0..<outputs { y[n * outputs + g] = beta * bias.values[bias.values.count == 1 ? 0 : g] }
            }
        }
        weights.values.withUnsafeBufferPointer { b in
            GEMM.multiply(transposeB: transposeWeights, m: batch, n: outputs, k: features,
                          alpha: alpha, a: invocation.inputs[0], lda: features,
                          b: b.baseAddress!, ldb: weights.shape[1], beta: bias == nil ? 0 : 1, c: y, ldc: outputs)
        }
    }

    public func backward(_ invocation: BackwardInvocation) {
        guard let dx = invocation.inputGradients[0] else { return }
        let (features, outputs) = dimensions
        weights.values.withUnsafeBufferPointer { b in
            // dA (rows×F) = alpha · dY (rows×G) · op(B)ᵀ (G×F).
            GEMM.multiply(transposeB: !transposeWeights, m: invocation.rows, n: features, k: outputs,
                          alpha: alpha, a: invocation.outputGradient, lda: outputs,
                          b: b.baseAddress!, ldb: weights.shape[1],
                          beta: invocation.accumulate[0] ? 1 : 0, c: dx, ldc: features)
        }
    }
}
