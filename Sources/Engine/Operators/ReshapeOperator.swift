/// Gives each frame a new static shape with the same element count (ONNX `Reshape` whose shape
/// is a constant; the batch axis stays first). VJP: `dx = dy` reshaped back.
public struct ReshapeOperator: Operator {
    /// The output frame shape (without the batch axis).
    public var frameShape: TensorShape
    public init(frameShape: TensorShape) { self.frameShape = frameShape }
    public var typeName: String { "Reshape" }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        guard frameShape.isValid, frameShape.elementCount == inputShapes[0].elementCount else {
            throw OperatorError("cannot reshape frames of shape \(inputShapes[0]) to \(frameShape)")
        }
        return frameShape
    }
    public func forward(_ invocation: ForwardInvocation) { PassThrough.forward(invocation) }
    public func backward(_ invocation: BackwardInvocation) { PassThrough.backward(invocation) }
}
