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

/// `output[i] = f(input[i])` over the whole batch, spread over the team.
@inline(__always)
func elementwiseForward<A: ElementwiseActivation>(_ activation: A, _ invocation: ForwardInvocation) {
    let x = invocation.inputs[0]
    let y = invocation.output
    invocation.team.forEachRange(invocation.batch * invocation.outputShape.elementCount) { range in
        for i in range { y[i] = activation.value(x[i]) }
    }
}

/// `dx = dy ⊙ f'(x)` for every cotangent row, each row using its own frame's `x` and `y`;
/// pieces of rows are spread over the team.
@inline(__always)
func elementwiseBackward<A: ElementwiseActivation>(_ activation: A, _ invocation: BackwardInvocation) {
    guard let dx = invocation.inputGradients[0] else { return }
    let count = invocation.outputShape.elementCount
    let accumulate = invocation.accumulate[0]
    // Rows in pieces of at most `grain` elements, spread over the team.
    let grain = 1 << 14
    let pieces = (count + grain - 1) / grain
    let threads = invocation.rows * count >= 1 << 16 ? invocation.team.count : 1
    invocation.team.forEach(items: invocation.rows * pieces, threads: threads) { item, _ in
        let row = item / pieces, start = item % pieces * grain, end = min(count, start + grain)
        let frame = row / invocation.cotangentsPerFrame
        let x = invocation.inputs[0] + frame * count
        let y = invocation.output + frame * count
        let dy = invocation.outputGradient + row * count
        let dxRow = dx + row * count
        if accumulate {
            for i in start..<end { dxRow[i] += dy[i] * activation.derivative(input: x[i], output: y[i]) }
        } else {
            for i in start..<end { dxRow[i] = dy[i] * activation.derivative(input: x[i], output: y[i]) }
        }
    }
}
