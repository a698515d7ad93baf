import AVX512Kernels
import Testing
@testable import Engine

#if arch(x86_64)
/// The engine's AVX-512 GEMM against the product written out in double precision
/// (``GEMMReferenceCheck``), on shapes that hit every edge of its blocking: rows not a multiple
/// of the 8-row panel, columns ending in a 16-, 32- or 48-wide panel or 1–15 columns into one,
/// depths split into several slices, more rows than one row block and more columns than one
/// column block, 16 columns (three row panels per kernel call) — packing `A` block by block and
/// from a whole packed copy.
@Suite(.enabled(if: CPUFlags.current()?.isSuperset(of: CPUFlags.avx512) == true,
                "this CPU does not report AVX-512"))
struct AVX512GEMMTests {
    typealias Shape = GEMMReferenceCheck.Shape

    static let shapes: [Shape] = [
        Shape(m: 1, n: 1, k: 1), Shape(m: 8, n: 48, k: 16), Shape(m: 7, n: 17, k: 3), Shape(m: 9, n: 49, k: 5),
        Shape(m: 16, n: 32, k: 256), Shape(m: 17, n: 33, k: 257), Shape(m: 3, n: 100, k: 600),
        Shape(m: 23, n: 95, k: 64), Shape(m: 1030, n: 21, k: 10), Shape(m: 9, n: 1001, k: 300),
        // Panels ending in 1–4 columns (the narrow kernels), with depths that leave every
        // remainder of their interleaved chains.
        Shape(m: 16, n: 2, k: 257), Shape(m: 8, n: 50, k: 7), Shape(m: 24, n: 51, k: 13), Shape(m: 8, n: 52, k: 9),
        Shape(m: 16, n: 196, k: 35),
        // 16 columns: three row panels at a time (24 rows), then the rest panel by panel.
        Shape(m: 30, n: 16, k: 300), Shape(m: 48, n: 16, k: 7), Shape(m: 1030, n: 16, k: 9),
        // B not transposed is read in place up to rows 4096 floats apart (every shape above and
        // the next: the check's rows are n + 3 apart); wider rows are packed, as a transposed B
        // always is.
        Shape(m: 17, n: 1030, k: 33), Shape(m: 9, n: 4100, k: 20),
    ]

    @Test(arguments: shapes)
    func matchesTheProductInDoublePrecision(shape: Shape) {
        for option in GEMMReferenceCheck.options {
            GEMMReferenceCheck.check(shape, option) { transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
                AVX512GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                    a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            }
        }
    }

    @Test(arguments: shapes)
    func packedAMatchesTheProductInDoublePrecision(shape: Shape) {
        for option in GEMMReferenceCheck.options {
            GEMMReferenceCheck.check(shape, option) { transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
                // Poisoned beyond what pack writes: a product reading past its copy goes NaN.
                var packed = [Float](repeating: .nan, count: AVX512GEMM.packedCount(m: m, k: k) + 64)
                AVX512GEMM.pack(transposeA: transposeA, m: m, k: k, a: a, lda: lda, into: &packed)
                AVX512GEMM.multiply(packedA: packed, m: m, n: n, k: k, alpha: alpha, b: b, ldb: ldb,
                                    transposeB: transposeB, beta: beta, c: c, ldc: ldc)
            }
        }
    }

    /// Rows `firstRow ..< firstRow + m` of a packed operand with more rows (a convolution's
    /// filters split over threads): the rows around them are NaN, so reading any of them into
    /// the product shows.
    @Test(arguments: [Shape(m: 7, n: 17, k: 3), Shape(m: 13, n: 49, k: 300), Shape(m: 20, n: 95, k: 64)], [8, 16])
    func rowsOfAPackedOperand(shape: Shape, firstRow: Int) {
        for option in GEMMReferenceCheck.options {
            GEMMReferenceCheck.check(shape, option) { transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
                // op(A) between NaN rows: firstRow above, 9 below.
                let rows = firstRow + m + 9
                let whole = GEMMReferenceCheck.betweenNaNRows(transposeA: transposeA, m: m, k: k, a: a, lda: lda,
                                                              firstRow: firstRow, below: 9)
                var packed = [Float](repeating: .nan, count: AVX512GEMM.packedCount(m: rows, k: k))
                AVX512GEMM.pack(transposeA: false, m: rows, k: k, a: whole, lda: k, into: &packed)
                AVX512GEMM.multiply(packedA: packed, packedRows: rows, firstRow: firstRow, m: m, n: n, k: k, alpha: alpha,
                                    b: b, ldb: ldb, transposeB: transposeB, beta: beta, c: c, ldc: ldc)
            }
        }
    }

    /// A packed operand read as its transpose (a Winograd forward's `U_ξ` serving its VJP):
    /// `op(A)ᵀ` is packed (`k` rows, depth `m`) and the product reads it back transposed. Rows
    /// across two of the packed operand's depth slices (320: two of 160), depths in several slices
    /// of their own (264: 136 + 128), and columns that make one whole tile (16, 48), several, an
    /// edge of 1–4 (the narrow kernels through a repacked panel), an edge of 5–15 and more than
    /// one column block. Poisoned beyond what pack writes.
    @Test(arguments: [Shape(m: 8, n: 16, k: 8), Shape(m: 16, n: 48, k: 24), Shape(m: 320, n: 49, k: 264),
                      Shape(m: 24, n: 1, k: 16), Shape(m: 16, n: 3, k: 40), Shape(m: 40, n: 21, k: 8),
                      Shape(m: 320, n: 16, k: 520), Shape(m: 16, n: 160, k: 16), Shape(m: 8, n: 1001, k: 520)])
    func transposedPackedOperand(shape: Shape) {
        #expect(AVX512GEMM.readsTransposed(rows: shape.k, depth: shape.m))
        for option in GEMMReferenceCheck.options {
            GEMMReferenceCheck.check(shape, option) { transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
                var packed = [Float](repeating: .nan, count: AVX512GEMM.packedCount(m: k, k: m) + 64)
                AVX512GEMM.pack(transposeA: !transposeA, m: k, k: m, a: a, lda: lda, into: &packed)
                AVX512GEMM.multiply(transposedPackedA: packed, packedRows: k, packedDepth: m, n: n, alpha: alpha,
                                    b: b, ldb: ldb, transposeB: transposeB, beta: beta, c: c, ldc: ldc)
            }
        }
    }

    /// Which packed operands can be read transposed: whole panels of rows, of depth and of
    /// every depth slice.
    @Test func readsTransposedOnlyWholePanels() {
        #expect(AVX512GEMM.readsTransposed(rows: 512, depth: 512) && AVX512GEMM.readsTransposed(rows: 8, depth: 320))
        // 7 rows; depth 12; depth 264 in slices of 132.
        #expect(!AVX512GEMM.readsTransposed(rows: 7, depth: 8) && !AVX512GEMM.readsTransposed(rows: 8, depth: 12))
        #expect(!AVX512GEMM.readsTransposed(rows: 8, depth: 264))
    }

    @Test func packWritesPanelsOfEightRowsWithZerosBelow() {
        // A = [1 2; 3 4] (m 2, k 2): one panel, step 0 = column 0 of A then zeros, step 1 = column 1.
        let a: [Float] = [1, 2, 3, 4]
        var packed = [Float](repeating: .nan, count: AVX512GEMM.packedCount(m: 2, k: 2))
        #expect(packed.count == 16)
        AVX512GEMM.pack(transposeA: false, m: 2, k: 2, a: a, lda: 2, into: &packed)
        #expect(packed == [1, 3, 0, 0, 0, 0, 0, 0, 2, 4, 0, 0, 0, 0, 0, 0])
        AVX512GEMM.pack(transposeA: true, m: 2, k: 2, a: a, lda: 2, into: &packed)
        #expect(packed == [1, 2, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0])
    }

    @Test func handComputedProductWithAccumulation() {
        // [1 2 3; 4 5 6] · [1 0; 0 1; 2 −1] = [7 −1; 16 −1]; alpha 2, beta 1 onto [1 1; 1 1].
        let a: [Float] = [1, 2, 3, 4, 5, 6], b: [Float] = [1, 0, 0, 1, 2, -1]
        var c: [Float] = [1, 1, 1, 1]
        AVX512GEMM.multiply(transposeA: false, transposeB: false, m: 2, n: 2, k: 3, alpha: 2, a: a, lda: 3, b: b, ldb: 2,
                            beta: 1, c: &c, ldc: 2)
        #expect(c == [15, -1, 33, -1])
    }

    @Test func zeroDepthScalesByBeta() {
        let a: [Float] = [1], b: [Float] = [1]
        var c: [Float] = [4, .nan, 8, 2]
        // m = 1, n = 2 with ldc = 2 over a 2-row buffer: only row 0 is C.
        AVX512GEMM.multiply(transposeA: false, transposeB: false, m: 1, n: 2, k: 0, alpha: 1, a: a, lda: 1, b: b, ldb: 2,
                            beta: 0.5, c: &c, ldc: 2)
        #expect(c[0] == 2 && c[1].isNaN && c[2] == 8 && c[3] == 2)
        AVX512GEMM.multiply(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, alpha: 1, a: a, lda: 1, b: b, ldb: 2,
                            beta: 0, c: &c, ldc: 2)
        #expect(c == [0, 0, 0, 0])
    }
}

#endif
