#if arch(x86_64)
import CPrefetch
/// The register block of ``AVX2GEMM``: a `6×W` tile of `C` (`W` = 16 or 8 columns, two or one
/// 8-float vectors per row) accumulated over `kc` steps in 12 (or 6) of the 16 AVX registers,
/// with two for `B`'s vectors and one for the broadcast element of `A` — the shape of BLIS's
/// Haswell `sgemm` kernel.
///
/// Layouts: `a` is a packed panel of `A`, `kc×6` (step `p`'s six rows side by side, each
/// broadcast); `b` a panel of `B`, `kc×W` (step `p`'s `W` columns, loaded as vectors), steps
/// `bStride` floats apart: `W` in a packed panel, `B`'s row stride when it is read in place.
/// `c` is the tile's top-left element of a row-major matrix with row stride `ldc`. The sums are
/// scaled by `alpha`, then stored (`accumulate == false`) or added to `C`.
enum AVX2GEMMMicroKernel {
    static let rows = 6

    /// Software prefetch (the data of the first calls of a product come from memory or L3; the
    /// Winograd products' `V_ξ`, `M_ξ` and `U_ξ` are megabytes a layer): `nextA` is the `A`
    /// panel the following call reads, asked for towards L2 at this call's pace (one prefetch
    /// per step, 24 bytes on); `nextB`, if given, the `B` panel after this one (same `bStride`),
    /// asked for towards L1 row by row. The tile's lines of `C` are asked for (to be written)
    /// before the loop. resnet18 on the Zen 3 VM (two threads, four alternating rounds): forward
    /// + Jacobian 252–294 → 211–244 ms, forward + gradient 53–68 → 39–55 ms.
    @inline(never)
    static func tile16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bStride: Int,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool,
                       nextA: UnsafePointer<Float>, nextB: UnsafePointer<Float>?) {
        prefetching(vectors: 2, kc, a, b, bStride, c, ldc, alpha, accumulate, nextA, nextB)
    }

    @inline(never)
    static func tile8(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bStride: Int,
                      _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool,
                      nextA: UnsafePointer<Float>, nextB: UnsafePointer<Float>?) {
        prefetching(vectors: 1, kc, a, b, bStride, c, ldc, alpha, accumulate, nextA, nextB)
    }

    /// ``body`` with the `B` prefetch or without it (a constant in each inlined copy).
    @inline(__always)
    private static func prefetching(vectors: Int, _ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                    _ bStride: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float,
                                    _ accumulate: Bool, _ nextA: UnsafePointer<Float>, _ nextB: UnsafePointer<Float>?) {
        if let nextB {
            body(vectors: vectors, kc, a, b, bStride, c, ldc, alpha, accumulate, nextA, nextB, prefetchB: true)
        } else {
            body(vectors: vectors, kc, a, b, bStride, c, ldc, alpha, accumulate, nextA, b, prefetchB: false)
        }
    }

    /// One tile of `vectors`·8 columns; `vectors` is a constant at each call, so the unused
    /// accumulators and branches fold away.
    @inline(__always)
    private static func body(vectors: Int, _ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                             _ bStride: Int,
                             _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool,
                             _ nextA: UnsafePointer<Float>, _ nextB: UnsafePointer<Float>, prefetchB: Bool) {
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        for r in 0..<rows {
            saliencyd_prefetch_write(c + r * ldc)
            // The row's last column: its second line when the row does not start on one.
            saliencyd_prefetch_write(c + r * ldc + 8 * vectors - 1)
        }
        var pa = a, pb = b, na = nextA, nb = nextB
        for _ in 0..<kc {
            saliencyd_prefetch_l2(na)
            na += rows
            if prefetchB { saliencyd_prefetch_l1(nb); nb += bStride }
            let b0 = loadVector(pb)
            let b1 = vectors > 1 ? loadVector(pb + 8) : V()
            @inline(__always) func row(_ r: Int, _ x0: inout V, _ x1: inout V) {
                let s = V(repeating: pa[r])
                x0 = x0.addingProduct(s, b0)
                if vectors > 1 { x1 = x1.addingProduct(s, b1) }
            }
            row(0, &c00, &c01); row(1, &c10, &c11); row(2, &c20, &c21)
            row(3, &c30, &c31); row(4, &c40, &c41); row(5, &c50, &c51)
            pa += rows
            pb += bStride
        }
        let scale = V(repeating: alpha)
        @inline(__always) func put(_ r: Int, _ x0: V, _ x1: V) {
            let p = c + r * ldc
            if accumulate {
                storeVector(loadVector(p) + x0 * scale, p)
                if vectors > 1 { storeVector(loadVector(p + 8) + x1 * scale, p + 8) }
            } else {
                storeVector(x0 * scale, p)
                if vectors > 1 { storeVector(x1 * scale, p + 8) }
            }
        }
        put(0, c00, c01); put(1, c10, c11); put(2, c20, c21)
        put(3, c30, c31); put(4, c40, c41); put(5, c50, c51)
    }
}

extension AVX2GEMMMicroKernel {
    /// A full-height tile of only `columns` ≤ 4 columns (a block's last ones), with the rows in
    /// the vector instead of the columns: each step loads the `A` panel's six values as one
    /// vector (lanes 6 and 7 read the next step's first two, and are discarded) and adds one
    /// product per column, against ``tile8``'s six, and 8 independent sums hide the FMA latency.
    /// `b` is the panel ``tile8`` reads (`kc×bStride`, zeros right of its last column).
    static func narrow(columns: Int, _ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, bStride: Int,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        switch columns {
        case 1: narrow1(kc, a, b, bStride, c, ldc, alpha, accumulate)
        case 2: narrow2(kc, a, b, bStride, c, ldc, alpha, accumulate)
        default: narrow4(columns: columns, kc, a, b, bStride, c, ldc, alpha, accumulate)
        }
    }

    @inline(never)
    private static func narrow1(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bStride: Int,
                                _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        narrowBody(computed: 1, stored: 1, steps: 8, kc, a, b, bStride, c, ldc, alpha, accumulate)
    }

    @inline(never)
    private static func narrow2(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bStride: Int,
                                _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        narrowBody(computed: 2, stored: 2, steps: 4, kc, a, b, bStride, c, ldc, alpha, accumulate)
    }

    /// Three or four columns: four computed (the panel's fourth is zeros when there are three).
    @inline(never)
    private static func narrow4(columns: Int, _ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                _ bStride: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float,
                                _ accumulate: Bool) {
        narrowBody(computed: 4, stored: columns, steps: 2, kc, a, b, bStride, c, ldc, alpha, accumulate)
    }

    /// `computed` columns × `steps` unrolled steps = 8 sums (constants at each call, so the
    /// loops unroll and the sums stay in registers); the first `stored` columns are written.
    @inline(__always)
    private static func narrowBody(computed: Int, stored: Int, steps: Int, _ kc: Int, _ a: UnsafePointer<Float>,
                                   _ b: UnsafePointer<Float>, _ bStride: Int, _ c: UnsafeMutablePointer<Float>,
                                   _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        typealias V = SIMD8<Float>
        var sums = EightVectors()
        var p = 0
        while p + steps <= kc {
            for u in 0..<steps {
                let x = loadVector(a + rows * (p + u)), row = b + (p + u) * bStride
                for j in 0..<computed {
                    sums[u * computed + j] = sums[u * computed + j].addingProduct(x, V(repeating: row[j]))
                }
            }
            p += steps
        }
        while p < kc {
            let x = loadVector(a + rows * p), row = b + p * bStride
            for j in 0..<computed { sums[j] = sums[j].addingProduct(x, V(repeating: row[j])) }
            p += 1
        }
        for j in 0..<stored {
            var sum = sums[j]
            for u in 1..<steps { sum += sums[u * computed + j] }
            sum *= alpha
            let column = c + j
            for r in 0..<rows {
                if accumulate { column[r * ldc] += sum[r] } else { column[r * ldc] = sum[r] }
            }
        }
    }
}

/// Eight vectors addressed by an index that is a constant wherever it is used, so that they
/// live in registers.
private struct EightVectors {
    var v0 = SIMD8<Float>(), v1 = SIMD8<Float>(), v2 = SIMD8<Float>(), v3 = SIMD8<Float>()
    var v4 = SIMD8<Float>(), v5 = SIMD8<Float>(), v6 = SIMD8<Float>(), v7 = SIMD8<Float>()

    subscript(index: Int) -> SIMD8<Float> {
        @inline(__always) get {
            switch index {
            case 0: v0
            case 1: v1
            case 2: v2
            case 3: v3
            case 4: v4
            case 5: v5
            case 6: v6
            default: v7
            }
        }
        @inline(__always) set {
            switch index {
            case 0: v0 = newValue
            case 1: v1 = newValue
            case 2: v2 = newValue
            case 3: v3 = newValue
            case 4: v4 = newValue
            case 5: v5 = newValue
            case 6: v6 = newValue
            default: v7 = newValue
            }
        }
    }
}

@inline(__always)
func loadVector(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

@inline(__always)
func loadVector(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { loadVector(UnsafePointer(p)) }

@inline(__always)
func storeVector(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}
#endif
