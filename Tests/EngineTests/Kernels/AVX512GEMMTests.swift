import AVX512Kernels
import Testing
@testable import Engine

#if arch(x86_64)
/// The engine's AVX-512 GEMM against the product written out in double precision, on shapes that
/// hit every edge of its blocking: rows not a multiple of the 8-row panel, columns ending in a
/// 16-, 32- or 48-wide panel or 1–15 columns into one, depths split into several slices, more rows than one
/// row block and more columns than one column block; all four transpose combinations, `alpha`
/// ≠ 1, `beta` of 0 (with `C` full of NaN, which must not be read), 1 and 0.25, and leading
/// dimensions wider than the matrices (the padding must stay untouched).
@Suite(.enabled(if: CPUFlags.current()?.isSuperset(of: CPUFlags.avx512) == true,
                "this CPU does not report AVX-512"))
struct AVX512GEMMTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int
        var testDescription: String { "\(m)×\(n)×\(k)" }
    }

    static let shapes: [Shape] = [
        Shape(m: 1, n: 1, k: 1), Shape(m: 8, n: 48, k: 16), Shape(m: 7, n: 17, k: 3), Shape(m: 9, n: 49, k: 5),
        Shape(m: 16, n: 32, k: 256), Shape(m: 17, n: 33, k: 257), Shape(m: 3, n: 100, k: 600),
        Shape(m: 23, n: 95, k: 64), Shape(m: 1030, n: 21, k: 10), Shape(m: 9, n: 1001, k: 300),
        // Panels ending in 1–4 columns (the narrow kernels), with depths that leave every
        // remainder of their interleaved chains.
        Shape(m: 16, n: 2, k: 257), Shape(m: 8, n: 50, k: 7), Shape(m: 24, n: 51, k: 13), Shape(m: 8, n: 52, k: 9),
        Shape(m: 16, n: 196, k: 35),
    ]

    struct Options: Sendable {
        var transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float
    }

    static let options: [Options] = [
        Options(transposeA: false, transposeB: false, alpha: 1, beta: 0),
        Options(transposeA: true, transposeB: false, alpha: 1, beta: 1),
        Options(transposeA: false, transposeB: true, alpha: -0.5, beta: 0.25),
        Options(transposeA: true, transposeB: true, alpha: 2, beta: 0),
    ]

    @Test(arguments: shapes)
    func matchesTheProductInDoublePrecision(shape: Shape) {
        for option in Self.options { check(shape, option) }
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

    private func check(_ shape: Shape, _ option: Options) {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        // Stored shapes of A and B, with three columns of padding on each row.
        let (aRows, aColumns) = option.transposeA ? (k, m) : (m, k)
        let (bRows, bColumns) = option.transposeB ? (n, k) : (k, n)
        let lda = aColumns + 3, ldb = bColumns + 3, ldc = n + 3
        var generator = SeededGenerator(seed: UInt64(m * 1_000_003 + n * 1009 + k))
        let a = (0..<(aRows * lda)).map { _ in Float.random(in: -1...1, using: &generator) }
        let b = (0..<(bRows * ldb)).map { _ in Float.random(in: -1...1, using: &generator) }
        let initial = (0..<(m * ldc)).map { index -> Float in
            index % ldc >= n ? 7 : (option.beta == 0 ? .nan : Float.random(in: -1...1, using: &generator))
        }
        var c = initial
        AVX512GEMM.multiply(transposeA: option.transposeA, transposeB: option.transposeB, m: m, n: n, k: k,
                            alpha: option.alpha, a: a, lda: lda, b: b, ldb: ldb, beta: option.beta, c: &c, ldc: ldc)
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<ldc {
                let got = c[i * ldc + j]
                if j >= n {
                    #expect(got == 7, "padding at \(i),\(j) changed (\(shape.testDescription))")
                    continue
                }
                var sum = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let x = Double(option.transposeA ? a[p * lda + i] : a[i * lda + p])
                    let y = Double(option.transposeB ? b[j * ldb + p] : b[p * ldb + j])
                    sum += x * y
                    magnitude += abs(x * y)
                }
                let alpha = Double(option.alpha), beta = Double(option.beta)
                let previous = option.beta == 0 ? 0 : Double(initial[i * ldc + j])
                let expected = alpha * sum + beta * previous
                // Float32 summation of k products: |error| ≤ k·2⁻²⁴ of the sum of magnitudes (plus
                // the final scaling and addition of beta·C).
                let bound = (Double(k) + 3) * 0x1p-24 * (abs(alpha) * magnitude + abs(beta * previous)) + 1e-30
                worst = max(worst, abs(Double(got) - expected) / bound)
            }
        }
        #expect(worst <= 1, "error \(worst)× the bound for \(shape.testDescription), \(option)")
    }
}

#endif
