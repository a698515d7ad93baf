/// Max pooling (ONNX `MaxPool`, PyTorch `MaxPool2d`): strides, dilations, padding (padded cells
/// never win), `ceil_mode`.
///
/// Input `N×C×H×W`, output `N×C×Ho×Wo`. Forward keeps, per output element, the index in its
/// input plane of the first maximum (`Int32`, −1 if the window saw only padding).
/// VJP: every cotangent row of frame `n` scatters `dy` to frame `n`'s argmax positions — the
/// argmaxes are computed once and shared by all `K` cotangents.
public struct MaxPoolOperator: Operator {
    public var window: SpatialWindow
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

    public func forward(_ invocation: ForwardInvocation) {
        let shape = invocation.inputShapes[0]
        let g = try! window.geometry(inputHeight: shape[1], inputWidth: shape[2])
        let planes = invocation.batch * shape[0]
        let threads = planes * g.outputPlane * g.kernelArea >= 1 << 17 ? invocation.team.count : 1
        invocation.team.forEach(items: planes, threads: threads) { plane, _ in
            let x = invocation.inputs[0] + plane * g.inputPlane
            let y = invocation.output + plane * g.outputPlane
            let argmax = invocation.indices + plane * g.outputPlane
            // Output row by output row, tap by tap: the inner loop runs along the output row
            // (vectorisable); taps are visited in the same order as a per-window scan (kernel
            // row, then column), so the first maximum still wins.
            for outputRow in 0..<g.outputHeight {
                let yRow = y + outputRow * g.outputWidth, argmaxRow = argmax + outputRow * g.outputWidth
                for o in 0..<g.outputWidth {
                    yRow[o] = -Float.infinity
                    argmaxRow[o] = -1
                }
                for i in 0..<g.kernelHeight {
                    let rowOffset = i * g.dilationHeight
                    guard g.validOutputRows(offset: rowOffset).contains(outputRow) else { continue }
                    let inputRow = (outputRow * g.strideHeight - g.padTop + rowOffset) * g.inputWidth
                    for j in 0..<g.kernelWidth {
                        let columnOffset = j * g.dilationWidth
                        let start = inputRow - g.padLeft + columnOffset
                        for o in g.validOutputColumns(offset: columnOffset) {
                            let index = start + o * g.strideWidth
                            let value = x[index], best = yRow[o], bestIndex = argmaxRow[o]
                            let better = value > best || bestIndex < 0
                            yRow[o] = better ? value : best
                            argmaxRow[o] = better ? Int32(truncatingIfNeeded: index) : bestIndex
                        }
                    }
                }
            }
        }
    }

    public func backward(_ invocation: BackwardInvocation) {
        guard let dx = invocation.zeroedGradient(0) else { return }
        let shape = invocation.inputShapes[0]
        let channels = shape[0]
        let inputPlane = shape[1] * shape[2]
        let outputPlane = invocation.outputShape[1] * invocation.outputShape[2]
        let threads = invocation.rows * channels * outputPlane >= 1 << 16 ? invocation.team.count : 1
        invocation.team.forEach(items: invocation.rows, threads: threads) { row, _ in
            let frame = row / invocation.cotangentsPerFrame
            for channel in 0..<channels {
                let argmax = invocation.indices + (frame * channels + channel) * outputPlane
                let dy = invocation.outputGradient + (row * channels + channel) * outputPlane
                let dxPlane = dx + (row * channels + channel) * inputPlane
                for o in 0..<outputPlane where argmax[o] >= 0 {
                    dxPlane[Int(argmax[o])] += dy[o]
                }
            }
        }
    }
}
