import AVX2Kernels
import AVX512Kernels

/// A constant left operand `op(A)` (`m×k`: a layer's transformed weights) packed once into the
/// panels of the selected kernels' matrix product (`AVX512GEMM.pack`, `AVX2GEMM.pack`), so that
/// the many products that read it skip packing it. With OpenBLAS (the portable kernels) there is
/// nothing to hold and ``GEMM/multiply(packedA:transposeA:m:n:k:a:lda:b:ldb:c:ldc:)`` multiplies
/// the plain matrix.
struct PackedGEMMOperand: Sendable {
    let values: [Float]
    let m: Int, k: Int
    /// The kernels whose panel layout `values` is in.
    let kernels: GEMM.Kernels

    /// Rows per panel of that layout: a product of some of the rows starts at a multiple of it.
    var panelRows: Int {
        #if arch(x86_64)
        kernels == .avx512 ? AVX512GEMM.panelRows : AVX2GEMM.panelRows
        #else
        1
        #endif
    }

    /// `true` when the products can also read this operand as its transpose (`k×m`,
    /// ``GEMM/multiply(transposedPackedA:m:n:k:b:ldb:c:ldc:)``): the AVX-512 kernels' panels, with
    /// `m`, `k` and each depth slice whole numbers of panels.
    var readableTransposed: Bool {
        #if arch(x86_64)
        kernels == .avx512 && AVX512GEMM.readsTransposed(rows: m, depth: k)
        #else
        false
        #endif
    }

    /// Packs `op(A)` (`A` is `m×k` row-major with row stride `lda`, or `k×m` when `transposeA`),
    /// or returns nil when the selected kernels do not read packed operands.
    init?(transposeA: Bool, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int) {
        #if arch(x86_64)
        let kernels = GEMM.selectedKernels
        guard kernels != .openBLAS, m > 0, k > 0 else { return nil }
        let count = kernels == .avx512 ? AVX512GEMM.packedCount(m: m, k: k) : AVX2GEMM.packedCount(m: m, k: k)
        values = [Float](unsafeUninitializedCapacity: count) { buffer, count in
            buffer.initialize(repeating: 0)
            if kernels == .avx512 {
                AVX512GEMM.pack(transposeA: transposeA, m: m, k: k, a: a, lda: lda, into: buffer.baseAddress!)
            } else {
                AVX2GEMM.pack(transposeA: transposeA, m: m, k: k, a: a, lda: lda, into: buffer.baseAddress!)
            }
            count = buffer.count
        }
        self.kernels = kernels
        self.m = m
        self.k = k
        #else
        return nil
        #endif
    }
}
