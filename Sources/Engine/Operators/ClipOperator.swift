/// Clamp to `[minimum, maximum]` (ONNX `Clip`; ReLU6 is `Clip(0, 6)`). Input and output `N×…`.
/// VJP: `dx = dy` strictly inside the interval, 0 outside and on its bounds (as PyTorch's
/// `hardtanh`, which ReLU6 exports from).
public struct ClipOperator: ElementwiseActivation {
    public var minimum: Float
    public var maximum: Float
    public init(minimum: Float = -.greatestFiniteMagnitude, maximum: Float = .greatestFiniteMagnitude) {
        self.minimum = minimum
        self.maximum = maximum
    }
    public var typeName: String { "Clip" }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        guard minimum <= maximum else { throw OperatorError("min \(minimum) is greater than max \(maximum)") }
        return inputShapes[0]
    }

    @inline(__always) public func value(_ x: Float) -> Float { Swift.min(Swift.max(x, minimum), maximum) }
    @inline(__always) public func derivative(input x: Float, output y: Float) -> Float {
        x > minimum && x < maximum ? 1 : 0
    }

    public func forward(_ invocation: ForwardInvocation) { elementwiseForward(self, invocation) }
    public func backward(_ invocation: BackwardInvocation) { elementwiseBackward(self, invocation) }
}
