// The vector loops of the sigmoid-based activations, `@inlinable` (see `exponential`), and
// their portable build (`PortableActivations`).

/// The vector loops of Swish, `y = x·σ(x)` (the engine's `SwishOperator`), 8 values at a
/// time. Each returns how many values it wrote (a multiple of 8); the caller finishes the rest
/// with its scalar formula.
public enum SwishKernels {
    /// `y[i] = x[i]·σ(x[i])`; `fused` as for `exponential(_:fused:)`.
    @inlinable @inline(__always)
    public static func values(_ x: UnsafePointer<Float>, count: Int,
                                       into y: UnsafeMutablePointer<Float>, fused: Bool) -> Int
{
        let width = 8
        var i = 0
        while i + width <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: v * logisticSigmoid(v, fused: fused), as: SIMD8<Float>.self)
            i += width
        }
        return i
    }

    /// `d[i] = f'(x[i]) = σ + y·(1 − σ)`, with `σ(x)` read back from the forward output as
    /// `y / x` (no second exponential): `y = x·σ(x)` to a rounding or two, so the quotient is
    /// `σ(x)` to a few ulp. Below `|x| < 2⁻²⁰`, where `y` loses digits and `y / x` is undefined
    /// at 0, `σ(x) = 1/2 + x/4` (the next term, `x³/48`, is below 1e-19).
    @inlinable @inline(__always)
    public static func derivatives(input x: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                                            count: Int, into d: UnsafeMutablePointer<Float>) -> Int
{
        let width = 8
        var i = 0
        while i + width <= count {
            let u = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            // |x| by clearing the sign bit: with `pointwiseMax(u, -u)` the 8-wide loop took 2.4×
            // as long as one through the exponential.
            let magnitude = unsafeBitCast(unsafeBitCast(u, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
            let small = magnitude .< 0x1p-20
            var s = v / u.replacing(with: 1, where: small)
            s.replace(with: 0.5 + 0.25 * u, where: small)
            UnsafeMutableRawPointer(d + i).storeBytes(of: s + v * (1 - s), as: SIMD8<Float>.self)
            i += width
        }
        return i
    }
}

/// The vector loop of the logistic sigmoid (the engine's `SigmoidOperator`), as ``SwishKernels``.
public enum SigmoidKernels {
    /// `y[i] = σ(x[i])`; `fused` as for `exponential(_:fused:)`.
    @inlinable @inline(__always)
    public static func values(_ x: UnsafePointer<Float>, count: Int,
                                       into y: UnsafeMutablePointer<Float>, fused: Bool) -> Int
{
        let width = 8
        var i = 0
        while i + width <= count {
            UnsafeMutableRawPointer(y + i).storeBytes(of: logisticSigmoid(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self), fused: fused),
                                                      as: SIMD8<Float>.self)
            i += width
        }
        return i
    }
}

/// The loops above compiled with this target's instruction set (portable, baseline x86-64) and
/// optimised in every configuration — what the engine runs where `AVX512Activations` may not.
/// Same contracts.
public enum PortableActivations {
    @inline(never)
    public static func swishValues(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) -> Int {
        SwishKernels.values(x, count: count, into: y, fused: false)
    }

    @inline(never)
    public static func swishDerivatives(input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, count: Int,
                                        into d: UnsafeMutablePointer<Float>) -> Int {
        SwishKernels.derivatives(input: x, output: y, count: count, into: d)
    }

    @inline(never)
    public static func sigmoidValues(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) -> Int {
        SigmoidKernels.values(x, count: count, into: y, fused: false)
    }
}
