#if arch(x86_64)
import VectorKernels

/// Single-precision matrix product with AVX2 and FMA vectors, for one thread:
/// `C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C`, all row-major — the contract of
/// `cblas_sgemm(CblasRowMajor, …)`, with `beta = 0` never reading `C`.
///
/// Blocked as BLIS blocks it (Goto & van de Geijn 2008; Van Zee & van de Geijn 2015), transposed
/// for row-major `C`: depth slices of at most ``depthBlock`` steps; within one, column blocks of
/// `op(B)` of at most ``columnBlock`` columns packed into 16-column panels (vector operand, one
/// panel at a time in L1), and row blocks of `op(A)` of at most ``rowBlock`` rows packed into
/// 6-row panels (broadcast operand, the block in L2). ``AVX2GEMMMicroKernel`` computes each 6×16
/// tile (6×8 for a block's last 5–8 columns, its narrow kernels for the last 1–4).
///
/// This module is compiled for `haswell` (AVX2, FMA, BMI, F16C): call it only on a CPU that
/// has them (the engine's `KernelSelection` checks `/proc/cpuinfo` first). Each thread keeps
/// its own packing buffers; concurrent calls must write disjoint parts of `C`.
public enum AVX2GEMM {
    /// Depth steps per slice: a 16-column `B` panel is 16 KiB, half of a 32 KiB L1.
    public static let depthBlock = 256
    /// Rows of `op(A)` packed per block: 144 KiB at full depth, within a 512 KiB L2.
    public static let rowBlock = 144
    /// Columns of `op(B)` packed per block: 2 MiB at full depth, a share of the L3.
    public static let columnBlock = 2048
    /// Columns per packed `B` panel (two vectors).
    public static let panelColumns = 16

    /// Each thread's packing buffers. Two floats of slack after the `A` block: a panel's last
    /// step is written by an 8-float store (``AVX2GEMMPacking``) and read by an 8-float load
    /// (``AVX2GEMMMicroKernel/narrow(columns:_:_:_:bStride:_:_:_:_:)``).
    static let packingBuffers = PerThreadPackingBuffers(GEMMPackingBufferSizes(
        a: (rowBlock + AVX2GEMMMicroKernel.rows) * depthBlock + 2,
        b: (columnBlock + panelColumns) * depthBlock,
        tile: AVX2GEMMMicroKernel.rows * panelColumns))

    @inline(never)
    public static func multiply(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard GEMMOutput.prepare(c, rows: m, columns: n, ldc: ldc, depth: k, alpha: alpha, beta: beta) else { return }
        run(m: m, n: n, k: k, alpha: alpha, a: .unpacked(a, lda: lda, transposed: transposeA), b: b, ldb: ldb,
            transposeB: transposeB, beta: beta, c: c, ldc: ldc)
    }

    /// Rows per packed panel of `op(A)`.
    public static let panelRows = AVX2GEMMMicroKernel.rows

    /// Floats that ``pack(transposeA:m:k:a:lda:into:)`` writes for an `m×k` `op(A)`, two of them
    /// slack for the 8-float store and load of the last panel's last step.
    public static func packedCount(m: Int, k: Int) -> Int {
        (m + AVX2GEMMMicroKernel.rows - 1) / AVX2GEMMMicroKernel.rows * AVX2GEMMMicroKernel.rows * k + 2
    }

    /// All of `op(A)` (`m×k`) in the panel layout ``multiply(packedA:m:n:k:alpha:b:ldb:transposeB:beta:c:ldc:)``
    /// reads, for a matrix used in many products (a layer's weights): for each depth slice
    /// (as `multiply` cuts `k`), all of its 6-row panels, `kc×6` each. `into` holds
    /// ``packedCount(m:k:)`` floats.
    public static func pack(transposeA: Bool, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                            into packed: UnsafeMutablePointer<Float>) {
        var p0 = 0
        let sliceDepth = sliceDepth(k)
        while p0 < k {
            let depth = p0..<min(k, p0 + sliceDepth)
            AVX2GEMMPacking.packA(a, lda: lda, transposed: transposeA, rows: 0..<m, depth: depth,
                                  into: packed + paddedRows(m) * p0)
            p0 = depth.upperBound
        }
    }

    /// ``multiply(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` with `op(A)` already
    /// packed by ``pack(transposeA:m:k:a:lda:into:)``: the product skips packing `A`, which for
    /// products of few columns (a Winograd block's 128 tiles) costs as much as a tenth of them.
    ///
    /// `firstRow` and `m` pick rows `firstRow ..< firstRow + m` of a packed `op(A)` of
    /// `packedRows` rows (default: all `m`); `firstRow` is a whole number of panels (6 rows), and
    /// `c` is where row `firstRow`'s products go.
    @inline(never)
    public static func multiply(packedA: UnsafePointer<Float>, packedRows: Int? = nil, firstRow: Int = 0,
                                m: Int, n: Int, k: Int, alpha: Float,
                                b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                                beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(firstRow % AVX2GEMMMicroKernel.rows == 0 && firstRow + m <= (packedRows ?? m),
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
        (m + AVX2GEMMMicroKernel.rows - 1) / AVX2GEMMMicroKernel.rows * AVX2GEMMMicroKernel.rows
    }

    /// The blocked product once `C` holds `beta·C` (or is to be overwritten, `beta = 0`).
    private static func run(m: Int, n: Int, k: Int, alpha: Float, a: OperandA, b: UnsafePointer<Float>, ldb: Int,
                            transposeB: Bool, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let buffers = packingBuffers.current
        let sliceDepth = sliceDepth(k)
        var p0 = 0
        while p0 < k {
            let depth = p0..<min(k, p0 + sliceDepth)
            // beta = 0: the first slice stores; otherwise C holds beta·C and every slice adds.
            let accumulate = p0 > 0 || beta != 0
            var j0 = 0
            while j0 < n {
                let columns = j0..<min(n, j0 + columnBlock)
                let operandB: GEMMOperandB
                if GEMMOperandB.readsInPlace(transposed: transposeB, ldb: ldb) {
                    operandB = .inPlace(b + depth.lowerBound * ldb + columns.lowerBound, ldb: ldb)
                } else {
                    AVX2GEMMPacking.packB(b, ldb: ldb, transposed: transposeB, depth: depth, columns: columns, into: buffers.b)
                    operandB = .packed(buffers.b)
                }
                var i0 = 0
                while i0 < m {
                    let rows = i0..<min(m, i0 + rowBlock)
                    let packedA: UnsafePointer<Float>
                    switch a {
                    case let .unpacked(a, lda, transposed):
                        AVX2GEMMPacking.packA(a, lda: lda, transposed: transposed, rows: rows, depth: depth,
                                              into: buffers.a)
                        packedA = UnsafePointer(buffers.a)
                    case let .packed(whole, packedRows, firstRow):
                        // rowBlock and firstRow are whole numbers of panels: block i0 starts at panel (firstRow + i0) / 6.
                        packedA = whole + paddedRows(packedRows) * p0 + (firstRow + i0) * depth.count
                    }
                    multiplyPacked(packedA, operandB, rows: rows, columns: columns, depth: depth.count,
                                   alpha: alpha, accumulate: accumulate, c: c, ldc: ldc, buffers: buffers)
                    i0 = rows.upperBound
                }
                j0 = columns.upperBound
            }
            p0 = depth.upperBound
        }
    }

    /// Every tile of a packed row block times a column block of `B`, one `B` panel against all
    /// of the block's `A` panels in turn. Whole tiles are written in place; edge tiles go
    /// through `tile` and only their valid part is copied out. `B` read in place gives its whole
    /// 16- and 8-column panels directly to the kernels; a last panel of another width is packed
    /// first into the (then unused) packing buffer, zero-padded to whole vectors.
    private static func multiplyPacked(_ packedA: UnsafePointer<Float>, _ operandB: GEMMOperandB,
                                       rows: Range<Int>, columns: Range<Int>, depth kc: Int, alpha: Float,
                                       accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
                                       buffers: GEMMPackingBuffers) {
        let panelRows = AVX2GEMMMicroKernel.rows
        var j = columns.lowerBound
        var packedOffset = 0
        while j < columns.upperBound {
            let count = min(panelColumns, columns.upperBound - j)
            let width = AVX2GEMMPacking.panelWidth(count)
            let kernel = width == panelColumns ? AVX2GEMMMicroKernel.tile16 : AVX2GEMMMicroKernel.tile8
            let panelB: UnsafePointer<Float>, bStride: Int
            switch operandB {
            case let .packed(packed): (panelB, bStride) = (UnsafePointer(packed) + packedOffset, width)
            case let .inPlace(b, ldb):
                if count == width {
                    (panelB, bStride) = (b + (j - columns.lowerBound), ldb)
                } else {
                    AVX2GEMMPacking.packB(b, ldb: ldb, transposed: false, depth: 0..<kc,
                                          columns: (j - columns.lowerBound)..<(j - columns.lowerBound + count),
                                          into: buffers.b)
                    (panelB, bStride) = (UnsafePointer(buffers.b), width)
                }
            }
            var i = rows.lowerBound
            var panelA = packedA
            while i < rows.upperBound {
                let rowCount = min(panelRows, rows.upperBound - i)
                // The next A panel (the block's first again after its last, which is in cache);
                // during the first A panel, the next B panel (where B is read in place, the
                // same rows 16 columns on; packed, the next panel).
                let nextA = i + panelRows < rows.upperBound ? panelA + panelRows * kc : packedA
                let nextB: UnsafePointer<Float>?
                if i == rows.lowerBound && j + count < columns.upperBound {
                    switch operandB {
                    case .packed: nextB = panelB + width * kc
                    case .inPlace: nextB = panelB + width
                    }
                } else {
                    nextB = nil
                }
                if rowCount == panelRows && count == width {
                    kernel(kc, panelA, panelB, bStride, c + i * ldc + j, ldc, alpha, accumulate, nextA, nextB)
                } else if rowCount == panelRows && count <= 4 {
                    AVX2GEMMMicroKernel.narrow(columns: count, kc, panelA, panelB, bStride: bStride, c + i * ldc + j, ldc,
                                               alpha, accumulate)
                } else {
                    kernel(kc, panelA, panelB, bStride, buffers.tile, panelColumns, alpha, false, nextA, nextB)
                    GEMMOutput.writeEdgeTile(buffers.tile, tileStride: panelColumns, rows: rowCount, columns: count,
                                             into: c + i * ldc + j, ldc: ldc, accumulate: accumulate)
                }
                panelA += panelRows * kc
                i += panelRows
            }
            packedOffset += width * kc
            j += count
        }
    }
}
#endif
