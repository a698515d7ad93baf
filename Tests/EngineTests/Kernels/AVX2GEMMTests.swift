import AVX2Kernels
import Testing
@testable import Engine

#if arch(x86_64)
/// The engine's AVX2 GEMM against the product written out in double precision
/// (``GEMMReferenceCheck``), packing `A` block by block and from a whole packed copy, on shapes
/// that hit every edge of its blocking: rows not a multiple of the 6-row panel, columns ending
/// in an 8- or 16-wide panel or 1–7 columns into one (1–4 of them by the narrow kernels), depths split into several slices (equal
/// ones, so a packed copy's slices line up), more rows than one 144-row block and more columns
/// than one 2048-column block.
@Suite(.enabled(if: CPUFlags.current()?.isSuperset(of: CPUFlags.avx2) == true,
                "this CPU does not report AVX2, FMA and Haswell's other extensions"))
struct AVX2GEMMTests {
    typealias Shape = GEMMReferenceCheck.Shape

    static let shapes: [Shape] = [
        Shape(m: 1, n: 1, k: 1), Shape(m: 6, n: 16, k: 16), Shape(m: 5, n: 17, k: 3), Shape(m: 7, n: 9, k: 5),
        Shape(m: 12, n: 8, k: 256), Shape(m: 13, n: 25, k: 257), Shape(m: 3, n: 100, k: 600),
        Shape(m: 23, n: 95, k: 64), Shape(m: 151, n: 21, k: 10), Shape(m: 300, n: 40, k: 520),
        Shape(m: 9, n: 2100, k: 30), Shape(m: 64, n: 196, k: 35), Shape(m: 18, n: 2, k: 9),
        // Full 6-row panels ending in 1 or 3 columns (the narrow kernels), with depths below,
        // at and above their unrolled steps and across two slices.
        Shape(m: 6, n: 1, k: 1), Shape(m: 12, n: 33, k: 300), Shape(m: 6, n: 19, k: 7), Shape(m: 13, n: 3, k: 11),
        // B not transposed is read in place up to rows 4096 floats apart (`GEMMOperandB.readsInPlace`: every
        // shape above, the check's rows being n + 3 apart); wider rows are packed, as a transposed B
        // always is.
        Shape(m: 7, n: 4100, k: 20),
    ]

    @Test(arguments: shapes)
    func matchesTheProductInDoublePrecision(shape: Shape) {
        for option in GEMMReferenceCheck.options {
            GEMMReferenceCheck.check(shape, option) { transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
                AVX2GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                  a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            }
        }
    }

    @Test(arguments: shapes)
    func packedAMatchesTheProductInDoublePrecision(shape: Shape) {
        for option in GEMMReferenceCheck.options {
            GEMMReferenceCheck.check(shape, option) { transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
                // Poisoned beyond what pack writes: a product reading past its copy goes NaN.
                var packed = [Float](repeating: .nan, count: AVX2GEMM.packedCount(m: m, k: k) + 64)
                AVX2GEMM.pack(transposeA: transposeA, m: m, k: k, a: a, lda: lda, into: &packed)
                AVX2GEMM.multiply(packedA: packed, m: m, n: n, k: k, alpha: alpha, b: b, ldb: ldb,
                                  transposeB: transposeB, beta: beta, c: c, ldc: ldc)
            }
        }
    }

    /// Rows `firstRow ..< firstRow + m` of a packed operand with more rows, NaN around them (as
    /// ``AVX512GEMMTests``, with 6-row panels).
    @Test(arguments: [Shape(m: 7, n: 17, k: 3), Shape(m: 13, n: 49, k: 300), Shape(m: 20, n: 95, k: 64)], [6, 12])
    func rowsOfAPackedOperand(shape: Shape, firstRow: Int) {
        for option in GEMMReferenceCheck.options {
            GEMMReferenceCheck.check(shape, option) { transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
                // op(A) between NaN rows: firstRow above, 7 below.
                let rows = firstRow + m + 7
                let whole = GEMMReferenceCheck.betweenNaNRows(transposeA: transposeA, m: m, k: k, a: a, lda: lda,
                                                              firstRow: firstRow, below: 7)
                var packed = [Float](repeating: .nan, count: AVX2GEMM.packedCount(m: rows, k: k))
                AVX2GEMM.pack(transposeA: false, m: rows, k: k, a: whole, lda: k, into: &packed)
                AVX2GEMM.multiply(packedA: packed, packedRows: rows, firstRow: firstRow, m: m, n: n, k: k, alpha: alpha,
                                  b: b, ldb: ldb, transposeB: transposeB, beta: beta, c: c, ldc: ldc)
            }
        }
    }

    @Test func handComputedProductWithAccumulation() {
        // [1 2 3; 4 5 6] · [1 0; 0 1; 2 −1] = [7 −1; 16 −1]; alpha 2, beta 1 onto [1 1; 1 1].
        let a: [Float] = [1, 2, 3, 4, 5, 6], b: [Float] = [1, 0, 0, 1, 2, -1]
        var c: [Float] = [1, 1, 1, 1]
        AVX2GEMM.multiply(transposeA: false, transposeB: false, m: 2, n: 2, k: 3, alpha: 2, a: a, lda: 3, b: b, ldb: 2,
                          beta: 1, c: &c, ldc: 2)
        #expect(c == [15, -1, 33, -1])
    }

    @Test func packWritesPanelsOfSixRowsWithZerosBelow() {
        // A = [1 2; 3 4] (m 2, k 2): one panel, step 0 = column 0 of A then zeros, step 1 = column 1.
        let a: [Float] = [1, 2, 3, 4]
        var packed = [Float](repeating: .nan, count: AVX2GEMM.packedCount(m: 2, k: 2))
        AVX2GEMM.pack(transposeA: false, m: 2, k: 2, a: a, lda: 2, into: &packed)
        #expect(Array(packed[0..<12]) == [1, 3, 0, 0, 0, 0, 2, 4, 0, 0, 0, 0])
        AVX2GEMM.pack(transposeA: true, m: 2, k: 2, a: a, lda: 2, into: &packed)
        #expect(Array(packed[0..<12]) == [1, 2, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0])
    }

    @Test func zeroDepthScalesByBeta() {
        let a: [Float] = [1], b: [Float] = [1]
        var c: [Float] = [4, .nan, 8, 2]
        // m = 1, n = 2 with ldc = 2 over a 2-row buffer: only row 0 is C.
        AVX2GEMM.multiply(transposeA: false, transposeB: false, m: 1, n: 2, k: 0, alpha: 1, a: a, lda: 1, b: b, ldb: 2,
                          beta: 0.5, c: &c, ldc: 2)
        #expect(c[0] == 2 && c[1].isNaN && c[2] == 8 && c[3] == 2)
        AVX2GEMM.multiply(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, alpha: 1, a: a, lda: 1, b: b, ldb: 2,
                          beta: 0, c: &c, ldc: 2)
        #expect(c == [0, 0, 0, 0])
    }
}
#endif
