/// Piecewise-linear sigmoid, `y = max(0, min(1, alpha·x + beta))` (ONNX `HardSigmoid`, defaults
/// `alpha = 0.2`, `beta = 0.5`; PyTorch's `Hardsigmoid` exports as `alpha = 1/6`). Input and
/// output `N×…`. VJP: `dx = alpha·dy` where `0 < alpha·x + beta < 1`, else 0.
public struct HardSigmoidOperator: ElementwiseActivation {
    public var alpha: Float
    public var beta: Float
    public init(alpha: Float = 0.2, beta: Float = 0.5) {
        self.alpha = alpha
        self.beta = beta
    }
    public var typeName: String { "HardSigmoid" }

    @inline(__always) public func value(_ x: Float) -> Float { Swift.max(0, Swift.min(1, alpha * x + beta)) }
    @inline(__always) public func derivative(input x: Float, output y: Float) -> Float {
        let t = alpha * x + beta
        return t > 0 && t < 1 ? alpha : 0
    }

    public func forward(_ invocation: ForwardInvocation) { elementwiseForward(self, invocation) }
    public func backward(_ invocation: BackwardInvocation) { elementwiseBackward(self, invocation) }
}
