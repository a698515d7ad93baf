#if arch(x86_64)
import VectorKernels

/// Single-precision matrix product with AVX-512 vectors, for one thread:
/// `C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C`, all row-major — the contract of
/// `cblas_sgemm(CblasRowMajor, …)`, with `beta = 0` never reading `C`.
///
/// Blocked as in Goto & van de Geijn (2008), transposed for row-major `C`: depth slices of at
/// most ``depthBlock`` steps; within one, up to ``rowBlock`` rows of `op(A)` packed into 8-row
/// panels (broadcast operand), and column blocks of `op(B)` sized to stay in L2 packed into
/// 48-column panels (vector operand) — or, for a `B` not transposed whose rows are close
/// (`GEMMOperandB.readsInPlace`), read in place; ``GEMMMicroKernel`` computes each 8×48
/// tile in 24 registers (a panel's last 1–4 columns in its narrow kernels).
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

    /// `true` when an `m×k` operand packed by ``pack(transposeA:m:k:a:lda:into:)`` can also be read
    /// as its `k×m` transpose (``multiply(transposedPackedA:packedRows:packedDepth:n:alpha:b:ldb:transposeB:beta:c:ldc:)``):
    /// its rows, its depth and each of its depth slices are whole numbers of panels, so that 8
    /// consecutive depth steps of one panel are 8 rows of the transpose.
    public static func readsTransposed(rows m: Int, depth k: Int) -> Bool {
        m > 0 && k > 0 && m % panelRows == 0 && k % panelRows == 0 && sliceDepth(k) % panelRows == 0
    }

    /// `C = alpha · Aᵀ · op(B) + beta · C` where `A` (`k×m`, `k = packedRows`, `m = packedDepth`)
    /// was packed by ``pack(transposeA:m:k:a:lda:into:)`` as an operand of `k` rows and depth `m`:
    /// the same panels serve products with `A` and with `Aᵀ` (a Winograd forward's `U_ξ` and its
    /// VJP's `U_ξᵀ`), so the transpose is not held a second time. `C` is `m×n`, `op(B)` `k×n`.
    /// Requires ``readsTransposed(rows:depth:)``.
    ///
    /// Blocked like the plain product; its 8-row tiles read `Aᵀ`'s rows `i…i+7` as 8 columns
    /// of `A`'s panels, 8 depth steps per panel (``GEMMMicroKernel/transposedTile48(_:_:aStride:_:_:_:_:_:)``).
    @inline(never)
    public static func multiply(transposedPackedA packed: UnsafePointer<Float>, packedRows k: Int, packedDepth m: Int,
                                n: Int, alpha: Float, b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                                beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(readsTransposed(rows: k, depth: m), "a packed \(k)×\(m) operand cannot be read transposed")
        guard GEMMOutput.prepare(c, rows: m, columns: n, ldc: ldc, depth: k, alpha: alpha, beta: beta) else { return }
        run(m: m, n: n, k: k, alpha: alpha, a: .transposedPacked(packed), b: b, ldb: ldb, transposeB: transposeB,
            beta: beta, c: c, ldc: ldc)
    }

    /// Every 8-row tile of rows `rows` of `Aᵀ` times a packed column block, `A` packed as in
    /// ``multiply(transposedPackedA:packedRows:packedDepth:n:alpha:b:ldb:transposeB:beta:c:ldc:)``
    /// (`packedRows` rows, depth `m`), for this product's depth steps `depth`: rows `i…i+7` are
    /// columns `i…i+7` of the packed slice that holds them, and step `depth.lowerBound` starts
    /// that slice's panel `depth.lowerBound / 8`.
    private static func multiplyTransposedPacked(_ packed: UnsafePointer<Float>, packedRows k: Int, m: Int,
                                                 _ packedB: UnsafePointer<Float>, rows: Range<Int>, columns: Range<Int>,
                                                 depth: Range<Int>, alpha: Float, accumulate: Bool,
                                                 c: UnsafeMutablePointer<Float>, ldc: Int, buffers: GEMMPackingBuffers) {
        let rowSlice = sliceDepth(m), kc = depth.count
        var i = rows.lowerBound
        while i < rows.upperBound {
            let slice = i / rowSlice * rowSlice, sliceCount = min(m, slice + rowSlice) - slice
            let panelA = packed + k * slice + depth.lowerBound * sliceCount + (i - slice) * panelRows
            let aStride = panelRows * sliceCount
            var j = columns.lowerBound
            var panelB = packedB
            while j < columns.upperBound {
                let count = min(panelColumns, columns.upperBound - j)
                let width = (count + 15) / 16 * 16
                if count == width {
                    transposedTileKernel(width)(kc, panelA, aStride, panelB, c + i * ldc + j, ldc, alpha, accumulate)
                } else if count <= 4 {
                    // A panel's last few columns: the narrow kernels, on these 8 rows packed as a
                    // plain panel (only for such an edge; for every tile it cost 12 % of a
                    // 256-channel VJP on 49 tiles).
                    GEMMPacking.packTransposedPanel(panelA, aStride: aStride, depth: kc, into: buffers.a)
                    GEMMMicroKernel.narrow(columns: count, kc, buffers.a, panelB, bStride: width, c + i * ldc + j,
                                           ldc, alpha, accumulate)
                } else {
                    transposedTileKernel(width)(kc, panelA, aStride, panelB, buffers.tile, panelColumns, alpha, false)
                    GEMMOutput.writeEdgeTile(buffers.tile, tileStride: panelColumns, rows: panelRows, columns: count,
                                             into: c + i * ldc + j, ldc: ldc, accumulate: accumulate)
                }
                panelB += width * kc
                j += count
            }
            i += panelRows
        }
    }

    @inline(__always)
    private static func transposedTileKernel(_ width: Int)
        -> (Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Float, Bool) -> Void {
        switch width {
        case 48: { GEMMMicroKernel.transposedTile48($0, $1, aStride: $2, $3, $4, $5, $6, $7) }
        case 32: { GEMMMicroKernel.transposedTile32($0, $1, aStride: $2, $3, $4, $5, $6, $7) }
        default: { GEMMMicroKernel.transposedTile16($0, $1, aStride: $2, $3, $4, $5, $6, $7) }
        }
    }

    /// Where `op(A)` comes from: a matrix to pack block by block, or a whole packed copy.
    private enum OperandA {
        case unpacked(UnsafePointer<Float>, lda: Int, transposed: Bool)
        /// All `rows` rows packed, of which the product uses those from `firstRow` on.
        case packed(UnsafePointer<Float>, rows: Int, firstRow: Int)
        /// `op(A)ᵀ` packed (`k` rows, depth `m`), read as its transpose.
        case transposedPacked(UnsafePointer<Float>)
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
        // A transposed packed operand's depth steps are taken a whole panel of it at a time.
        var sliceDepth = sliceDepth(k)
        if case .transposedPacked = a { sliceDepth = (sliceDepth + panelRows - 1) / panelRows * panelRows }
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
                case let .transposedPacked(whole):
                    packedA = whole
                }
                var j0 = 0
                while j0 < n {
                    let columns = j0..<min(n, j0 + columnBlock)
                    if case .transposedPacked = a {
                        GEMMPacking.packB(b, ldb: ldb, transposed: transposeB, depth: depth, columns: columns, into: buffers.b)
                        multiplyTransposedPacked(packedA, packedRows: k, m: m, buffers.b, rows: rows, columns: columns,
                                                 depth: depth, alpha: alpha, accumulate: accumulate, c: c, ldc: ldc,
                                                 buffers: buffers)
                    } else if GEMMOperandB.readsInPlace(transposed: transposeB, ldb: ldb) {
                        multiplyPacked(packedA, .inPlace(b + depth.lowerBound * ldb + columns.lowerBound, ldb: ldb),
                                       rows: rows, columns: columns, depth: depth.count, alpha: alpha,
                                       accumulate: accumulate, c: c, ldc: ldc, buffers: buffers)
                    } else {
                        GEMMPacking.packB(b, ldb: ldb, transposed: transposeB, depth: depth, columns: columns, into: buffers.b)
                        multiplyPacked(packedA, .packed(buffers.b), rows: rows, columns: columns, depth: depth.count,
                                       alpha: alpha, accumulate: accumulate, c: c, ldc: ldc, buffers: buffers)
                    }
                    j0 = columns.upperBound
                }
                i0 = rows.upperBound
            }
            p0 = depth.upperBound
        }
    }

    /// Every tile of a packed row block times a column block of `B`. Whole tiles are written in
    /// place; edge tiles go through `tile` and only their valid part is copied out. `B` read in
    /// place gives its whole 16-, 32- and 48-column panels directly to the kernels; a last panel
    /// of another width is packed first (zero-padded to whole vectors: in place its vectors, or an
    /// edge row block's 16-column tile, would read past the block).
    private static func multiplyPacked(_ packedA: UnsafePointer<Float>, _ operandB: GEMMOperandB,
                                       rows: Range<Int>, columns: Range<Int>, depth kc: Int, alpha: Float,
                                       accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
                                       buffers: GEMMPackingBuffers) {
        let panelRows = GEMMMicroKernel.rows
        // In place, a last panel that is not whole vectors is packed once for all row panels.
        let lastCount = (columns.count - 1) % panelColumns + 1
        var edge: UnsafePointer<Float>?
        if case let .inPlace(b, ldb) = operandB, lastCount % 16 != 0 {
            let first = columns.count - lastCount
            GEMMPacking.packB(b, ldb: ldb, transposed: false, depth: 0..<kc, columns: first..<columns.count, into: buffers.b)
            edge = UnsafePointer(buffers.b)
        }
        /// The panel `offset` columns into the block: its first step and the stride between steps.
        @inline(__always) func panel(_ offset: Int, count: Int, width: Int) -> (UnsafePointer<Float>, Int) {
            switch operandB {
            case let .packed(packed): return (UnsafePointer(packed) + offset / panelColumns * panelColumns * kc, width)
            case let .inPlace(b, ldb):
                if let edge, count == lastCount, offset + count == columns.count { return (edge, width) }
                return (b + offset, ldb)
            }
        }
        var i = rows.lowerBound
        var panelA = packedA
        if columns.count == 16 {
            // One 16-column panel: three row panels at a time (three streams of A).
            let (b, bStride) = panel(0, count: 16, width: 16)
            while i + 3 * panelRows <= rows.upperBound {
                GEMMMicroKernel.tile16ThreePanels(kc, panelA, b, bStride, c + i * ldc + columns.lowerBound, ldc, alpha,
                                                  accumulate)
                panelA += 3 * panelRows * kc
                i += 3 * panelRows
            }
        }
        while i < rows.upperBound {
            let rowCount = min(panelRows, rows.upperBound - i)
            var j = columns.lowerBound
            while j < columns.upperBound {
                let count = min(panelColumns, columns.upperBound - j)
                let width = (count + 15) / 16 * 16
                let (b, bStride) = panel(j - columns.lowerBound, count: count, width: width)
                if rowCount == panelRows && count == width {
                    tileKernel(width)(kc, panelA, b, bStride, c + i * ldc + j, ldc, alpha, accumulate)
                } else if rowCount == panelRows && count <= 4 {
                    GEMMMicroKernel.narrow(columns: count, kc, panelA, b, bStride: bStride, c + i * ldc + j, ldc,
                                           alpha, accumulate)
                } else {
                    tileKernel(width)(kc, panelA, b, bStride, buffers.tile, panelColumns, alpha, false)
                    GEMMOutput.writeEdgeTile(buffers.tile, tileStride: panelColumns, rows: rowCount, columns: count,
                                             into: c + i * ldc + j, ldc: ldc, accumulate: accumulate)
                }
                j += count
            }
            panelA += panelRows * kc
            i += panelRows
        }
    }

    @inline(__always)
    private static func tileKernel(_ width: Int)
        -> (Int, UnsafePointer<Float>, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, Int, Float, Bool) -> Void {
        switch width {
        case 48: GEMMMicroKernel.tile48
        case 32: GEMMMicroKernel.tile32
        default: GEMMMicroKernel.tile16
        }
    }
}
#endif
