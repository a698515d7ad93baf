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
