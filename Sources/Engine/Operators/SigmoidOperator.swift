import AVX512Kernels
import Foundation
import VectorKernels

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

    /// `SigmoidKernels.values` 16 lanes at a time with AVX-512 (``KernelSelection``), else 8; the
    /// tail through ``value(_:)``.
    public func values(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        var i = KernelSelection.avx512 ? AVX512Activations.sigmoidValues(x, count: count, into: y)
            : PortableActivations.sigmoidValues(x, count: count, into: y)
        #else
        var i = PortableActivations.sigmoidValues(x, count: count, into: y)
        #endif
        while i < count { y[i] = value(x[i]); i += 1 }
    }

    public func forward(_ invocation: ForwardInvocation) { elementwiseForward(self, invocation) }
    public func backward(_ invocation: BackwardInvocation) { elementwiseBackward(self, invocation) }
}
