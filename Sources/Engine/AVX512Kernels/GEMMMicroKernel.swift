#if arch(x86_64)
/// The register block of ``AVX512GEMM``: an `8×W` tile of `C` (`W` = 16, 32 or 48 columns, one
/// to three 16-float vectors per row) accumulated over `kc` steps in 8·W/16 vector registers.
///
/// Layouts: `a` is a packed panel of `A`, `kc×8` (step `p`'s eight rows side by side, each
/// broadcast); `b` a panel of `B`, `kc×W` (step `p`'s `W` columns, loaded as vectors), steps
/// `bStride` floats apart: `W` in a packed panel, `B`'s row stride when it is read in place.
/// `c` is the tile's top-left element of a row-major matrix with row stride `ldc`. The sums are
/// scaled by `alpha`, then stored (`accumulate == false`) or added to `C`.
enum GEMMMicroKernel {
    static let rows = 8

    @inline(never)
    static func tile48(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bStride: Int,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        body(vectors: 3, kc, a, b, bStride: bStride, c, ldc, alpha, accumulate)
    }

    @inline(never)
    static func tile32(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bStride: Int,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        body(vectors: 2, kc, a, b, bStride: bStride, c, ldc, alpha, accumulate)
    }

    @inline(never)
    static func tile16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bStride: Int,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        body(vectors: 1, kc, a, b, bStride: bStride, c, ldc, alpha, accumulate)
    }

    /// ``tile16(_:_:_:_:_:_:_:)`` for three consecutive panels of `A` at once (`a`, `a + 8·kc`,
    /// `a + 16·kc`): a 24×16 tile, rows `8p + r` at `c + (8p + r)·ldc`. For products of 16 columns
    /// whose `A` streams from memory (a Winograd position's `U_ξ` on a 7×7 map at batch 1), three
    /// pages are read side by side instead of one after the other.
    @inline(never)
    static func tile16ThreePanels(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bStride: Int,
                                  _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        typealias V = SIMD16<Float>
        var x0 = V(), x1 = V(), x2 = V(), x3 = V(), x4 = V(), x5 = V(), x6 = V(), x7 = V()
        var y0 = V(), y1 = V(), y2 = V(), y3 = V(), y4 = V(), y5 = V(), y6 = V(), y7 = V()
        var z0 = V(), z1 = V(), z2 = V(), z3 = V(), z4 = V(), z5 = V(), z6 = V(), z7 = V()
        var pa = a, pb = b
        let second = rows * kc, third = 2 * rows * kc
        for _ in 0..<kc {
            let b0 = load(pb)
            @inline(__always) func panel(_ p: UnsafePointer<Float>, _ s0: inout V, _ s1: inout V, _ s2: inout V, _ s3: inout V,
                                         _ s4: inout V, _ s5: inout V, _ s6: inout V, _ s7: inout V) {
                s0 = s0.addingProduct(V(repeating: p[0]), b0); s1 = s1.addingProduct(V(repeating: p[1]), b0)
                s2 = s2.addingProduct(V(repeating: p[2]), b0); s3 = s3.addingProduct(V(repeating: p[3]), b0)
                s4 = s4.addingProduct(V(repeating: p[4]), b0); s5 = s5.addingProduct(V(repeating: p[5]), b0)
                s6 = s6.addingProduct(V(repeating: p[6]), b0); s7 = s7.addingProduct(V(repeating: p[7]), b0)
            }
            panel(pa, &x0, &x1, &x2, &x3, &x4, &x5, &x6, &x7)
            panel(pa + second, &y0, &y1, &y2, &y3, &y4, &y5, &y6, &y7)
            panel(pa + third, &z0, &z1, &z2, &z3, &z4, &z5, &z6, &z7)
            pa += rows
            pb += bStride
        }
        let scale = V(repeating: alpha)
        @inline(__always) func put(_ r: Int, _ x: V) {
            let p = c + r * ldc
            store(accumulate ? load(p) + x * scale : x * scale, p)
        }
        put(0, x0); put(1, x1); put(2, x2); put(3, x3); put(4, x4); put(5, x5); put(6, x6); put(7, x7)
        put(8, y0); put(9, y1); put(10, y2); put(11, y3); put(12, y4); put(13, y5); put(14, y6); put(15, y7)
        put(16, z0); put(17, z1); put(18, z2); put(19, z3); put(20, z4); put(21, z5); put(22, z6); put(23, z7)
    }

    /// The same product for a tile of `columns` ≤ 4 columns (a panel's last few): the vectors
    /// run down the 8 rows instead, and the depth is split into `8 / columns` interleaved chains
    /// so that eight sums are in flight. A 16-wide tile costs 8 vector FMAs per step whatever
    /// `columns` is; this costs `columns` (rounded up to 1, 2 or 4) 8-wide FMAs. `b` is the
    /// panel's first column to use, `bStride` its width; columns up to the next multiple of 4
    /// are read (the panel's zero padding) but not stored.
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
        typealias V = SIMD8<Float>
        var s0 = V(), s1 = V(), s2 = V(), s3 = V(), s4 = V(), s5 = V(), s6 = V(), s7 = V()
        var p = 0
        while p + 8 <= kc {
            s0 = s0.addingProduct(load8(a + 8 * p), V(repeating: b[p * bStride]))
            s1 = s1.addingProduct(load8(a + 8 * (p + 1)), V(repeating: b[(p + 1) * bStride]))
            s2 = s2.addingProduct(load8(a + 8 * (p + 2)), V(repeating: b[(p + 2) * bStride]))
            s3 = s3.addingProduct(load8(a + 8 * (p + 3)), V(repeating: b[(p + 3) * bStride]))
            s4 = s4.addingProduct(load8(a + 8 * (p + 4)), V(repeating: b[(p + 4) * bStride]))
            s5 = s5.addingProduct(load8(a + 8 * (p + 5)), V(repeating: b[(p + 5) * bStride]))
            s6 = s6.addingProduct(load8(a + 8 * (p + 6)), V(repeating: b[(p + 6) * bStride]))
            s7 = s7.addingProduct(load8(a + 8 * (p + 7)), V(repeating: b[(p + 7) * bStride]))
            p += 8
        }
        while p < kc {
            s0 = s0.addingProduct(load8(a + 8 * p), V(repeating: b[p * bStride]))
            p += 1
        }
        let sum = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
        storeColumn(sum, c, ldc, alpha, accumulate)
    }

    @inline(never)
    private static func narrow2(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bStride: Int,
                                _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        typealias V = SIMD8<Float>
        var s0 = V(), s1 = V(), s2 = V(), s3 = V(), t0 = V(), t1 = V(), t2 = V(), t3 = V()
        var p = 0
        while p + 4 <= kc {
            var x = load8(a + 8 * p), row = b + p * bStride
            s0 = s0.addingProduct(x, V(repeating: row[0])); t0 = t0.addingProduct(x, V(repeating: row[1]))
            x = load8(a + 8 * (p + 1)); row = b + (p + 1) * bStride
            s1 = s1.addingProduct(x, V(repeating: row[0])); t1 = t1.addingProduct(x, V(repeating: row[1]))
            x = load8(a + 8 * (p + 2)); row = b + (p + 2) * bStride
            s2 = s2.addingProduct(x, V(repeating: row[0])); t2 = t2.addingProduct(x, V(repeating: row[1]))
            x = load8(a + 8 * (p + 3)); row = b + (p + 3) * bStride
            s3 = s3.addingProduct(x, V(repeating: row[0])); t3 = t3.addingProduct(x, V(repeating: row[1]))
            p += 4
        }
        while p < kc {
            let x = load8(a + 8 * p), row = b + p * bStride
            s0 = s0.addingProduct(x, V(repeating: row[0])); t0 = t0.addingProduct(x, V(repeating: row[1]))
            p += 1
        }
        storeColumn((s0 + s1) + (s2 + s3), c, ldc, alpha, accumulate)
        storeColumn((t0 + t1) + (t2 + t3), c + 1, ldc, alpha, accumulate)
    }

    @inline(never)
    private static func narrow4(columns: Int, _ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                _ bStride: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float,
                                _ accumulate: Bool) {
        typealias V = SIMD8<Float>
        var s0 = V(), s1 = V(), s2 = V(), s3 = V(), t0 = V(), t1 = V(), t2 = V(), t3 = V()
        var p = 0
        while p + 2 <= kc {
            var x = load8(a + 8 * p), row = b + p * bStride
            s0 = s0.addingProduct(x, V(repeating: row[0])); s1 = s1.addingProduct(x, V(repeating: row[1]))
            s2 = s2.addingProduct(x, V(repeating: row[2])); s3 = s3.addingProduct(x, V(repeating: row[3]))
            x = load8(a + 8 * (p + 1)); row = b + (p + 1) * bStride
            t0 = t0.addingProduct(x, V(repeating: row[0])); t1 = t1.addingProduct(x, V(repeating: row[1]))
            t2 = t2.addingProduct(x, V(repeating: row[2])); t3 = t3.addingProduct(x, V(repeating: row[3]))
            p += 2
        }
        if p < kc {
            let x = load8(a + 8 * p), row = b + p * bStride
            s0 = s0.addingProduct(x, V(repeating: row[0])); s1 = s1.addingProduct(x, V(repeating: row[1]))
            s2 = s2.addingProduct(x, V(repeating: row[2])); s3 = s3.addingProduct(x, V(repeating: row[3]))
        }
        storeColumn(s0 + t0, c, ldc, alpha, accumulate)
        if columns > 1 { storeColumn(s1 + t1, c + 1, ldc, alpha, accumulate) }
        if columns > 2 { storeColumn(s2 + t2, c + 2, ldc, alpha, accumulate) }
        if columns > 3 { storeColumn(s3 + t3, c + 3, ldc, alpha, accumulate) }
    }

    /// Column sums of the 8 rows into `c[r·ldc]`, scaled by `alpha`, stored or added.
    @inline(__always)
    private static func storeColumn(_ sum: SIMD8<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float,
                                    _ accumulate: Bool) {
        let scaled = sum * alpha
        for r in 0..<8 {
            if accumulate { c[r * ldc] += scaled[r] } else { c[r * ldc] = scaled[r] }
        }
    }

    /// ``tile48(_:_:_:_:_:_:_:)`` with `A` read from the panels of its transpose: `a` points at
    /// 8 consecutive columns (this tile's 8 rows) of one 8-row panel of a packed `Aᵀ`, so step `p`
    /// of row `r` is `a[(p / 8)·aStride + 8·r + p % 8]` — a packed operand used both as it is and
    /// transposed (a Winograd forward's `U_ξ` and its VJP's `U_ξᵀ`) is held once. `kc` is a
    /// multiple of 8; `aStride` is the distance between the transpose's panels (`8·` its slice depth).
    @inline(never)
    static func transposedTile48(_ kc: Int, _ a: UnsafePointer<Float>, aStride: Int, _ b: UnsafePointer<Float>,
                                 _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        body(vectors: 3, kc, a, transposedStride: aStride, b, bStride: 48, c, ldc, alpha, accumulate)
    }

    @inline(never)
    static func transposedTile32(_ kc: Int, _ a: UnsafePointer<Float>, aStride: Int, _ b: UnsafePointer<Float>,
                                 _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        body(vectors: 2, kc, a, transposedStride: aStride, b, bStride: 32, c, ldc, alpha, accumulate)
    }

    @inline(never)
    static func transposedTile16(_ kc: Int, _ a: UnsafePointer<Float>, aStride: Int, _ b: UnsafePointer<Float>,
                                 _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        body(vectors: 1, kc, a, transposedStride: aStride, b, bStride: 16, c, ldc, alpha, accumulate)
    }

    /// One tile of `vectors`·16 columns; `vectors` is a constant at each call, so the unused
    /// accumulators and branches fold away. `A` is a packed panel (`transposedStride` nil) or
    /// the panels of its transpose (``transposedTile48(_:_:aStride:_:_:_:_:_:)``), also fixed at each call.
    @inline(__always)
    private static func body(vectors: Int, _ kc: Int, _ a: UnsafePointer<Float>, transposedStride: Int? = nil,
                             _ b: UnsafePointer<Float>, bStride: Int,
                             _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
        typealias V = SIMD16<Float>
        var c00 = V(), c01 = V(), c02 = V(), c10 = V(), c11 = V(), c12 = V()
        var c20 = V(), c21 = V(), c22 = V(), c30 = V(), c31 = V(), c32 = V()
        var c40 = V(), c41 = V(), c42 = V(), c50 = V(), c51 = V(), c52 = V()
        var c60 = V(), c61 = V(), c62 = V(), c70 = V(), c71 = V(), c72 = V()
        var pa = a, pb = b
        /// One step: row `r`'s `A` value is `a[r·rowStride]`; `B`'s next `width` columns.
        @inline(__always) func step(_ a: UnsafePointer<Float>, rowStride: Int) {
            let b0 = load(pb)
            let b1 = vectors > 1 ? load(pb + 16) : V()
            let b2 = vectors > 2 ? load(pb + 32) : V()
            @inline(__always) func row(_ r: Int, _ x0: inout V, _ x1: inout V, _ x2: inout V) {
                let s = V(repeating: a[r * rowStride])
                x0 = x0.addingProduct(s, b0)
                if vectors > 1 { x1 = x1.addingProduct(s, b1) }
                if vectors > 2 { x2 = x2.addingProduct(s, b2) }
            }
            row(0, &c00, &c01, &c02); row(1, &c10, &c11, &c12); row(2, &c20, &c21, &c22); row(3, &c30, &c31, &c32)
            row(4, &c40, &c41, &c42); row(5, &c50, &c51, &c52); row(6, &c60, &c61, &c62); row(7, &c70, &c71, &c72)
            pb += bStride
        }
        if let transposedStride {
            for _ in 0..<(kc / rows) {
                for p in 0..<rows { step(pa + p, rowStride: rows) }
                pa += transposedStride
            }
        } else {
            for _ in 0..<kc {
                step(pa, rowStride: 1)
                pa += rows
            }
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
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

@inline(__always)
func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }

@inline(__always)
func load(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> { load(UnsafePointer(p)) }

@inline(__always)
func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self) }
#endif
