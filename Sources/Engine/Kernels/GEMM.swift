import AVX512Kernels
import CBLAS

/// The engine's single-precision matrix product, `C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) +
/// beta · C` on row-major matrices (the contract of `cblas_sgemm(CblasRowMajor, …)`), and the
/// choice of who computes it.
///
/// With the AVX-512 kernels selected (``KernelSelection``) the engine's own `AVX512GEMM` runs
/// every product while OpenBLAS runs one thread per call; otherwise, or when OpenBLAS threads
/// its calls (`bench --parallel blas`, `workers.blas_threads` > 1), OpenBLAS's `sgemm` does.
public enum GEMM {
    /// Who computes the products (`bench`'s `gemm_kernels`).
    public enum Kernels: String, Sendable {
        case openBLAS = "openblas"
        case avx512
    }

    /// Who computes products now: the AVX-512 kernels when ``KernelSelection`` chose them, unless
    /// OpenBLAS is set to thread its calls.
    public static var activeKernels: Kernels {
        KernelSelection.avx512 && openblas_get_num_threads() == 1 ? .avx512 : .openBLAS
    }

    /// Products of fewer rows than this with a transposed `B` go to OpenBLAS whatever the
    /// selection: the AVX-512 kernels transpose all of `op(B)` into panels to use it for so few
    /// rows. A dense layer's forward at batch 1 is such a product (one row, `B` the layer's
    /// matrix); on the bundled model its four dense forwards took 0.006–0.041 ms per node
    /// against 0.004–0.035 on OpenBLAS, while their VJPs (one row, `B` not transposed) took
    /// 0.003–0.022 against 0.003–0.033, so those stay.
    static let minimumAVX512RowsWithTransposedB = 8

    /// `C = alpha · op(A) · op(B) + beta · C`, row-major; `beta = 0` does not read `C`.
    @inline(__always)
    static func multiply(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        #if arch(x86_64)
        if (m >= minimumAVX512RowsWithTransposedB || !transposeB) && activeKernels == .avx512 {
            AVX512GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        #endif
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
