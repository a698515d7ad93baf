/// Matrix product with a constant right-hand side (ONNX `MatMul` as exporters write `Linear`
/// without bias): `Y = X · B`.
///
/// - X: the data input, frame shape `…×F` (the leading frame axes act as extra rows).
/// - B: constant `F×G`. Output: frame shape `…×G`.
///
/// Forward: one GEMM (`GEMM.multiply`) over all rows of the batch. VJP: `dX = dY · Bᵀ`, one GEMM
/// over all cotangent rows.
public struct MatMulOperator: Operator {
    public var weights: Tensor
    public init(weights: Tensor) { self.weights = weights }
    public var typeName: String { "MatMul" }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        guard weights.shape.rank == 2 else { throw OperatorError("the constant operand must be 2-D, got \(weights.shape)") }
        let input = inputShapes[0]
        guard input.rank >= 1, input[input.rank - 1] == weights.shape[0] else {
            throw OperatorError("cannot multiply frames of shape \(input) by \(weights.shape)")
        }
        return TensorShape(input.dimensions.dropLast() + [weights.shape[1]])
    }

    private func multiply(rows: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let features = weights.shape[0], outputs = weights.shape[1]
        weights.values.withUnsafeBufferPointer { b in
            GEMM.multiply(m: rows, n: outputs, k: features,
                          a: x, lda: features,
                          b: b.baseAddress!, ldb: outputs, c: y, ldc: outputs)
        }
    }

    public func forward(_ invocation: ForwardInvocation) {
        let rows = invocation.batch * invocation.outputShape.elementCount / weights.shape[1]
        multiply(rows: rows, invocation.inputs[0], invocation.output)
    }

    public func backward(_ invocation: BackwardInvocation) {
        guard let dx = invocation.inputGradients[0] else { return }
        let features = weights.shape[0], outputs = weights.shape[1]
        let rows = invocation.rows * invocation.outputShape.elementCount / outputs
        weights.values.withUnsafeBufferPointer { b in
            GEMM.multiply(transposeB: true, m: rows, n: features, k: outputs,
                          a: invocation.outputGradient, lda: outputs,
                          b: b.baseAddress!, ldb: outputs, beta: invocation.accumulate[0] ? 1 : 0, c: dx, ldc: features)
        }
    }
}
