import Foundation

/// Logistic sigmoid, `y = 1 / (1 + e^(−x))` (ONNX `Sigmoid`). Input and output `N×…`.
/// VJP: `dx = dy · y · (1 − y)`.
public struct SigmoidOperator: ElementwiseActivation {
    public init() {}
    public var typeName: String { "Sigmoid" }

    @inline(__always) public func value(_ x: Float) -> Float {
        // Written so that neither branch overflows for large |x|.
        if x >= 0 { return 1 / (1 + expf(-x)) }
        let e = expf(x)
        return e / (1 + e)
    }
    @inline(__always) public func derivative(input x: Float, output y: Float) -> Float { y * (1 - y) }

    /// `SigmoidKernels.values` in the build ``KernelSelection`` chose (``ActivationLoops``), 8 lanes
    /// at a time; the tail through ``value(_:)``.
    public func values(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        var i = ActivationLoops.selected.sigmoidValues(x, count, y)
        while i < count { y[i] = value(x[i]); i += 1 }
    }

    public func forward(_ invocation: ForwardInvocation) { elementwiseForward(self, invocation) }
    public func backward(_ invocation: BackwardInvocation) { elementwiseBackward(self, invocation) }
}
