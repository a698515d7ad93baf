/// `e^x` for 8 lanes at once, for the sigmoid-based activations' forward and VJP loops (the C
/// library's `expf` is scalar). `@inlinable`, so that each module that inlines it compiles it
/// for its own instruction set: this target's portable build (two SSE registers per vector),
/// `AVX512Kernels` and `AVX2Kernels` (one AVX register, three-operand forms). Written for `SIMD8<Float>`, not
/// generically: a generic `SIMD` version ran 100–1000× slower, its lane operations left as
/// per-lane loops after specialisation.
///
/// Cody–Waite range reduction `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2` (ln 2 split in a part exact
/// in float32 and a correction), a degree-5 minimax polynomial for `e^r` (Cephes `expf`'s
/// coefficients), and `2^n` built in the exponent bits. Inputs are clamped to
/// `[−87.3, 88.7]`, where the result stays a normal float32. Relative error below 2.5e-7 (the
/// test measures it against double precision, both ways).
///
/// `fused` (a constant at each call: the AVX-512 and AVX2 builds pass `true`, the portable one
/// `false`, where `fma` is a library call per lane and its Swish took 17× as long) takes the range
/// reduction and the polynomial's steps as fused multiply-adds; Swift does not contract
/// `a * b + c` on its own. On the Emerald Rapids VM efficientnet_b0's Swish nodes' forward went
/// 4.75–5.00 → 3.21–3.26 ms (one thread, CPU time, alternating runs). `SIMD8.addingProduct` is
/// lane by lane until LLVM vectorises it again: written `r.addingProduct(p * r, r) + 1`, the
/// last step left the loop partly scalar (8.5 ms); check the kernels' `vfmadd…ps` after changing it.
@inlinable @inline(__always)
public func exponential(_ x: SIMD8<Float>, fused: Bool) -> SIMD8<Float> {
    typealias V = SIMD8<Float>
    var clamped = x.replacing(with: -87.3, where: x .< -87.3)
    clamped.replace(with: 88.7, where: clamped .> 88.7)
    // `a·b + c`, one fused step or a multiply and an add (the same expressions either way, so
    // the portable build's floats are those of the separate steps).
    @inline(__always) func multiplyAdd(_ a: V, _ b: V, _ c: V) -> V { fused ? c.addingProduct(a, b) : a * b + c }
    // n = round(x / ln 2): adding 1.5·2²³ rounds to an integer held in the low mantissa bits.
    let shifted = multiplyAdd(clamped, V(repeating: 1.442_695_04), V(repeating: 12_582_912))
    let n = shifted - 12_582_912
    let r = multiplyAdd(n, V(repeating: 2.121_944_4e-4), multiplyAdd(n, V(repeating: -0.693_359_375), clamped))
    var p = V(repeating: 1.987_569_15e-4)
    p = multiplyAdd(p, r, V(repeating: 1.398_199_95e-3))
    p = multiplyAdd(p, r, V(repeating: 8.333_451_9e-3))
    p = multiplyAdd(p, r, V(repeating: 4.166_579_59e-2))
    p = multiplyAdd(p, r, V(repeating: 1.666_666_55e-1))
    p = multiplyAdd(p, r, V(repeating: 5.000_000_12e-1))
    let er = fused ? (r + 1).addingProduct(p, r * r) : p * r * r + r + 1
    // 2ⁿ: n + 127 in the exponent field (n is the integer in `shifted`'s mantissa).
    let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return er * unsafeBitCast(exponent, to: SIMD8<Float>.self)
}

/// `1 / (1 + e^(−x))` for 8 lanes (0 and 1 at the clamped extremes, never NaN for finite x);
/// `fused` as for ``exponential(_:fused:)``.
@inlinable @inline(__always)
public func logisticSigmoid(_ x: SIMD8<Float>, fused: Bool) -> SIMD8<Float> {
    1 / (1 + exponential(-x, fused: fused))
}
