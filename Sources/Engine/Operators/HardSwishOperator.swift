/// Hard swish, `y = x · max(0, min(1, x/6 + 1/2))` (ONNX `HardSwish`). Input and output `N×…`.
/// VJP: `dx = dy · f'(x)` with `f'(x) = 0` for `x < −3`, `1` for `x > 3`, `(2x + 3)/6` between
/// (PyTorch's convention at the kinks: `x = −3` gives `−1/2`, `x = 3` gives `3/2`).
public struct HardSwishOperator: ElementwiseActivation {
    public init() {}
    public var typeName: String { "HardSwish" }

    @inline(__always) public func value(_ x: Float) -> Float {
        x * Swift.max(0, Swift.min(1, x / 6 + 0.5))
    }
    @inline(__always) public func derivative(input x: Float, output y: Float) -> Float {
        if x < -3 { return 0 }
        if x <= 3 { return (2 * x + 3) / 6 }
        return 1
    }

    public func forward(_ invocation: ForwardInvocation) { elementwiseForward(self, invocation) }
    public func backward(_ invocation: BackwardInvocation) { elementwiseBackward(self, invocation) }
}
