import Foundation

/// Softmax along one axis of each frame (ONNX `Softmax`; by default the last axis, the class
/// axis of `N×K` logits).
///
/// As a model's final operator it turns logits into probabilities; the graph compiler then
/// takes saliency on its input (the logits), as the paper does. Input and output `N×…`.
/// VJP: `dx = y ⊙ (dy − ⟨dy, y⟩)` along the axis.
public struct SoftmaxOperator: Operator {
    /// The frame axis (0 = the first axis after the batch axis) softmax runs along; `nil` for the last.
    public var axis: Int?
    public init(axis: Int? = nil) { self.axis = axis }
    public var typeName: String { "Softmax" }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        let shape = inputShapes[0]
        guard shape.rank >= 1 else { throw OperatorError("input must have a class axis") }
        if let axis, axis < 0 || axis >= shape.rank { throw OperatorError("axis \(axis) is not a frame axis of N×\(shape)") }
        return shape
    }

    /// `(outer, width, inner)`: blocks before the axis, its extent, and the stride along it.
    private func layout(_ shape: TensorShape) -> (outer: Int, width: Int, inner: Int) {
        let axis = self.axis ?? shape.rank - 1
        let inner = shape.dimensions[(axis + 1)...].reduce(1, *)
        return (shape.elementCount / (shape[axis] * inner), shape[axis], inner)
    }

    public func forward(_ invocation: ForwardInvocation) {
        let (outer, width, inner) = layout(invocation.outputShape)
        for block in 0..<(invocation.batch * outer) {
            for offset in 0..<inner {
                let start = block * width * inner + offset
                let x = invocation.inputs[0] + start, y = invocation.output + start
                var maximum = -Float.infinity
                for i in 0..<width { maximum = max(maximum, x[i * inner]) }
                var sum: Float = 0
                for i in 0..<width {
                    y[i * inner] = expf(x[i * inner] - maximum)
                    sum += y[i * inner]
                }
                for i in 0..<width { y[i * inner] /= sum }
            }
        }
    }

    public func backward(_ invocation: BackwardInvocation) {
        guard let dx = invocation.inputGradients[0] else { return }
        let (outer, width, inner) = layout(invocation.outputShape)
        let frameCount = invocation.outputShape.elementCount
        let accumulate = invocation.accumulate[0]
        for row in 0..<invocation.rows {
            let frame = row / invocation.cotangentsPerFrame
            for block in 0..<outer {
                for offset in 0..<inner {
                    let start = block * width * inner + offset
                    let y = invocation.output + frame * frameCount + start
                    let dy = invocation.outputGradient + row * frameCount + start
                    let d = dx + row * frameCount + start
                    var dot: Float = 0
                    for i in 0..<width { dot += dy[i * inner] * y[i * inner] }
                    for i in 0..<width {
                        let value = y[i * inner] * (dy[i * inner] - dot)
                        d[i * inner] = accumulate ? d[i * inner] + value : value
                    }
                }
            }
        }
    }
}
