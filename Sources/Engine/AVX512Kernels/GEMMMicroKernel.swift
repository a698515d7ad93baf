#if arch(x86_64)
/// The register block of ``AVX512GEMM``: an `8×W` tile of `C` (`W` = 16, 32 or 48 columns, one
/// to three 16-float vectors per row) accumulated over `kc` steps in 8·W/16 vector registers.
///
/// Layouts: `a` is a packed panel of `A`, `kc×8` (step `p`'s eight rows side by side, each
/// broadcast); `b` a packed panel of `B`, `kc×W` (step `p`'s `W` columns, loaded as vectors).
/// `c` is the tile's top-left element of a row-major matrix with row stride `ldc`. The sums are
/// scaled by `alpha`, then stored (`accumulate == false`) or added to `C`.
enum GEMMMicroKernel {
    static let rows = 8

    @inline(never)
    static func tile48(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        body(vectors: 3, kc, a, b, c, ldc, alpha, accumulate)
    }

    @inline(never)
    static func tile32(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        body(vectors: 2, kc, a, b, c, ldc, alpha, accumulate)
    }

    @inline(never)
    static func tile16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        body(vectors: 1, kc, a, b, c, ldc, alpha, accumulate)
    }

    /// One tile of `vectors`·16 columns; `vectors` is a constant at each call, so the unused
    /// accumulators and branches fold away.
    @inline(__always)
    private static func body(vectors: Int, _ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                             _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        typealias V = SIMD16<Float>
        var c00 = V(), c01 = V(), c02 = V(), c10 = V(), c11 = V(), c12 = V()
        var c20 = V(), c21 = V(), c22 = V(), c30 = V(), c31 = V(), c32 = V()
        var c40 = V(), c41 = V(), c42 = V(), c50 = V(), c51 = V(), c52 = V()
        var c60 = V(), c61 = V(), c62 = V(), c70 = V(), c71 = V(), c72 = V()
        var pa = a, pb = b
        let width = vectors * 16
        for _ in 0..<kc {
            let b0 = load(pb)
            let b1 = vectors > 1 ? load(pb + 16) : V()
            let b2 = vectors > 2 ? load(pb + 32) : V()
            @inline(__always) func row(_ r: Int, _ x0: inout V, _ x1: inout V, _ x2: inout V) {
                let s = V(repeating: pa[r])
                x0 = x0.addingProduct(s, b0)
                if vectors > 1 { x1 = x1.addingProduct(s, b1) }
                if vectors > 2 { x2 = x2.addingProduct(s, b2) }
            }
            row(0, &c00, &c01, &c02); row(1, &c10, &c11, &c12); row(2, &c20, &c21, &c22); row(3, &c30, &c31, &c32)
            row(4, &c40, &c41, &c42); row(5, &c50, &c51, &c52); row(6, &c60, &c61, &c62); row(7, &c70, &c71, &c72)
            pa += rows
            pb += width
        }
        let scale = V(repeating: alpha)
        @inline(__always) func put(_ r: Int, _ x0: V, _ x1: V, _ x2: V) {
            let p = c + r * ldc
            if accumulate {
                store(load(p) + x0 * scale, p)
                if vectors > 1 { store(load(p + 16) + x1 * scale, p + 16) }
                if vectors > 2 { store(load(p + 32) + x2 * scale, p + 32) }
            } else {
                store(x0 * scale, p)
                if vectors > 1 { store(x1 * scale, p + 16) }
                if vectors > 2 { store(x2 * scale, p + 32) }
            }
        }
        put(0, c00, c01, c02); put(1, c10, c11, c12); put(2, c20, c21, c22); put(3, c30, c31, c32)
        put(4, c40, c41, c42); put(5, c50, c51, c52); put(6, c60, c61, c62); put(7, c70, c71, c72)
    }
}

@inline(__always)
func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }

@inline(__always)
func load(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> { load(UnsafePointer(p)) }

@inline(__always)
func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self) }
#endif
