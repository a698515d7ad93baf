/// Direct depthwise convolution on one frame: every input channel `c` is convolved with its own
/// `multiplier` filters, output channel `c·multiplier + m` (ONNX `Conv` with `group = C`).
///
/// The loops run over kernel taps outermost and output pixels innermost, so each tap is one
/// scaled add of a (strided) input row onto an output row — contiguous and vectorisable for
/// stride 1.
enum DepthwiseConvolution {
    /// One frame, input channels `channels` of `C`: their output planes of `output`
    /// (`C·multiplier×Ho×Wo`) from `input` (`C×H×W`) and `weights` (`C·multiplier×1×kH×kW`),
    /// adding the bias and applying `activation`.
    static func forward(input: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: [Float]?, channels: Range<Int>,
                        multiplier: Int, geometry g: WindowGeometry, activation: FusedActivation,
                        output: UnsafeMutablePointer<Float>) {
        let plane = g.outputPlane
        for outputChannel in (channels.lowerBound * multiplier)..<(channels.upperBound * multiplier) {
            let y = output + outputChannel * plane
            let b = bias?[outputChannel] ?? 0
            for i in 0..<plane { y[i] = b }
            forwardChannel(input: input + (outputChannel / multiplier) * g.inputPlane,
                           weights: weights + outputChannel * g.kernelArea, geometry: g, output: y)
            activation.apply(y, count: plane)
        }
    }

    /// One cotangent row, input channels `channels`: adds the VJP of ``forward(input:weights:bias:channels:multiplier:geometry:activation:output:)``
    /// (before the activation) for `outputGradient` (`C·multiplier×Ho×Wo`) onto `inputGradient` (`C×H×W`).
    static func backward(outputGradient: UnsafePointer<Float>, weights: UnsafePointer<Float>, channels: Range<Int>,
                         multiplier: Int, geometry g: WindowGeometry, inputGradient: UnsafeMutablePointer<Float>) {
        for outputChannel in (channels.lowerBound * multiplier)..<(channels.upperBound * multiplier) {
            backwardChannel(outputGradient: outputGradient + outputChannel * g.outputPlane,
                            weights: weights + outputChannel * g.kernelArea, geometry: g,
                            inputGradient: inputGradient + (outputChannel / multiplier) * g.inputPlane)
        }
    }

    /// `output[o] (Ho×Wo) += Σ_taps w[o, tap] · input[c] shifted`, for output channels of input
    /// channel `channel`; `output` must already hold the bias (or 0).
    @inline(__always)
    static func forwardChannel(input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                               geometry g: WindowGeometry, output: UnsafeMutablePointer<Float>) {
        for i in 0..<g.kernelHeight {
            let rowOffset = i * g.dilationHeight
            let validRows = g.validOutputRows(offset: rowOffset)
            for j in 0..<g.kernelWidth {
                let columnOffset = j * g.dilationWidth
                let validColumns = g.validOutputColumns(offset: columnOffset)
                guard !validColumns.isEmpty else { continue }
                let weight = weights[i * g.kernelWidth + j]
                let firstInputColumn = validColumns.lowerBound * g.strideWidth - g.padLeft + columnOffset
                for outputRow in validRows {
                    let source = input + (outputRow * g.strideHeight - g.padTop + rowOffset) * g.inputWidth + firstInputColumn
                    let destination = output + outputRow * g.outputWidth + validColumns.lowerBound
                    let count = validColumns.count
                    if g.strideWidth == 1 {
                        for k in 0..<count { destination[k] += weight * source[k] }
                    } else {
                        for k in 0..<count { destination[k] += weight * source[k * g.strideWidth] }
                    }
                }
            }
        }
    }

    /// The adjoint of ``forwardChannel(input:weights:geometry:output:)``:
    /// `inputGradient[c] += Σ_taps w[o, tap] · outputGradient[o]` scattered back.
    @inline(__always)
    static func backwardChannel(outputGradient: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                geometry g: WindowGeometry, inputGradient: UnsafeMutablePointer<Float>) {
        for i in 0..<g.kernelHeight {
            let rowOffset = i * g.dilationHeight
            let validRows = g.validOutputRows(offset: rowOffset)
            for j in 0..<g.kernelWidth {
                let columnOffset = j * g.dilationWidth
                let validColumns = g.validOutputColumns(offset: columnOffset)
                guard !validColumns.isEmpty else { continue }
                let weight = weights[i * g.kernelWidth + j]
                let firstInputColumn = validColumns.lowerBound * g.strideWidth - g.padLeft + columnOffset
                for outputRow in validRows {
                    let destination = inputGradient + (outputRow * g.strideHeight - g.padTop + rowOffset) * g.inputWidth + firstInputColumn
                    let source = outputGradient + outputRow * g.outputWidth + validColumns.lowerBound
                    let count = validColumns.count
                    if g.strideWidth == 1 {
                        for k in 0..<count { destination[k] += weight * source[k] }
                    } else {
                        for k in 0..<count { destination[k * g.strideWidth] += weight * source[k] }
                    }
                }
            }
        }
    }
}
