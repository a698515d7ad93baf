import AVX512Kernels
import CBLAS
import Foundation

/// The engine's single-precision matrix product, `C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) +
/// beta · C` on row-major matrices (the contract of `cblas_sgemm(CblasRowMajor, …)`), and the
/// choice of who computes it.
///
/// On a CPU with AVX-512 the engine's own kernels (`AVX512GEMM`) run every product while OpenBLAS
/// runs one thread per call; elsewhere, or when OpenBLAS threads its calls (`bench --parallel
/// blas`, `workers.blas_threads` > 1), OpenBLAS's `sgemm` does. `SALIENCYD_GEMM=openblas` (or
/// `avx512`) overrides the choice for the process.
public enum GEMM {
    public enum Kernels: String, Sendable {
        case openBLAS = "openblas"
        case avx512
    }

    /// The kernels `SALIENCYD_GEMM` (`openblas`, `avx512`, unset or `auto`) and the CPU's flags
    /// select, and a note when the request could not be followed.
    public static func choose(request: String?, cpuFlags: Set<String>?) -> (kernels: Kernels, note: String?) {
        #if arch(x86_64)
        let hasAVX512 = cpuFlags.map { $0.isSuperset(of: CPUFlags.avx512) } ?? false
        #else
        let hasAVX512 = false
        #endif
        switch request?.lowercased() {
        case nil, "", "auto":
            return (hasAVX512 ? .avx512 : .openBLAS, nil)
        case "openblas":
            return (.openBLAS, nil)
        case "avx512":
            return hasAVX512 ? (.avx512, nil)
                : (.openBLAS, "SALIENCYD_GEMM=avx512 ignored: this CPU does not report AVX-512 (F, CD, BW, DQ, VL)")
        case let other?:
            return (hasAVX512 ? .avx512 : .openBLAS,
                    "SALIENCYD_GEMM=\(other) ignored: expected openblas, avx512 or auto")
        }
    }

    /// This process's choice, made on first use.
    public static let selection = choose(request: ProcessInfo.processInfo.environment["SALIENCYD_GEMM"],
                                         cpuFlags: CPUFlags.current())

    /// The kernels products run on now: ``selection``, unless OpenBLAS is set to thread its calls.
    public static var activeKernels: Kernels {
        selection.kernels == .avx512 && openblas_get_num_threads() == 1 ? .avx512 : .openBLAS
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
