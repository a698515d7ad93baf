/// An activation applied element by element: `y = f(x)`, with `∂y/∂x = f'(x)` computed from
/// the forward input `x` and output `y`. The output shape equals the input shape.
///
/// Conforming operators implement ``value(_:)`` and ``derivative(input:output:)`` side by side
/// and forward both passes to ``elementwiseForward(_:_:)`` / ``elementwiseBackward(_:_:)``,
/// which the compiler specialises per operator (no dynamic dispatch in the loops).
public protocol ElementwiseActivation: Operator {
    /// `f(x)`.
    func value(_ x: Float) -> Float
    /// `f'(x)`, given `x` and `y = f(x)`.
    func derivative(input x: Float, output y: Float) -> Float
}

extension ElementwiseActivation {
    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        inputShapes[0]
    }
}

/// `output[i] = f(input[i])` over the whole batch.
@inline(__always)
func elementwiseForward<A: ElementwiseActivation>(_ activation: A, _ invocation: ForwardInvocation) {
    let count = invocation.batch * invocation.outputShape.elementCount
    let x = invocation.inputs[0]
    let y = invocation.output
    for i in 0..<count { y[i] = activation.value(x[i]) }
}

/// `dx = dy ⊙ f'(x)` for every cotangent row, each row using its own frame's `x` and `y`.
@inline(__always)
func elementwiseBackward<A: ElementwiseActivation>(_ activation: A, _ invocation: BackwardInvocation) {
    guard let dx = invocation.inputGradients[0] else { return }
    let count = invocation.outputShape.elementCount
    let accumulate = invocation.accumulate[0]
    for row in 0..<invocation.rows {
        let frame = row / invocation.cotangentsPerFrame
        let x = invocation.inputs[0] + frame * count
        let y = invocation.output + frame * count
        let dy = invocation.outputGradient + row * count
        let dxRow = dx + row * count
        if accumulate {
            for i in 0..<count { dxRow[i] += dy[i] * activation.derivative(input: x[i], output: y[i]) }
        } else {
            for i in 0..<count { dxRow[i] = dy[i] * activation.derivative(input: x[i], output: y[i]) }
        }
    }
}
