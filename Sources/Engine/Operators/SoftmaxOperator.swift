import Foundation

/// Softmax over the last axis of each frame (ONNX `Softmax` with `axis = −1`, or `1` on `N×K`).
///
/// As a model's final operator it turns logits into probabilities; the graph compiler then
/// takes saliency on its input (the logits), as the paper does. Input and output `N×…×K`.
/// VJP: `dx = y ⊙ (dy − ⟨dy, y⟩)` per row of `K`.
public struct SoftmaxOperator: Operator {
    public init() {}
    public var typeName: String { "Softmax" }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        guard inputShapes[0].rank >= 1 else { throw OperatorError("input must have a class axis") }
        return inputShapes[0]
    }

    public func forward(_ invocation: ForwardInvocation) {
        let shape = invocation.outputShape
        let width = shape[shape.rank - 1]
        for r in 0..<(invocation.batch * shape.elementCount / width) {
            Self.softmax(invocation.inputs[0] + r * width, into: invocation.output + r * width, count: width)
        }
    }

    /// Numerically stable softmax of `count` values.
    static func softmax(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        var maximum = -Float.infinity
        for i in 0..<count { maximum = max(maximum, x[i]) }
        var sum: Float = 0
        for i in 0..<count {
            y[i] = expf(x[i] - maximum)
            sum += y[i]
        }
        for i in 0..<count { y[i] /= sum }
    }

    public func backward(_ invocation: BackwardInvocation) {
        guard let dx = invocation.inputGradients[0] else { return }
        let shape = invocation.outputShape
        let width = shape[shape.rank - 1]
        let perFrame = shape.elementCount / width
        let accumulate = invocation.accumulate[0]
        for row in 0..<invocation.rows {
            let frame = row / invocation.cotangentsPerFrame
            for part in 0..<perFrame {
                let y = invocation.output + (frame * perFrame + part) * width
                let dy = invocation.outputGradient + (row * perFrame + part) * width
                let d = dx + (row * perFrame + part) * width
                var dot: Float = 0
                for i in 0..<width { dot += dy[i] * y[i] }
                for i in 0..<width {
                    let value = y[i] * (dy[i] - dot)
                    d[i] = accumulate ? d[i] + value : value
                }
            }
        }
    }
}
