/// A convolution's VJP as convolutions of the output gradient, one per sub-pixel phase, so that
/// every GEMM writes input-gradient pixels (`C/g` rows) instead of im2col columns to fold back.
///
/// For input pixel `h`, kernel row `i` contributes iff `h + padTop − i·dH = oh·sH` for an output
/// row `oh`. Writing `h = ph + sH·a` (phase `ph` in `0..<sH`), the kernel rows that can
/// contribute are those with `(ph + padTop − i·dH) mod sH = 0`, and then `oh = a + δᵢ` with
/// `δᵢ = (ph + padTop − i·dH) / sH`: a stride-1 correlation of `dY` over the phase's grid. The
/// same holds for columns. So for every phase `(ph, pw)`, with its taps `T` (kernel rows × kernel
/// columns of that phase):
///
///     dX[c, ph + sH·a, pw + sW·b] = Σ_{m, (i,j) ∈ T} W[m, c, i, j] · dY[m, a + δᵢ, b + δⱼ]
///
/// — one GEMM `W_T (C/g × M/g·|T|) · gather(dY) (M/g·|T| × Ha·Wa)`. For stride 1 there is one
/// phase covering every pixel in place, so the GEMM writes `dX` directly.
///
/// Which kernel rows a phase takes depends on the padding only through `(ph + padTop) mod sH`;
/// the rows are grouped by their class `i·dH mod sH`, and the weight matrices are built once per
/// class pair, independent of the input size.
struct TransposedConvolution: Sendable {
    /// Kernel rows of each row class `κ = i·dH mod sH`, and kernel columns of each column class.
    let rowClasses: [[Int]]
    let columnClasses: [[Int]]
    /// For class pair `(κh, κw)` and group `g`: the `C/g × (M/g·|I|·|J|)` matrix
    /// `W_T[c, (m·|I| + ii)·|J| + jj] = W[g·M/g + m, c, I[ii], J[jj]]`, at
    /// `offsets[κh·sW + κw] + g·(C/g)·(M/g)·|I|·|J|`.
    let weights: [Float]
    let offsets: [Int]
    let groupInputs: Int
    let groupOutputs: Int

    /// - Parameters:
    ///   - weights: `M×(C/groups)×kH×kW`.
    init(weights: Tensor, groups: Int, strides: (Int, Int), dilations: (Int, Int)) {
        let filters = weights.shape[0], perGroup = weights.shape[1]
        let kh = weights.shape[2], kw = weights.shape[3]
        let groupOutputs = filters / max(groups, 1)
        rowClasses = (0..<strides.0).map { k in (0..<kh).filter { $0 * dilations.0 % strides.0 == k } }
        columnClasses = (0..<strides.1).map { k in (0..<kw).filter { $0 * dilations.1 % strides.1 == k } }
        var values: [Float] = []
        values.reserveCapacity(weights.values.count)
        var offsets: [Int] = []
        for rows in rowClasses {
            for columns in columnClasses {
                offsets.append(values.count)
                for group in 0..<groups {
                    for c in 0..<perGroup {
                        for m in 0..<groupOutputs {
                            let filter = group * groupOutputs + m
                            for i in rows {
                                for j in columns {
                                    values.append(weights.values[((filter * perGroup + c) * kh + i) * kw + j])
                                }
                            }
                        }
                    }
                }
            }
        }
        self.weights = values
        self.offsets = offsets
        self.groupInputs = perGroup
        self.groupOutputs = groupOutputs
    }

    /// One sub-pixel phase of the input gradient for a resolved geometry.
    struct Phase {
        /// First input row and column of the phase (`ph`, `pw`); its grid is `Ha×Wa` pixels
        /// `(ph + sH·a, pw + sW·b)`.
        var row: Int, column: Int
        var gridHeight: Int, gridWidth: Int
        /// The class pair whose kernel rows, columns and weight matrix the phase uses.
        var rowClass: Int, columnClass: Int
        /// Kernel taps reaching the phase: `|I|·|J|`.
        var taps: Int
    }

    /// Calls `body` for every phase of `g`, in row-major phase order.
    @inline(__always)
    func forEachPhase(_ g: WindowGeometry, _ body: (Phase) -> Void) {
        for ph in 0..<g.strideHeight {
            let rowClass = (ph + g.padTop) % g.strideHeight
            let gridHeight = ph < g.inputHeight ? (g.inputHeight - ph + g.strideHeight - 1) / g.strideHeight : 0
            for pw in 0..<g.strideWidth {
                let columnClass = (pw + g.padLeft) % g.strideWidth
                let gridWidth = pw < g.inputWidth ? (g.inputWidth - pw + g.strideWidth - 1) / g.strideWidth : 0
                body(Phase(row: ph, column: pw, gridHeight: gridHeight, gridWidth: gridWidth,
                           rowClass: rowClass, columnClass: columnClass,
                           taps: rowClasses[rowClass].count * columnClasses[columnClass].count))
            }
        }
    }

    /// `δ` of kernel row `i` in `phase`: grid row `a` reads output row `a + δ`.
    @inline(__always)
    func shift(row i: Int, phase: Phase, geometry g: WindowGeometry) -> Int {
        (phase.row + g.padTop - i * g.dilationHeight) / g.strideHeight
    }

    /// `δ` of kernel column `j` in `phase`: grid column `b` reads output column `b + δ`.
    @inline(__always)
    func shift(column j: Int, phase: Phase, geometry g: WindowGeometry) -> Int {
        (phase.column + g.padLeft - j * g.dilationWidth) / g.strideWidth
    }

    /// The `C/g × (M/g·taps)` weight matrix of `phase` for `group`.
    @inline(__always)
    func matrix(_ phase: Phase, group: Int, strideWidth: Int, in base: UnsafePointer<Float>) -> UnsafePointer<Float> {
        base + offsets[phase.rowClass * strideWidth + phase.columnClass] + group * groupInputs * groupOutputs * phase.taps
    }

    /// Fills `columns` (`(M/g·taps)×(rows·Wa)`, rows `rowStride` apart) for grid rows `gridRows`
    /// of `phase`: row `(m·|I| + ii)·|J| + jj`, column `(a − lower)·Wa + b` holds
    /// `dY[m, a + δᵢ, b + δⱼ]` (0 outside `dY`), `dY` being `planes` planes of `height×width`.
    func gather(_ outputGradient: UnsafePointer<Float>, planes: Int, height: Int, width: Int, phase: Phase,
                geometry g: WindowGeometry, gridRows: Range<Int>, into columns: UnsafeMutablePointer<Float>,
                rowStride: Int) {
        let gridWidth = phase.gridWidth
        let kernelRows = rowClasses[phase.rowClass], kernelColumns = columnClasses[phase.columnClass]
        var row = columns
        for m in 0..<planes {
            let plane = outputGradient + m * height * width
            for i in kernelRows {
                let rowShift = shift(row: i, phase: phase, geometry: g)
                for j in kernelColumns {
                    let columnShift = shift(column: j, phase: phase, geometry: g)
                    // Grid columns b with 0 ≤ b + δ < width.
                    let lower = min(max(0, -columnShift), gridWidth)
                    let upper = max(lower, min(gridWidth, width - columnShift))
                    for a in gridRows {
                        let destination = row + (a - gridRows.lowerBound) * gridWidth
                        let sourceRow = a + rowShift
                        guard sourceRow >= 0, sourceRow < height, lower < upper else {
                            for k in 0..<gridWidth { destination[k] = 0 }
                            continue
                        }
                        let source = plane + sourceRow * width + columnShift
                        for k in 0..<lower { destination[k] = 0 }
                        for k in lower..<upper { destination[k] = source[k] }
                        for k in upper..<gridWidth { destination[k] = 0 }
                    }
                    row += rowStride
                }
            }
        }
    }
}
