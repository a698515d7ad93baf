/// Swish / SiLU, `y = x · σ(x)` with `σ(x) = 1 / (1 + e^(−x))` (PyTorch `SiLU`, exported to ONNX
/// as `Mul(x, Sigmoid(x))` and put back together by ``SwishFusion``). Input and output `N×…`.
/// VJP: `dx = dy · f'(x)`, `f'(x) = σ(x) + x·σ(x)·(1 − σ(x)) = σ(x) + y·(1 − σ(x))`.
///
/// One node instead of two: the sigmoid's output is never stored, and the VJP is one pass per
/// cotangent row with `f'` computed once per frame, instead of a product rule over two
/// tensors, a sigmoid VJP and an accumulation.
public struct SwishOperator: ElementwiseActivation {
    public init() {}
    public var typeName: String { "Swish" }

    @inline(__always) public func value(_ x: Float) -> Float { x * SigmoidOperator().value(x) }
    @inline(__always) public func derivative(input x: Float, output y: Float) -> Float {
        let s = SigmoidOperator().value(x)
        return s + y * (1 - s)
    }

    /// `SwishKernels.values` in the build ``KernelSelection`` chose (``ActivationLoops``), 8 lanes
    /// at a time; the tail through ``value(_:)``.
    public func values(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        var i = ActivationLoops.selected.swishValues(x, count, y)
        while i < count { y[i] = value(x[i]); i += 1 }
    }

    /// `SwishKernels.derivatives` (σ read back from the output as `y / x`, no second
    /// exponential) as ``values(_:count:into:)``; the tail through
    /// ``derivative(input:output:)``.
    public func derivatives(input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, count: Int,
                            into d: UnsafeMutablePointer<Float>) {
        var i = ActivationLoops.selected.swishDerivatives(x, y, count, d)
        while i < count { d[i] = derivative(input: x[i], output: y[i]); i += 1 }
    }

    public func forward(_ invocation: ForwardInvocation) { elementwiseForward(self, invocation) }
    public func backward(_ invocation: BackwardInvocation) { elementwiseBackward(self, invocation) }
}
