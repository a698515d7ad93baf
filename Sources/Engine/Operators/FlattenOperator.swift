/// Flattens each frame into a vector (ONNX `Flatten` with `axis = 1`): `N×C×H×W → N×(C·H·W)`.
/// The batch axis is never merged. VJP: `dx = dy` reshaped back.
public struct FlattenOperator: Operator {
    public init() {}
    public var typeName: String { "Flatten" }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        [inputShapes[0].elementCount]
    }
    public func forward(_ invocation: ForwardInvocation) { PassThrough.forward(invocation) }
    public func backward(_ invocation: BackwardInvocation) { PassThrough.backward(invocation) }
}
