#if arch(x86_64)
/// Copies of `A` and `B` blocks into the panel layouts ``AVX2GEMMMicroKernel`` reads.
enum AVX2GEMMPacking {
    /// Rows `rows` and depth `depth` of `op(A)` into panels of 6 rows, `depth.count×6` each
    /// (zeros below the last row). `A` is `m×k` row-major (`lda`), or `k×m` when `transposed`.
    static func packA(_ a: UnsafePointer<Float>, lda: Int, transposed: Bool, rows: Range<Int>, depth: Range<Int>,
                      into panels: UnsafeMutablePointer<Float>) {
        let panelRows = AVX2GEMMMicroKernel.rows
        let kc = depth.count
        var row0 = rows.lowerBound
        var panel = panels
        while row0 < rows.upperBound {
            let count = min(panelRows, rows.upperBound - row0)
            if transposed && count == panelRows {
                // op(A)'s row r, step p is a[p·lda + r]: each step's six rows are contiguous.
                var source = a + depth.lowerBound * lda + row0
                var target = panel
                for _ in 0..<kc {
                    UnsafeMutableRawPointer(target).storeBytes(
                        of: UnsafeRawPointer(source).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(target + 4).storeBytes(
                        of: UnsafeRawPointer(source + 4).loadUnaligned(as: SIMD2<Float>.self), as: SIMD2<Float>.self)
                    source += lda
                    target += panelRows
                }
            } else if transposed {
                for p in 0..<kc {
                    let source = a + (depth.lowerBound + p) * lda + row0
                    let target = panel + p * panelRows
                    for r in 0..<panelRows { target[r] = r < count ? source[r] : 0 }
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

    /// Six rows of `depth` floats (`lda` apart) into a `depth×6` panel, eight steps at a time
    /// from one vector load per row, through an 8×8 transpose in registers (written element by
    /// element, the compiler turns it into shuffles). Each step's six values go out as one
    /// 8-float store whose last two lanes the next step's store overwrites, so the last store
    /// of a panel writes two floats past it (``AVX2GEMM``'s packing buffers leave room).
    @inline(__always)
    private static func transposeRows(_ source: UnsafePointer<Float>, lda: Int, depth kc: Int,
                                      into panel: UnsafeMutablePointer<Float>) {
        @inline(__always) func row(_ r: Int, _ p: Int) -> SIMD8<Float> { loadVector(source + r * lda + p) }
        var p = 0
        while p + 8 <= kc {
            let r0 = row(0, p), r1 = row(1, p), r2 = row(2, p), r3 = row(3, p), r4 = row(4, p), r5 = row(5, p)
            for i in 0..<8 {
                storeVector(SIMD8(r0[i], r1[i], r2[i], r3[i], r4[i], r5[i], 0, 0), panel + (p + i) * 6)
            }
            p += 8
        }
        while p < kc {
            for r in 0..<6 { panel[p * 6 + r] = source[r * lda + p] }
            p += 1
        }
    }

    /// Eight columns of `op(B)` stored as rows (`ldb` apart) into 8 adjacent columns of a panel
    /// `width` wide, eight steps at a time through an 8×8 transpose in registers.
    @inline(__always)
    private static func transposeColumns(_ source: UnsafePointer<Float>, ldb: Int, depth kc: Int,
                                         into panel: UnsafeMutablePointer<Float>, width: Int) {
        @inline(__always) func column(_ j: Int, _ p: Int) -> SIMD8<Float> { loadVector(source + j * ldb + p) }
        var p = 0
        while p + 8 <= kc {
            let c0 = column(0, p), c1 = column(1, p), c2 = column(2, p), c3 = column(3, p)
            let c4 = column(4, p), c5 = column(5, p), c6 = column(6, p), c7 = column(7, p)
            for i in 0..<8 {
                storeVector(SIMD8(c0[i], c1[i], c2[i], c3[i], c4[i], c5[i], c6[i], c7[i]), panel + (p + i) * width)
            }
            p += 8
        }
        while p < kc {
            for j in 0..<8 { panel[p * width + j] = source[j * ldb + p] }
            p += 1
        }
    }

    /// Depth `depth` and columns `columns` of `op(B)` into panels of 16 columns (the last one 8
    /// or 16 wide, zeros right of the last column), `depth.count×width` each. `B` is `k×n`
    /// row-major (`ldb`), or `n×k` when `transposed`.
    static func packB(_ b: UnsafePointer<Float>, ldb: Int, transposed: Bool, depth: Range<Int>, columns: Range<Int>,
                      into panels: UnsafeMutablePointer<Float>) {
        let kc = depth.count
        var column0 = columns.lowerBound
        var panel = panels
        while column0 < columns.upperBound {
            let count = min(AVX2GEMM.panelColumns, columns.upperBound - column0)
            let width = panelWidth(count)
            if transposed {
                // op(B)'s step p, column j is b[j·ldb + p]: each column's steps are contiguous.
                var j = 0
                while j + 8 <= count {
                    transposeColumns(b + (column0 + j) * ldb + depth.lowerBound, ldb: ldb, depth: kc,
                                     into: panel + j, width: width)
                    j += 8
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
                        while j < width { storeVector(loadVector(source + j), target + j); j += 8 }
                    } else {
                        for j in 0..<width { target[j] = j < count ? source[j] : 0 }
                    }
                }
            }
            panel += width * kc
            column0 += count
        }
    }

    /// The width of a panel holding `count` ≤ 16 columns: 8 or 16.
    @inline(__always)
    static func panelWidth(_ count: Int) -> Int { count <= 8 ? 8 : 16 }
}
#endif
