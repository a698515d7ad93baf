/// Rectified linear unit, `y = max(x, 0)` (ONNX `Relu`). Input and output `N×…`, any frame shape.
/// VJP: `dx = dy` where `x > 0`, else 0 (the mask PyTorch uses).
public struct ReLUOperator: ElementwiseActivation {
    public init() {}
    public var typeName: String { "Relu" }

    @inline(__always) public func value(_ x: Float) -> Float { x > 0 ? x : 0 }
    @inline(__always) public func derivative(input x: Float, output y: Float) -> Float { x > 0 ? 1 : 0 }

    public func forward(_ invocation: ForwardInvocation) { elementwiseForward(self, invocation) }
    public func backward(_ invocation: BackwardInvocation) { elementwiseBackward(self, invocation) }
}
