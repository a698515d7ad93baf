import AVX2Kernels

/// A constant left operand `op(A)` (`m×k`: a layer's transformed weights) packed once into the
/// panels of the selected kernels' matrix product, so that the many products that read it skip
/// packing it. Only the AVX2 kernels have such a form (`AVX2GEMM.pack`); with other kernels
/// there is nothing to hold and ``GEMM/multiply(packedA:transposeA:m:n:k:a:lda:b:ldb:c:ldc:)``
/// multiplies the plain matrix.
struct PackedGEMMOperand: Sendable {
    let values: [Float]
    let m: Int, k: Int

    /// Packs `op(A)` (`A` is `m×k` row-major with row stride `lda`, or `k×m` when `transposeA`),
    /// or returns nil when the selected kernels do not read packed operands.
    init?(transposeA: Bool, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int) {
        #if arch(x86_64)
        guard GEMM.selectedKernels == .avx2, m > 0, k > 0 else { return nil }
        values = [Float](unsafeUninitializedCapacity: AVX2GEMM.packedCount(m: m, k: k)) { buffer, count in
            buffer.initialize(repeating: 0)
            AVX2GEMM.pack(transposeA: transposeA, m: m, k: k, a: a, lda: lda, into: buffer.baseAddress!)
            count = buffer.count
        }
        self.m = m
        self.k = k
        #else
        return nil
        #endif
    }
}
