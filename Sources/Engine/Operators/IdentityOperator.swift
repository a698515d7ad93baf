/// The identity: ONNX `Identity`, and `Dropout` at inference (where it passes its input through).
/// Input and output `N×…`, any frame shape. VJP: `dx = dy`.
public struct IdentityOperator: Operator {
    /// The ONNX operator this node came from (`Identity` or `Dropout`).
    public var typeName: String
    public init(typeName: String = "Identity") { self.typeName = typeName }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape { inputShapes[0] }
    public func forward(_ invocation: ForwardInvocation) { PassThrough.forward(invocation) }
    public func backward(_ invocation: BackwardInvocation) { PassThrough.backward(invocation) }
}
