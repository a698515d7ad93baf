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

    /// Eight at a time through ``logisticSigmoid(_:)``.
    public func values(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: v * logisticSigmoid(v), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { y[i] = value(x[i]); i += 1 }
    }

    /// Eight at a time, with `σ(x)` read back from the forward output as `y / x` (no second
    /// exponential): `y = x·σ(x)` to a rounding or two, so the quotient is `σ(x)` to a few ulp.
    /// Below `|x| < 2⁻²⁰`, where `y` loses digits and `y / x` is undefined at 0,
    /// `σ(x) = 1/2 + x/4` (the next term, `x³/48`, is below 1e-19).
    public func derivatives(input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, count: Int,
                            into d: UnsafeMutablePointer<Float>) {
        var i = 0
        while i + 8 <= count {
            let u = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            // |x| by clearing the sign bit: with `pointwiseMax(u, -u)` this loop took 2.4× as long
            // as the one through the exponential.
            let magnitude = unsafeBitCast(unsafeBitCast(u, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
            let small = magnitude .< 0x1p-20
            var s = v / u.replacing(with: 1, where: small)
            s.replace(with: 0.5 + 0.25 * u, where: small)
            UnsafeMutableRawPointer(d + i).storeBytes(of: s + v * (1 - s), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { d[i] = derivative(input: x[i], output: y[i]); i += 1 }
    }

    public func forward(_ invocation: ForwardInvocation) { elementwiseForward(self, invocation) }
    public func backward(_ invocation: BackwardInvocation) { elementwiseBackward(self, invocation) }
}
