import VectorKernels

/// Max pooling (ONNX `MaxPool`, PyTorch `MaxPool2d`): strides, dilations, padding (padded cells
/// never win), `ceil_mode`.
///
/// Input `N×C×H×W`, output `N×C×Ho×Wo`. Forward keeps, per output element, the index in its
/// input plane of the first maximum (`Int32`, −1 if the window saw only padding).
/// VJP: every cotangent row of frame `n` scatters `dy` to frame `n`'s argmax positions — the
/// argmaxes are computed once and shared by all `K` cotangents.
public struct MaxPoolOperator: Operator {
    public var window: SpatialWindow
    /// The build of the plane loop the forward runs (tests run each one).
    var poolingLoops = PoolingLoops.selected
    public init(window: SpatialWindow) { self.window = window }

    public var typeName: String { "MaxPool" }
    public var keepsIndices: Bool { true }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        guard let (channels, height, width) = inputShapes[0].channelsHeightWidth else {
            throw OperatorError("input must be N×C×H×W, got frame shape \(inputShapes[0])")
        }
        let g = try window.geometry(inputHeight: height, inputWidth: width)
        return [channels, g.outputHeight, g.outputWidth]
    }

    public func scratchCount(inputShapes: [TensorShape], outputShape: TensorShape) -> Int {
        guard let (_, height, width) = inputShapes[0].channelsHeightWidth,
              let g = try? window.geometry(inputHeight: height, inputWidth: width) else { return 0 }
        return PaddedPlane(window: g, lanes: Self.lanes).count
    }

    static let lanes = MaxPoolKernels.lanes

    /// Per plane: the input is copied into a −∞-padded, column-phase-split ``PaddedPlane``, then
    /// the build of `MaxPoolKernels.plane` ``PoolingLoops`` selected (``poolingLoops``) takes the maximum over the
    /// taps of sixteen outputs of a row at a time, keeping the first tap (kernel row, then column)
    /// that attains it, as a per-window scan does. NaN never wins over a number; a window of only
    /// −∞ or NaN keeps its first real pixel, as the scan does (those windows are scanned here).
    public func forward(_ invocation: ForwardInvocation) {
        let shape = invocation.inputShapes[0]
        let g = try! window.geometry(inputHeight: shape[1], inputWidth: shape[2])
        let planes = invocation.batch * shape[0]
        let threads = planes * g.outputPlane * g.kernelArea >= 1 << 17 ? invocation.team.count : 1
        let layout = PaddedPlane(window: g, lanes: Self.lanes)
        let taps = g.kernelArea
        let planeGeometry = MaxPoolPlaneGeometry(
            outputHeight: g.outputHeight, outputWidth: g.outputWidth, paddedRowStep: g.strideHeight * layout.rowStride,
            firstOrigin: -g.padTop * g.inputWidth - g.padLeft, originRowStep: g.strideHeight * g.inputWidth,
            strideWidth: g.strideWidth)
        let maxPoolPlane = poolingLoops.maxPoolPlane
        withUnsafeTemporaryAllocation(of: Int.self, capacity: taps) { tapOffsets in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: taps) { tapIndices in
                // Each tap's place in the padded plane, and in the input plane, from the window's origin.
                for i in 0..<g.kernelHeight {
                    for j in 0..<g.kernelWidth {
                        let (row, column) = (i * g.dilationHeight, j * g.dilationWidth)
                        tapOffsets[i * g.kernelWidth + j] = layout.offset(row: row, column: column)
                        tapIndices[i * g.kernelWidth + j] = Int32(truncatingIfNeeded: row * g.inputWidth + column)
                    }
                }
                let (offsets, indices) = (UnsafePointer(tapOffsets.baseAddress!), UnsafePointer(tapIndices.baseAddress!))
                invocation.team.forEach(items: planes, threads: threads) { plane, thread in
                    let x = invocation.inputs[0] + plane * g.inputPlane
                    let y = invocation.output + plane * g.outputPlane
                    let argmax = invocation.indices + plane * g.outputPlane
                    let padded = invocation.scratch + thread * invocation.scratchStride
                    layout.fill(padded, from: x, height: g.inputHeight, width: g.inputWidth, padding: -.infinity)
                    guard maxPoolPlane(padded, planeGeometry, offsets, indices, taps, y, argmax) else { return }
                    for o in 0..<g.outputPlane where argmax[o] < 0 {
                        (y[o], argmax[o]) = scanWindow(x, geometry: g, row: o / g.outputWidth, column: o % g.outputWidth)
                    }
                }
            }
        }
    }

    /// One window scanned tap by tap over its real pixels: the first maximum, or the first
    /// pixel when none is greater than −∞. (`-∞, −1` for a window of padding only.)
    private func scanWindow(_ x: UnsafePointer<Float>, geometry g: WindowGeometry, row: Int, column: Int) -> (Float, Int32) {
        var best = -Float.infinity, bestIndex: Int32 = -1
        for i in 0..<g.kernelHeight {
            let h = row * g.strideHeight - g.padTop + i * g.dilationHeight
            guard h >= 0, h < g.inputHeight else { continue }
            for j in 0..<g.kernelWidth {
                let w = column * g.strideWidth - g.padLeft + j * g.dilationWidth
                guard w >= 0, w < g.inputWidth else { continue }
                let index = h * g.inputWidth + w
                if x[index] > best || bestIndex < 0 { (best, bestIndex) = (x[index], Int32(truncatingIfNeeded: index)) }
            }
        }
        return (best, bestIndex)
    }

    /// `dx[row][c][argmax] += dy[row][c][o]`, one `(row, c)` plane per work item (each zeroed by
    /// the thread that fills it unless `dx` accumulates), so that a single cotangent's planes are
    /// spread over the threads too.
    public func backward(_ invocation: BackwardInvocation) {
        guard let dx = invocation.inputGradients[0] else { return }
        let accumulate = invocation.accumulate[0]
        let shape = invocation.inputShapes[0]
        let channels = shape[0]
        let inputPlane = shape[1] * shape[2]
        let outputPlane = invocation.outputShape[1] * invocation.outputShape[2]
        let threads = invocation.rows * channels * outputPlane >= 1 << 16 ? invocation.team.count : 1
        invocation.team.forEach(items: invocation.rows * channels, threads: threads) { plane, _ in
            let (row, channel) = plane.quotientAndRemainder(dividingBy: channels)
            let frame = row / invocation.cotangentsPerFrame
            let argmax = invocation.indices + (frame * channels + channel) * outputPlane
            let dy = invocation.outputGradient + plane * outputPlane
            let dxPlane = dx + plane * inputPlane
            if !accumulate { dxPlane.update(repeating: 0, count: inputPlane) }
            for o in 0..<outputPlane where argmax[o] >= 0 {
                dxPlane[Int(argmax[o])] += dy[o]
            }
        }
    }
}
