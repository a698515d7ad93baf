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
                for j in 0..<count {
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
