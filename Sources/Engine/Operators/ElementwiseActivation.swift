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
    /// `y[i] = f(x[i])` for `count` values (default: ``value(_:)`` one by one; operators whose
    /// `f` the compiler cannot vectorise, e.g. through `expf`, write SIMD loops).
    func values(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>)
    /// `d[i] = f'(x[i])` given `y[i] = f(x[i])`, for `count` values (default:
    /// ``derivative(input:output:)`` one by one).
    func derivatives(input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, count: Int,
                     into d: UnsafeMutablePointer<Float>)
}

extension ElementwiseActivation {
    @inline(__always)
    public func values(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { y[i] = value(x[i]) }
    }

    @inline(__always)
    public func derivatives(input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, count: Int,
                            into d: UnsafeMutablePointer<Float>) {
        for i in 0..<count { d[i] = derivative(input: x[i], output: y[i]) }
    }

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
        activation.values(x + range.lowerBound, count: range.count, into: y + range.lowerBound)
    }
}

/// `dx = dy ⊙ f'(x)` for every cotangent row, each row using its own frame's `x` and `y`.
/// Frames are taken in pieces (spread over the team): `f'` is computed once per piece and
/// applied to all `K` rows of that frame.
@inline(__always)
func elementwiseBackward<A: ElementwiseActivation>(_ activation: A, _ invocation: BackwardInvocation) {
    guard let dx = invocation.inputGradients[0] else { return }
    let count = invocation.outputShape.elementCount
    let accumulate = invocation.accumulate[0]
    let perFrame = invocation.cotangentsPerFrame
    let grain = 4096
    let pieces = (count + grain - 1) / grain
    let threads = invocation.rows * count >= 1 << 16 ? invocation.team.count : 1
    invocation.team.forEach(items: invocation.batch * pieces, threads: threads) { item, _ in
        let frame = item / pieces, start = item % pieces * grain, length = min(count, start + grain) - start
        withUnsafeTemporaryAllocation(of: Float.self, capacity: grain) { buffer in
            let d = buffer.baseAddress!
            activation.derivatives(input: invocation.inputs[0] + frame * count + start,
                                   output: invocation.output + frame * count + start, count: length, into: d)
            for k in 0..<perFrame {
                let row = frame * perFrame + k
                let dy = invocation.outputGradient + row * count + start
                let dxRow = dx + row * count + start
                if accumulate {
                    for i in 0..<length { dxRow[i] += dy[i] * d[i] }
                } else {
                    for i in 0..<length { dxRow[i] = dy[i] * d[i] }
                }
            }
        }
    }
}
