#if arch(x86_64)
/// Copies of `A` and `B` blocks into the panel layouts ``GEMMMicroKernel`` reads.
enum GEMMPacking {
    /// Rows `rows` and depth `depth` of `op(A)` into panels of 8 rows, `depth.count×8` each
    /// (zeros below the last row). `A` is `m×k` row-major (`lda`), or `k×m` when `transposed`.
    static func packA(_ a: UnsafePointer<Float>, lda: Int, transposed: Bool, rows: Range<Int>, depth: Range<Int>,
                      into panels: UnsafeMutablePointer<Float>) {
        let panelRows = GEMMMicroKernel.rows
        let kc = depth.count
        var row0 = rows.lowerBound
        var panel = panels
        while row0 < rows.upperBound {
            let count = min(panelRows, rows.upperBound - row0)
            if transposed {
                // op(A)'s row r, step p is a[p·lda + r]: each step's 8 rows are contiguous.
                for p in 0..<kc {
                    let source = a + (depth.lowerBound + p) * lda + row0
                    let target = panel + p * panelRows
                    if count == panelRows {
                        UnsafeMutableRawPointer(target).storeBytes(
                            of: UnsafeRawPointer(source).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                    } else {
                        for r in 0..<panelRows { target[r] = r < count ? source[r] : 0 }
                    }
                }
            } else if count == panelRows {
                transposeRows(a + row0 * lda + depth.lowerBound, lda: lda, depth: kc, into: panel)
            } else {
                for r in 0..<panelRows {
                    if r < count {
                        let source = a + (row0 + r) * lda + depth.lowerBound
                        for p in 0..<kc { panel[p * panelRows + r] = source[p] }
                    } else {
                        for p in 0..<kc { panel[p * panelRows + r] = 0 }
                    }
                }
            }
            panel += panelRows * kc
            row0 += panelRows
        }
    }

    /// Eight rows of a transposed packed operand (``AVX512GEMM/multiply(transposedPackedA:packedRows:packedDepth:n:alpha:b:ldb:transposeB:beta:c:ldc:)``)
    /// into a `depth×8` panel as ``packA(_:lda:transposed:rows:depth:into:)`` writes it: `a` is
    /// 8 columns of one panel of the packed operand, `aStride` floats from the next; each 8×8
    /// block of 8 steps is transposed in registers. `depth` is a multiple of 8.
    static func packTransposedPanel(_ a: UnsafePointer<Float>, aStride: Int, depth kc: Int,
                                    into panel: UnsafeMutablePointer<Float>) {
        for block in 0..<(kc / GEMMMicroKernel.rows) {
            transposeRows(a + block * aStride, lda: GEMMMicroKernel.rows, depth: GEMMMicroKernel.rows,
                          into: panel + block * GEMMMicroKernel.rows * GEMMMicroKernel.rows)
        }
    }

    /// Eight rows of `depth` floats (`lda` apart) into a `depth×8` panel, eight steps at a time
    /// through an 8×8 transpose in registers (written element by element, the compiler turns it
    /// into shuffles; a strided scalar loop became scatters, 2.2× slower on a 512×256 block).
    @inline(__always)
    private static func transposeRows(_ source: UnsafePointer<Float>, lda: Int, depth kc: Int,
                                      into panel: UnsafeMutablePointer<Float>) {
        typealias V8 = SIMD8<Float>
        @inline(__always) func row(_ r: Int, _ p: Int) -> V8 {
            UnsafeRawPointer(source + r * lda + p).loadUnaligned(as: V8.self)
        }
        @inline(__always) func put(_ v: V8, _ p: Int) {
            UnsafeMutableRawPointer(panel + p * 8).storeBytes(of: v, as: V8.self)
        }
        var p = 0
        while p + 8 <= kc {
            let r0 = row(0, p), r1 = row(1, p), r2 = row(2, p), r3 = row(3, p)
            let r4 = row(4, p), r5 = row(5, p), r6 = row(6, p), r7 = row(7, p)
            for i in 0..<8 { put(V8(r0[i], r1[i], r2[i], r3[i], r4[i], r5[i], r6[i], r7[i]), p + i) }
            p += 8
        }
        while p < kc {
            put(V8(source[p], source[lda + p], source[2 * lda + p], source[3 * lda + p],
                   source[4 * lda + p], source[5 * lda + p], source[6 * lda + p], source[7 * lda + p]), p)
            p += 1
        }
    }

    /// Sixteen columns of `op(B)` stored as rows (`ldb` apart) into 16 adjacent columns of a
    /// panel `width` wide, eight steps at a time through a 16×8 transpose in registers.
    @inline(__always)
    private static func transposeColumns(_ source: UnsafePointer<Float>, ldb: Int, depth kc: Int,
                                         into panel: UnsafeMutablePointer<Float>, width: Int) {
        typealias V8 = SIMD8<Float>
        @inline(__always) func column(_ j: Int, _ p: Int) -> V8 {
            UnsafeRawPointer(source + j * ldb + p).loadUnaligned(as: V8.self)
        }
        var p = 0
        while p + 8 <= kc {
            let c0 = column(0, p), c1 = column(1, p), c2 = column(2, p), c3 = column(3, p)
            let c4 = column(4, p), c5 = column(5, p), c6 = column(6, p), c7 = column(7, p)
            let c8 = column(8, p), c9 = column(9, p), c10 = column(10, p), c11 = column(11, p)
            let c12 = column(12, p), c13 = column(13, p), c14 = column(14, p), c15 = column(15, p)
            for i in 0..<8 {
                store(SIMD16(c0[i], c1[i], c2[i], c3[i], c4[i], c5[i], c6[i], c7[i],
                             c8[i], c9[i], c10[i], c11[i], c12[i], c13[i], c14[i], c15[i]), panel + (p + i) * width)
            }
            p += 8
        }
        while p < kc {
            for j in 0..<16 { panel[p * width + j] = source[j * ldb + p] }
            p += 1
        }
    }

    /// Depth `depth` and columns `columns` of `op(B)` into panels of 48 columns (the last one
    /// 16, 32 or 48 wide, zeros right of the last column), `depth.count×width` each. `B` is
    /// `k×n` row-major (`ldb`), or `n×k` when `transposed`.
    static func packB(_ b: UnsafePointer<Float>, ldb: Int, transposed: Bool, depth: Range<Int>, columns: Range<Int>,
                      into panels: UnsafeMutablePointer<Float>) {
        let kc = depth.count
        var column0 = columns.lowerBound
        var panel = panels
        while column0 < columns.upperBound {
            let count = min(AVX512GEMM.panelColumns, columns.upperBound - column0)
            let width = (count + 15) / 16 * 16
            if transposed {
                // op(B)'s step p, column j is b[j·ldb + p]: each column's steps are contiguous.
                var j = 0
                while j + 16 <= count {
                    transposeColumns(b + (column0 + j) * ldb + depth.lowerBound, ldb: ldb, depth: kc,
                                     into: panel + j, width: width)
                    j += 16
                }
                for j in j..<count {
                    let source = b + (column0 + j) * ldb + depth.lowerBound
                    for p in 0..<kc { panel[p * width + j] = source[p] }
                }
                if count < width {
                    for p in 0..<kc { for j in count..<width { panel[p * width + j] = 0 } }
                }
            } else {
                for p in 0..<kc {
                    let source = b + (depth.lowerBound + p) * ldb + column0
                    let target = panel + p * width
                    if count == width {
                        var j = 0
                        while j < width { store(load(source + j), target + j); j += 16 }
                    } else {
                        for j in 0..<width { target[j] = j < count ? source[j] : 0 }
                    }
                }
            }
            panel += width * kc
            column0 += count
        }
    }
}
#endif
