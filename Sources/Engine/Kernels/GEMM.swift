import AVX2Kernels
import AVX512Kernels
import CBLAS

/// The engine's single-precision matrix product, `C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) +
/// beta · C` on row-major matrices (the contract of `cblas_sgemm(CblasRowMajor, …)`), and the
/// choice of who computes it.
///
/// With the AVX-512 or AVX2 kernels selected (``KernelSelection``) the engine's own `AVX512GEMM`
/// or `AVX2GEMM` runs every product while OpenBLAS runs one thread per call; otherwise, or when
/// OpenBLAS threads its calls (`bench --parallel blas`, `workers.blas_threads` > 1), OpenBLAS's
/// `sgemm` does.
public enum GEMM {
    /// Who computes the products (`bench`'s `gemm_kernels`).
    public enum Kernels: String, Sendable {
        case openBLAS = "openblas"
        case avx2
        case avx512

        /// How `bench` and the log name them.
        public var description: String {
            switch self {
            case .openBLAS: "OpenBLAS"
            case .avx2: "saliencyd's AVX2 kernels"
            case .avx512: "saliencyd's AVX-512 kernels"
            }
        }
    }

    /// Who computes products when OpenBLAS runs one thread per call: the engine's kernels
    /// ``KernelSelection`` chose, or OpenBLAS with the portable build.
    public static var selectedKernels: Kernels {
        switch KernelSelection.current.kernels {
        case .avx512: .avx512
        case .avx2: .avx2
        case .portable: .openBLAS
        }
    }

    /// Who computes products now: ``selectedKernels``, unless OpenBLAS is set to thread its calls.
    public static var activeKernels: Kernels {
        openblas_get_num_threads() == 1 ? selectedKernels : .openBLAS
    }

    /// Products of fewer rows than this with a transposed `B` go to OpenBLAS whatever the
    /// selection: the engine's kernels transpose all of `op(B)` into panels to use it for so few
    /// rows. A dense layer's forward at batch 1 is such a product (one row, `B` the layer's
    /// matrix); on the bundled model its four dense forwards took 0.006–0.041 ms per node on the
    /// AVX-512 kernels against 0.004–0.035 on OpenBLAS, while their VJPs (one row, `B` not
    /// transposed) took 0.003–0.022 against 0.003–0.033, so those stay.
    static let minimumOwnKernelRowsWithTransposedB = 8

    /// `C = op(A) · B`, row-major, reading `op(A)` from `packedA` when it is given and its kernels
    /// run now, or when there is no plain `a` (the packed kernels then run even while OpenBLAS
    /// threads its calls); otherwise from `a` as
    /// ``multiply(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
    ///
    /// With `rows`, only those rows of `op(A)` (`m` of them in all): `c` is where the first one's
    /// products go, and `rows.lowerBound` is a whole number of the packed operand's panels
    /// (``PackedGEMMOperand/panelRows``).
    @inline(__always)
    static func multiply(packedA: PackedGEMMOperand?, transposeA: Bool, m: Int, rows: Range<Int>? = nil, n: Int, k: Int,
                         a: UnsafePointer<Float>?, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int) {
        let rows = rows ?? 0..<m
        #if arch(x86_64)
        if let packedA, a == nil || packedA.kernels == activeKernels {
            precondition(packedA.m == m && packedA.k == k, "packed operand is \(packedA.m)×\(packedA.k), not \(m)×\(k)")
            packedA.values.withUnsafeBufferPointer { packed in
                if packedA.kernels == .avx512 {
                    AVX512GEMM.multiply(packedA: packed.baseAddress!, packedRows: m, firstRow: rows.lowerBound,
                                        m: rows.count, n: n, k: k, alpha: 1, b: b, ldb: ldb,
                                        transposeB: false, beta: 0, c: c, ldc: ldc)
                } else {
                    AVX2GEMM.multiply(packedA: packed.baseAddress!, packedRows: m, firstRow: rows.lowerBound,
                                      m: rows.count, n: n, k: k, alpha: 1, b: b, ldb: ldb,
                                      transposeB: false, beta: 0, c: c, ldc: ldc)
                }
            }
            return
        }
        #endif
        guard let a else { preconditionFailure("a product with neither a plain nor a packed A") }
        multiply(transposeA: transposeA, m: rows.count, n: n, k: k, a: a + rows.lowerBound * (transposeA ? 1 : lda),
                 lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
    }

    /// `C = Aᵀ · B` (`m×n`, row-major) with `A` (`k×m`) read from its packed operand
    /// (`packedA.m == k`, `packedA.k == m`), which must be ``PackedGEMMOperand/readableTransposed``;
    /// the packed kernels run whichever kernels are active, as with a packed `A` and no plain one.
    @inline(__always)
    static func multiply(transposedPackedA packedA: PackedGEMMOperand, m: Int, n: Int, k: Int,
                         b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(packedA.readableTransposed && packedA.m == k && packedA.k == m,
                     "packed operand \(packedA.m)×\(packedA.k) read as the transpose of a \(k)×\(m) matrix")
        #if arch(x86_64)
        packedA.values.withUnsafeBufferPointer { packed in
            AVX512GEMM.multiply(transposedPackedA: packed.baseAddress!, packedRows: k, packedDepth: m, n: n, alpha: 1,
                                b: b, ldb: ldb, transposeB: false, beta: 0, c: c, ldc: ldc)
        }
        #endif
    }

    /// `C = alpha · op(A) · op(B) + beta · C`, row-major; `beta = 0` does not read `C`.
    @inline(__always)
    static func multiply(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        #if arch(x86_64)
        if m >= minimumOwnKernelRowsWithTransposedB || !transposeB {
            switch activeKernels {
            case .avx512:
                AVX512GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                    a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
                return
            case .avx2:
                AVX2GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                  a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
                return
            case .openBLAS:
                break
            }
        }
        #endif
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
