extension ConvolutionOperator {
    /// When the convolution runs as one dense matrix product (``DenseConvolution``).
    public enum DenseUse: Sendable {
        /// Never: the map is too large for the matrix to pay.
        case never
        /// Both passes, whatever the number of rows.
        case always
        /// The VJP of calls with at least ``denseMinimumRows`` cotangent rows: the matrix is
        /// larger than the weights, and fewer rows do not amortise streaming it.
        case manyRows
    }

    /// Matrix entries (4 MiB) up to which a dense form larger than twice the weights may run
    /// the VJP of many rows.
    public static let denseMatrixLimit = 1 << 20
    /// Cotangent rows per call from which a VJP runs dense when the matrix is larger than twice
    /// the weights. The bundled model's 4×4 layers (32–64 channels, matrices 7–28 times their
    /// weights) ran their Jacobian VJP 1.4–3.0× faster dense at 80 rows and more, mixed at 40
    /// (two faster, one 9 % slower) and 1.3–2.6× slower at 10–20; their forward (1 row per frame) was no faster dense at
    /// any batch size up to 64.
    public static let denseMinimumRows = 64

    /// When the dense form runs on this geometry (it does once ``prepared(inputShapes:)`` built
    /// the matrix). Eligible: one group, a kernel that is not 1×1, and an input map of at most
    /// twice the kernel's taps (`H·W ≤ 2·kH·kW`: the matrix has at most twice as many entries as
    /// the direct form has multiply-adds, padding included). Then ``DenseUse/always`` when the
    /// matrix has at most twice the weights' entries (under a 3×3 kernel padded by 1: 1×1 and 2×2
    /// maps, and 2×2 → 1×1 at stride 2 — a CNN's last layers, whose im2col columns are mostly
    /// padding and whose GEMMs are too thin to run fast), ``DenseUse/manyRows`` when it has at
    /// most ``denseMatrixLimit`` (e.g. 4×4 maps of up to 64 channels). ``denseOverride`` decides when set.
    func denseUse(channels: Int, geometry g: WindowGeometry) -> DenseUse {
        guard weights.shape.rank == 4, groups > 0, weights.shape[1] * groups == channels else { return .never }
        if let denseOverride { return denseOverride ? .always : .never }
        guard groups == 1, !g.isPointwise, g.inputPlane <= 2 * g.kernelArea else { return .never }
        let entries = outputChannels * g.outputPlane * channels * g.inputPlane
        if entries <= 2 * weights.shape.elementCount { return .always }
        return entries <= Self.denseMatrixLimit ? .manyRows : .never
    }

    /// How this convolution runs dense on an input frame of `inputShape` (`C×H×W`):
    /// ``DenseUse/never`` unless ``prepared(inputShapes:)`` built the matrix for that shape.
    public func denseUse(inputShape: TensorShape) -> DenseUse {
        guard let dense, dense.inputs == inputShape.elementCount,
              let (channels, height, width) = inputShape.channelsHeightWidth,
              let g = try? window.geometry(inputHeight: height, inputWidth: width) else { return .never }
        return denseUse(channels: channels, geometry: g)
    }

    /// The prepared dense form when `pass` runs dense for this call: the shapes match the
    /// prepared matrix and ``denseUse(channels:geometry:)`` allows it for `rows` rows.
    func denseForm(_ pass: Pass, inputShape: TensorShape, outputShape: TensorShape, geometry g: WindowGeometry,
                   rows: Int) -> DenseConvolution? {
        guard let dense, dense.inputs == inputShape.elementCount, dense.outputs == outputShape.elementCount else { return nil }
        switch denseUse(channels: inputShape[0], geometry: g) {
        case .always: return dense
        case .manyRows: return pass == .inputGradient && rows >= Self.denseMinimumRows ? dense : nil
        case .never: return nil
        }
    }

    /// The forward as `Y = X·Dᵀ` over the whole batch, then bias and activation in place.
    func forwardDense(_ invocation: ForwardInvocation, dense: DenseConvolution) {
        let frames = invocation.batch
        let threads = frames * dense.inputs * dense.outputs >= minimumParallelWork ? invocation.team.count : 1
        dense.forward(invocation.inputs[0], frames: frames, into: invocation.output, team: invocation.team, threads: threads)
        guard bias != nil || activation != .none else { return }
        let plane = invocation.outputShape[1] * invocation.outputShape[2]
        for frame in 0..<frames {
            let y = invocation.output + frame * dense.outputs
            epilogue(y, rowStride: plane, from: y, sourceStride: plane, filters: 0, count: outputChannels, length: plane)
        }
    }

    /// The VJP as `dX (+)= dY·D` over all cotangent rows (`dY` already masked by the activation).
    func backwardDense(_ invocation: BackwardInvocation, dense: DenseConvolution) {
        guard let dx = invocation.inputGradients[0] else { return }
        let rows = invocation.rows
        let threads = rows * dense.inputs * dense.outputs >= minimumParallelWork ? invocation.team.count : 1
        dense.inputGradient(invocation.outputGradient, rows: rows, into: dx, accumulate: invocation.accumulate[0],
                            team: invocation.team, threads: threads)
    }
}
