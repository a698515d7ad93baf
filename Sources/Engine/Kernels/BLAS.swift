import CBLAS
import Dispatch

/// OpenBLAS's thread count and a measurement of its `sgemm` throughput (the roofline the
/// engine is measured against).
public enum BLAS {
    /// Threads OpenBLAS uses for each call (process-wide).
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// The kernel set OpenBLAS chose for this CPU (e.g. `SkylakeX`, `Haswell`, `Prescott`).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The best `sgemm` throughput in GFLOP/s over `repeats` products of `size×size` matrices
    /// (`2·size³` floating-point operations each), after one warm-up product.
    public static func measureSGEMM(size: Int = 1024, repeats: Int = 5) -> Double {
        bestRate(size: size, repeats: repeats) { a, b, c in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(size), Int32(size), Int32(size),
                        1, a, Int32(size), b, Int32(size), 0, c, Int32(size))
        }
    }

    /// The best throughput in GFLOP/s of the engine's own products (``GEMM``, whichever kernels
    /// compute them with OpenBLAS's thread count as it is now) over `repeats` products of
    /// `size×size` matrices, on a team of `threads` threads that each compute a band of `C`'s
    /// rows — how the engine runs them. After one warm-up product.
    public static func measureEngineGEMM(size: Int = 1024, threads: Int, repeats: Int = 5) -> Double {
        let bands = max(1, threads)
        let team = ThreadTeam(count: bands)
        return bestRate(size: size, repeats: repeats) { a, b, c in
            team.forEach(items: bands) { band, _ in
                let rows = (band * size / bands)..<((band + 1) * size / bands)
                GEMM.multiply(m: rows.count, n: size, k: size, a: a + rows.lowerBound * size, lda: size, b: b, ldb: size,
                              c: c + rows.lowerBound * size, ldc: size)
            }
        }
    }

    /// One thread's best throughput in GFLOP/s over `repeats` products `C (m×n) = A (m×k) · B
    /// (k×n)` (row-major, `B` transposed in memory when `transposeB`), on the engine's products
    /// (``GEMM``, whichever kernels the process selected; OpenBLAS's thread count as it is now) or,
    /// with `openBLAS`, on `cblas_sgemm`. After one warm-up product; for `bench --products`.
    public static func measureProduct(m: Int, n: Int, k: Int, transposeB: Bool = false, openBLAS: Bool,
                                      repeats: Int = 5) -> Double {
        let ldb = transposeB ? k : n
        return bestRate(m: m, n: n, k: k, repeats: repeats) { a, b, c in
            if openBLAS {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n),
                            Int32(k), 1, a, Int32(k), b, Int32(ldb), 0, c, Int32(n))
            } else {
                GEMM.multiply(transposeB: transposeB, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: ldb, c: c, ldc: n)
            }
        }
    }

    /// The best GFLOP/s of `product` (`C = A·B` on `size×size` matrices, `2·size³` operations)
    /// over `repeats` timed runs after one warm-up run, on fixed inputs.
    private static func bestRate(size: Int, repeats: Int,
                                 _ product: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void)
        -> Double {
        bestRate(m: size, n: size, k: size, repeats: repeats, product)
    }

    /// The best GFLOP/s of `product` (`C (m×n) = A (m×k) · B (k×n)`, `2·m·n·k` operations) over
    /// `repeats` timed runs after one warm-up run, on fixed inputs.
    private static func bestRate(m: Int, n: Int, k: Int, repeats: Int,
                                 _ product: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void)
        -> Double {
        let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        for i in 0..<(m * k) { a[i] = Float(i % 7) / 7 }
        for i in 0..<(k * n) { b[i] = Float(i % 5) / 5 }
        var best = 0.0
        for run in 0...repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            product(a, b, c)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if run > 0 { best = max(best, 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9) }
        }
        return best
    }
}
