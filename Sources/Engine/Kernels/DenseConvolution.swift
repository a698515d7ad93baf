/// A convolution on a small map written out as the dense linear map it is: one frame's
/// `C×H×W` input to its `M×Ho×Wo` output is `y = D·x`, with
/// `D[(m·Ho + oh)·Wo + ow][(c·H + ih)·W + iw] = w[m][c − g·C/groups][i][j]` for every kernel tap
/// `(i, j)` of filter `m` (group `g`) that lands on pixel `(ih, iw) = (oh·sH − padTop + i·dH,
/// ow·sW − padLeft + j·dW)`, and 0 elsewhere (taps in the padding read zeros).
///
/// Frames are NCHW, so a batch is already the matrix `X` (`N×(C·H·W)`): the forward is one GEMM
/// `Y = X·Dᵀ` and the VJP one GEMM `dX = dY·D` over all `N·K` cotangent rows — no im2col, no
/// col2im. On maps no larger than the kernel (`H·W ≤ kH·kW`: 1×1 and 2×2 maps under a 3×3
/// kernel) `D` has no more entries than there are multiply-adds in the direct form, most of
/// which multiply padding; ``ConvolutionOperator/denseUse(channels:geometry:)`` decides where
/// it runs.
struct DenseConvolution: Sendable {
    /// `D`: `outputs×inputs`, row-major.
    let matrix: [Float]
    /// `M·Ho·Wo`: one frame's output values.
    let outputs: Int
    /// `C·H·W`: one frame's input values.
    let inputs: Int

    /// - Parameters:
    ///   - weights: `M×(C/groups)×kH×kW`.
    ///   - channels: `C`.
    init(weights: Tensor, channels: Int, groups: Int, geometry g: WindowGeometry) {
        let filters = weights.shape[0], groupInputs = channels / groups, groupOutputs = filters / groups
        let outputs = filters * g.outputPlane, inputs = channels * g.inputPlane
        var matrix = [Float](repeating: 0, count: outputs * inputs)
        let w = weights.values, taps = g.kernelArea, positions = g.outputPlane
        // Which input pixel each tap of each output position reads (−1 in the padding).
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: taps * positions) { table in
            PatchTable.fillUnfold(table.baseAddress!, geometry: g)
            for m in 0..<filters {
                let firstChannel = m / groupOutputs * groupInputs
                for position in 0..<positions {
                    let row = (m * positions + position) * inputs
                    for c in 0..<groupInputs {
                        let plane = row + (firstChannel + c) * g.inputPlane, kernel = (m * groupInputs + c) * taps
                        for tap in 0..<taps {
                            let pixel = Int(table[tap * positions + position])
                            if pixel >= 0 { matrix[plane + pixel] += w[kernel + tap] }
                        }
                    }
                }
            }
        }
        self.matrix = matrix
        self.outputs = outputs
        self.inputs = inputs
    }

    /// `Y = X·Dᵀ` for `frames` frames (`x`: `frames×inputs`, `y`: `frames×outputs`) on `threads`
    /// of `team`. `y` gets the raw product: bias and activation are the caller's.
    func forward(_ x: UnsafePointer<Float>, frames: Int, into y: UnsafeMutablePointer<Float>,
                 team: ThreadTeam, threads: Int) {
        matrix.withUnsafeBufferPointer { d in
            forEachBlock(rows: frames, columns: outputs, team: team, threads: threads) { rows, columns in
                GEMM.multiply(transposeB: true, m: rows.count, n: columns.count, k: inputs,
                              a: x + rows.lowerBound * inputs, lda: inputs,
                              b: d.baseAddress! + columns.lowerBound * inputs, ldb: inputs,
                              c: y + rows.lowerBound * outputs + columns.lowerBound, ldc: outputs)
            }
        }
    }

    /// The VJP `dX (+)= dY·D` for `rows` cotangent rows (`dy`: `rows×outputs`, `dx`:
    /// `rows×inputs`) on `threads` of `team`; adds onto `dx` when `accumulate`.
    func inputGradient(_ dy: UnsafePointer<Float>, rows: Int, into dx: UnsafeMutablePointer<Float>, accumulate: Bool,
                       team: ThreadTeam, threads: Int) {
        matrix.withUnsafeBufferPointer { d in
            forEachBlock(rows: rows, columns: inputs, team: team, threads: threads) { rows, columns in
                GEMM.multiply(m: rows.count, n: columns.count, k: outputs,
                              a: dy + rows.lowerBound * outputs, lda: outputs,
                              b: d.baseAddress! + columns.lowerBound, ldb: inputs,
                              beta: accumulate ? 1 : 0, c: dx + rows.lowerBound * inputs + columns.lowerBound, ldc: inputs)
            }
        }
    }

    /// Splits a `rows×columns` product into one block per thread: bands of rows when there are
    /// at least as many rows as threads, else bands of columns (batch 1).
    private func forEachBlock(rows: Int, columns: Int, team: ThreadTeam, threads: Int,
                              _ body: (Range<Int>, Range<Int>) -> Void) {
        let splitRows = rows >= threads
        let count = splitRows ? rows : columns
        let parts = max(1, min(threads, count))
        team.forEach(items: parts, threads: parts) { part, _ in
            let slice = (part * count / parts)..<((part + 1) * count / parts)
            guard !slice.isEmpty else { return }
            if splitRows { body(slice, 0..<columns) } else { body(0..<rows, slice) }
        }
    }
}
