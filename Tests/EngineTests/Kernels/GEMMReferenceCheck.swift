import Testing
@testable import Engine

/// A matrix product checked against the same product written out in double precision, for the
/// engine's own GEMMs: random `A`, `B` and `C` with three columns of padding on every row
/// (which must stay untouched), `C` full of NaN when `beta = 0` (it must not be read), and an
/// error bound of `(k + 3)·2⁻²⁴` of the sum of the terms' magnitudes.
enum GEMMReferenceCheck {
    struct Shape: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int
        var testDescription: String { "\(m)×\(n)×\(k)" }
    }

    struct Options: Sendable {
        var transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float
    }

    /// All four transpose combinations, `alpha` ≠ 1, `beta` of 0, 1 and 0.25.
    static let options: [Options] = [
        Options(transposeA: false, transposeB: false, alpha: 1, beta: 0),
        Options(transposeA: true, transposeB: false, alpha: 1, beta: 1),
        Options(transposeA: false, transposeB: true, alpha: -0.5, beta: 0.25),
        Options(transposeA: true, transposeB: true, alpha: 2, beta: 0),
    ]

    /// The arguments of `cblas_sgemm(CblasRowMajor, …)` after the order and transposes.
    typealias Product = (_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                         _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
                         _ c: UnsafeMutablePointer<Float>, _ ldc: Int) -> Void

    /// `op(A)` (`m×k`; `A` row-major with row stride `lda`, or `k×m` when `transposeA`) written
    /// out row-major as rows `firstRow ..< firstRow + m` of a `(firstRow + m + below)×k` matrix
    /// whose other rows are NaN: for products that take a row range of a packed operand, where
    /// reading any row outside the range shows in the result.
    static func betweenNaNRows(transposeA: Bool, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                               firstRow: Int, below: Int) -> [Float] {
        var whole = [Float](repeating: .nan, count: (firstRow + m + below) * k)
        for i in 0..<m {
            for p in 0..<k { whole[(firstRow + i) * k + p] = transposeA ? a[p * lda + i] : a[i * lda + p] }
        }
        return whole
    }

    /// Runs `product` on `shape` with `option` and records an issue for any element outside the
    /// bound or any padding changed.
    static func check(_ shape: Shape, _ option: Options, _ product: Product,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let (m, n, k) = (shape.m, shape.n, shape.k)
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
        c.withUnsafeMutableBufferPointer { c in
            product(option.transposeA, option.transposeB, m, n, k, option.alpha, a, lda, b, ldb, option.beta,
                    c.baseAddress!, ldc)
        }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<ldc {
                let got = c[i * ldc + j]
                if j >= n {
                    #expect(got == 7, "padding at \(i),\(j) changed (\(shape.testDescription))",
                            sourceLocation: sourceLocation)
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
        #expect(worst <= 1, "error \(worst)× the bound for \(shape.testDescription), \(option)",
                sourceLocation: sourceLocation)
    }
}
