/// Average pooling (ONNX `AveragePool`, PyTorch `AvgPool2d`): strides, dilations, padding,
/// `ceil_mode`, `count_include_pad`.
///
/// Input `N×C×H×W`, output `N×C×Ho×Wo`. Each output is the sum of the window's cells inside the
/// input divided by the number of cells inside the input, or — with `count_include_pad` — inside
/// the padded input (cells that only `ceil_mode` adds past the padding never count, as in PyTorch).
/// VJP: `dy / divisor` added to every input cell of the window.
public struct AveragePoolOperator: Operator {
    public var window: SpatialWindow
    public var countIncludePad: Bool
    public init(window: SpatialWindow, countIncludePad: Bool = false) {
        self.window = window
        self.countIncludePad = countIncludePad
    }

    public var typeName: String { "AveragePool" }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        guard let (channels, height, width) = inputShapes[0].channelsHeightWidth else {
            throw OperatorError("input must be N×C×H×W, got frame shape \(inputShapes[0])")
        }
        let g = try window.geometry(inputHeight: height, inputWidth: width)
        return [channels, g.outputHeight, g.outputWidth]
    }

    /// Cells of the window starting at `start` along one axis that lie in the input, and those
    /// that lie in the padded input.
    @inline(__always)
    private static func counts(start: Int, kernel: Int, dilation: Int, input: Int, padBefore: Int,
                               padAfter: Int) -> (inside: Int, padded: Int) {
        var inside = 0, padded = 0
        for i in 0..<kernel {
            let position = start + i * dilation
            if position >= 0 && position < input { inside += 1 }
            if position >= -padBefore && position < input + padAfter { padded += 1 }
        }
        return (inside, padded)
    }

    @inline(__always)
    private func divisor(_ g: WindowGeometry, top: Int, left: Int) -> Float {
        let rows = Self.counts(start: top, kernel: g.kernelHeight, dilation: g.dilationHeight,
                               input: g.inputHeight, padBefore: g.padTop, padAfter: g.padBottom)
        let columns = Self.counts(start: left, kernel: g.kernelWidth, dilation: g.dilationWidth,
                                  input: g.inputWidth, padBefore: g.padLeft, padAfter: g.padRight)
        let cells = countIncludePad ? rows.padded * columns.padded : rows.inside * columns.inside
        return Float(max(cells, 1))
    }

    public func forward(_ invocation: ForwardInvocation) {
        let shape = invocation.inputShapes[0]
        let g = try! window.geometry(inputHeight: shape[1], inputWidth: shape[2])
        for plane in 0..<(invocation.batch * shape[0]) {
            let x = invocation.inputs[0] + plane * g.inputPlane
            let y = invocation.output + plane * g.outputPlane
            for outputRow in 0..<g.outputHeight {
                let top = outputRow * g.strideHeight - g.padTop
                for outputColumn in 0..<g.outputWidth {
                    let left = outputColumn * g.strideWidth - g.padLeft
                    var sum: Float = 0
                    for i in 0..<g.kernelHeight {
                        let inputRow = top + i * g.dilationHeight
                        guard inputRow >= 0 && inputRow < g.inputHeight else { continue }
                        for j in 0..<g.kernelWidth {
                            let inputColumn = left + j * g.dilationWidth
                            guard inputColumn >= 0 && inputColumn < g.inputWidth else { continue }
                            sum += x[inputRow * g.inputWidth + inputColumn]
                        }
                    }
                    y[outputRow * g.outputWidth + outputColumn] = sum / divisor(g, top: top, left: left)
                }
            }
        }
    }

    public func backward(_ invocation: BackwardInvocation) {
        guard let dx = invocation.zeroedGradient(0) else { return }
        let shape = invocation.inputShapes[0]
        let g = try! window.geometry(inputHeight: shape[1], inputWidth: shape[2])
        for plane in 0..<(invocation.rows * shape[0]) {
            let dy = invocation.outputGradient + plane * g.outputPlane
            let dxPlane = dx + plane * g.inputPlane
            for outputRow in 0..<g.outputHeight {
                let top = outputRow * g.strideHeight - g.padTop
                for outputColumn in 0..<g.outputWidth {
                    let left = outputColumn * g.strideWidth - g.padLeft
                    let share = dy[outputRow * g.outputWidth + outputColumn] / divisor(g, top: top, left: left)
                    for i in 0..<g.kernelHeight {
                        let inputRow = top + i * g.dilationHeight
                        guard inputRow >= 0 && inputRow < g.inputHeight else { continue }
                        for j in 0..<g.kernelWidth {
                            let inputColumn = left + j * g.dilationWidth
                            guard inputColumn >= 0 && inputColumn < g.inputWidth else { continue }
                            dxPlane[inputRow * g.inputWidth + inputColumn] += share
                        }
                    }
                }
            }
        }
    }
}
