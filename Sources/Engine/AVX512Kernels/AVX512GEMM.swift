#if arch(x86_64)
import VectorKernels

/// Single-precision matrix product with AVX-512 vectors, for one thread:
/// `C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C`, all row-major — the contract of
/// `cblas_sgemm(CblasRowMajor, …)`, with `beta = 0` never reading `C`.
///
/// Blocked as in Goto & van de Geijn (2008), transposed for row-major `C`: depth slices of at
/// most ``depthBlock`` steps; within one, up to ``rowBlock`` rows of `op(A)` packed into 8-row
/// panels (broadcast operand), and column blocks of `op(B)` sized to stay in L2 packed into
/// 48-column panels (vector operand); ``GEMMMicroKernel`` computes each 8×48 tile in 24 registers
/// (a panel's last 1–4 columns in its narrow kernels).
///
/// This module is compiled for `skylake-avx512` (AVX-512 F/CD/BW/DQ/VL): call it only on a CPU
/// that has them (the engine's `KernelSelection` checks `/proc/cpuinfo` first). Each thread
/// keeps its own packing buffers; concurrent calls must write disjoint parts of `C`.
public enum AVX512GEMM {
    /// Depth steps per slice: a packed 8-row panel is 8 KiB, within L1 beside the streamed `B` panel.
    public static let depthBlock = 256
    /// Rows of `op(A)` packed per block (1 MiB at full depth).
    public static let rowBlock = 1024
    /// Columns per packed `B` panel (three vectors).
    public static let panelColumns = 48
    /// Bytes of packed `B` per column block, about half the 1 MiB L2 of the CPUs this targets.
    static let columnBlockBytes = 512 * 1024

    /// Each thread's packing buffers. A column block of `B` holds at most columnBlockBytes, or
    /// one panel at full depth.
    static let packingBuffers = PerThreadPackingBuffers(GEMMPackingBufferSizes(
        a: (rowBlock + GEMMMicroKernel.rows) * depthBlock,
        b: max(columnBlockBytes / 4, panelColumns * depthBlock) + panelColumns * depthBlock,
        tile: GEMMMicroKernel.rows * panelColumns))

    @inline(never)
    public static func multiply(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard GEMMOutput.prepare(c, rows: m, columns: n, ldc: ldc, depth: k, alpha: alpha, beta: beta) else { return }
        run(m: m, n: n, k: k, alpha: alpha, a: .unpacked(a, lda: lda, transposed: transposeA), b: b, ldb: ldb,
            transposeB: transposeB, beta: beta, c: c, ldc: ldc)
    }

    /// Rows per packed panel of `op(A)`.
    public static let panelRows = GEMMMicroKernel.rows

    /// Floats that ``pack(transposeA:m:k:a:lda:into:)`` writes for an `m×k` `op(A)`.
    public static func packedCount(m: Int, k: Int) -> Int { paddedRows(m) * k }

    /// All of `op(A)` (`m×k`) in the panel layout ``multiply(packedA:m:n:k:alpha:b:ldb:transposeB:beta:c:ldc:)``
    /// reads, for a matrix used in many products (a layer's weights): for each depth slice (as
    /// `multiply` cuts `k`), all of its 8-row panels, `kc×8` each. `into` holds
    /// ``packedCount(m:k:)`` floats.
    public static func pack(transposeA: Bool, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                            into packed: UnsafeMutablePointer<Float>) {
        let sliceDepth = sliceDepth(k)
        var p0 = 0
        while p0 < k {
            let depth = p0..<min(k, p0 + sliceDepth)
            GEMMPacking.packA(a, lda: lda, transposed: transposeA, rows: 0..<m, depth: depth,
                              into: packed + paddedRows(m) * p0)
            p0 = depth.upperBound
        }
    }

    /// ``multiply(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` with `op(A)` already
    /// packed by ``pack(transposeA:m:k:a:lda:into:)``: the product skips packing `A`, which for
    /// products of few columns (a Winograd position's GEMM on a 7×7 map has 16) costs more than
    /// the arithmetic.
    ///
    /// `firstRow` and `m` pick rows `firstRow ..< firstRow + m` of a packed `op(A)` of
    /// `packedRows` rows (default: all `m`); `firstRow` is a whole number of panels (8 rows), and
    /// `c` is where row `firstRow`'s products go.
    @inline(never)
    public static func multiply(packedA: UnsafePointer<Float>, packedRows: Int? = nil, firstRow: Int = 0,
                                m: Int, n: Int, k: Int, alpha: Float,
                                b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                                beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(firstRow % GEMMMicroKernel.rows == 0 && firstRow + m <= (packedRows ?? m),
                     "rows \(firstRow)..<\(firstRow + m) of a packed operand of \(packedRows ?? m) rows")
        guard GEMMOutput.prepare(c, rows: m, columns: n, ldc: ldc, depth: k, alpha: alpha, beta: beta) else { return }
        run(m: m, n: n, k: k, alpha: alpha, a: .packed(packedA, rows: packedRows ?? m, firstRow: firstRow), b: b,
            ldb: ldb, transposeB: transposeB, beta: beta, c: c, ldc: ldc)
    }

    /// Where `op(A)` comes from: a matrix to pack block by block, or a whole packed copy.
    private enum OperandA {
        case unpacked(UnsafePointer<Float>, lda: Int, transposed: Bool)
        /// All `rows` rows packed, of which the product uses those from `firstRow` on.
        case packed(UnsafePointer<Float>, rows: Int, firstRow: Int)
    }

    /// Depth slices of equal size, each at most depthBlock.
    private static func sliceDepth(_ k: Int) -> Int {
        let slices = (k + depthBlock - 1) / depthBlock
        return (k + slices - 1) / slices
    }

    /// `m` rounded up to whole panels.
    private static func paddedRows(_ m: Int) -> Int {
        (m + GEMMMicroKernel.rows - 1) / GEMMMicroKernel.rows * GEMMMicroKernel.rows
    }

    /// The blocked product once `C` holds `beta·C` (or is to be overwritten, `beta = 0`).
    private static func run(m: Int, n: Int, k: Int, alpha: Float, a: OperandA, b: UnsafePointer<Float>, ldb: Int,
                            transposeB: Bool, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let buffers = packingBuffers.current
        let sliceDepth = sliceDepth(k)
        let columnBlock = max(panelColumns, columnBlockBytes / 4 / sliceDepth / panelColumns * panelColumns)
        var p0 = 0
        while p0 < k {
            let depth = p0..<min(k, p0 + sliceDepth)
            // beta = 0: the first slice stores; otherwise C holds beta·C and every slice adds.
            let accumulate = p0 > 0 || beta != 0
            var i0 = 0
            while i0 < m {
                let rows = i0..<min(m, i0 + rowBlock)
                let packedA: UnsafePointer<Float>
                switch a {
                case let .unpacked(a, lda, transposed):
                    GEMMPacking.packA(a, lda: lda, transposed: transposed, rows: rows, depth: depth, into: buffers.a)
                    packedA = UnsafePointer(buffers.a)
                case let .packed(whole, packedRows, firstRow):
                    // rowBlock and firstRow are whole numbers of panels: block i0 starts at panel (firstRow + i0) / 8.
                    packedA = whole + paddedRows(packedRows) * p0 + (firstRow + i0) * depth.count
                }
                var j0 = 0
                while j0 < n {
                    let columns = j0..<min(n, j0 + columnBlock)
                    GEMMPacking.packB(b, ldb: ldb, transposed: transposeB, depth: depth, columns: columns, into: buffers.b)
                    multiplyPacked(packedA, buffers.b, rows: rows, columns: columns, depth: depth.count,
                                   alpha: alpha, accumulate: accumulate, c: c, ldc: ldc, tile: buffers.tile)
                    j0 = columns.upperBound
                }
                i0 = rows.upperBound
            }
            p0 = depth.upperBound
        }
    }

    /// Every tile of a packed row block times a packed column block. Whole tiles are written in
    /// place; edge tiles go through `tile` and only their valid part is copied out.
    private static func multiplyPacked(_ packedA: UnsafePointer<Float>, _ packedB: UnsafePointer<Float>,
                                       rows: Range<Int>, columns: Range<Int>, depth kc: Int, alpha: Float,
                                       accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
                                       tile: UnsafeMutablePointer<Float>) {
        let panelRows = GEMMMicroKernel.rows
        var i = rows.lowerBound
        var panelA = packedA
        while i < rows.upperBound {
            let rowCount = min(panelRows, rows.upperBound - i)
            var j = columns.lowerBound
            var panelB = packedB
            while j < columns.upperBound {
                let count = min(panelColumns, columns.upperBound - j)
                let width = (count + 15) / 16 * 16
                if rowCount == panelRows && count == width {
                    tileKernel(width)(kc, panelA, panelB, c + i * ldc + j, ldc, alpha, accumulate)
                } else if rowCount == panelRows && count <= 4 {
                    GEMMMicroKernel.narrow(columns: count, kc, panelA, panelB, bStride: width, c + i * ldc + j, ldc,
                                           alpha, accumulate)
                } else {
                    tileKernel(width)(kc, panelA, panelB, tile, panelColumns, alpha, false)
                    GEMMOutput.writeEdgeTile(tile, tileStride: panelColumns, rows: rowCount, columns: count,
                                             into: c + i * ldc + j, ldc: ldc, accumulate: accumulate)
                }
                panelB += width * kc
                j += count
            }
            panelA += panelRows * kc
            i += panelRows
        }
    }

    @inline(__always)
    private static func tileKernel(_ width: Int)
        -> (Int, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Float, Bool) -> Void {
        switch width {
        case 48: GEMMMicroKernel.tile48
        case 32: GEMMMicroKernel.tile32
        default: GEMMMicroKernel.tile16
        }
    }
}
#endif
