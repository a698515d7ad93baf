/// Leaky rectified linear unit, `y = x` for `x > 0`, else `alpha·x` (ONNX `LeakyRelu`, default
/// `alpha = 0.01`). Input and output `N×…`, any frame shape.
/// VJP: `dx = dy` where `x > 0`, else `alpha·dy`.
public struct LeakyReLUOperator: ElementwiseActivation {
    public var alpha: Float
    public init(alpha: Float = 0.01) { self.alpha = alpha }
    public var typeName: String { "LeakyRelu" }

    @inline(__always) public func value(_ x: Float) -> Float { x > 0 ? x : alpha * x }
    @inline(__always) public func derivative(input x: Float, output y: Float) -> Float { x > 0 ? 1 : alpha }

    public func forward(_ invocation: ForwardInvocation) { elementwiseForward(self, invocation) }
    public func backward(_ invocation: BackwardInvocation) { elementwiseBackward(self, invocation) }
}
