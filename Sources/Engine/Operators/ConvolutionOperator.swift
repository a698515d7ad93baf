import CBLAS

/// 2-D convolution (ONNX `Conv`, PyTorch `Conv2d`).
///
/// - Input: `N×C×H×W`. Output: `N×M×Ho×Wo`.
/// - Weights: `M×(C/groups)×kH×kW`; bias: `M` (optional).
/// - Attributes: strides, dilations, padding (explicit, asymmetric or `SAME_*`), groups.
///
/// Forward: per frame and group, `Y_g (M/g × Ho·Wo) = W_g (M/g × C/g·kH·kW) · im2col(X_g)` through
/// `cblas_sgemm`, the bias written first; a 1×1/stride 1 convolution multiplies the input
/// directly. Depthwise convolution (`groups = C`) runs direct, vectorised loops.
/// VJP: per cotangent row, `dcols = W_gᵀ · dY_g` through `cblas_sgemm`, then `col2im` adds the
/// columns onto `dX` (the weights are constants; there is no weight gradient).
public struct ConvolutionOperator: Operator {
    public var weights: Tensor
    public var bias: [Float]?
    public var window: SpatialWindow
    public var groups: Int

    /// - Parameters:
    ///   - weights: `M×(C/groups)×kH×kW`.
    ///   - bias: `M` values, or `nil`.
    public init(weights: Tensor, bias: [Float]? = nil, strides: (Int, Int) = (1, 1),
                padding: WindowPadding = .valid, dilations: (Int, Int) = (1, 1), groups: Int = 1) {
        self.weights = weights
        self.bias = bias
        self.groups = groups
        let kernelHeight = weights.shape.rank == 4 ? weights.shape[2] : 0
        let kernelWidth = weights.shape.rank == 4 ? weights.shape[3] : 0
        self.window = SpatialWindow(kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                                    strideHeight: strides.0, strideWidth: strides.1,
                                    dilationHeight: dilations.0, dilationWidth: dilations.1,
                                    padding: padding)
    }

    public var typeName: String { "Conv" }
    public var outputChannels: Int { weights.shape[0] }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        guard weights.shape.rank == 4 else {
            throw OperatorError("weights must be M×C/g×kH×kW, got \(weights.shape)")
        }
        guard let (channels, height, width) = inputShapes[0].channelsHeightWidth else {
            throw OperatorError("input must be N×C×H×W, got frame shape \(inputShapes[0])")
        }
        guard groups > 0, channels % groups == 0, outputChannels % groups == 0 else {
            throw OperatorError("groups \(groups) must divide input channels \(channels) and output channels \(outputChannels)")
        }
        guard weights.shape[1] * groups == channels else {
            throw OperatorError("weights \(weights.shape) expect \(weights.shape[1] * groups) input channels, input has \(channels)")
        }
        if let bias, bias.count != outputChannels {
            throw OperatorError("bias has \(bias.count) values for \(outputChannels) output channels")
        }
        let g = try window.geometry(inputHeight: height, inputWidth: width)
        return [outputChannels, g.outputHeight, g.outputWidth]
    }

    /// `true` for one filter group per input channel, which runs direct kernels.
    func isDepthwise(channels: Int) -> Bool { groups == channels && groups > 1 }

    public func scratchCount(inputShapes: [TensorShape], outputShape: TensorShape) -> Int {
        guard let (channels, height, width) = inputShapes[0].channelsHeightWidth,
              let g = try? window.geometry(inputHeight: height, inputWidth: width),
              !isDepthwise(channels: channels), !g.isPointwise else { return 0 }
        return channels / groups * g.kernelArea * g.outputPlane
    }

    private func geometry(_ shape: TensorShape) -> WindowGeometry {
        // Shapes were validated by outputShape(inputShapes:) when the graph was compiled.
        try! window.geometry(inputHeight: shape[1], inputWidth: shape[2])
    }

    public func forward(_ invocation: ForwardInvocation) {
        let channels = invocation.inputShapes[0][0]
        let g = geometry(invocation.inputShapes[0])
        let groupInputs = channels / groups, groupOutputs = outputChannels / groups
        let depth = groupInputs * g.kernelArea
        let outputFrame = invocation.outputShape.elementCount
        weights.values.withUnsafeBufferPointer { w in
            for frame in 0..<invocation.batch {
                let x = invocation.input(0, frame: frame)
                let y = invocation.output + frame * outputFrame
                fillBias(y, plane: g.outputPlane)
                if isDepthwise(channels: channels) {
                    for outputChannel in 0..<outputChannels {
                        DepthwiseConvolution.forwardChannel(
                            input: x + (outputChannel / groupOutputs) * g.inputPlane,
                            weights: w.baseAddress! + outputChannel * g.kernelArea, geometry: g,
                            output: y + outputChannel * g.outputPlane)
                    }
                    continue
                }
                for group in 0..<groups {
                    let xg = x + group * groupInputs * g.inputPlane
                    let columns: UnsafePointer<Float>
                    if g.isPointwise {
                        columns = UnsafePointer(xg)
                    } else {
                        Im2Col.unfold(xg, channels: groupInputs, geometry: g, into: invocation.scratch)
                        columns = UnsafePointer(invocation.scratch)
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                                Int32(groupOutputs), Int32(g.outputPlane), Int32(depth),
                                1, w.baseAddress! + group * groupOutputs * depth, Int32(depth),
                                columns, Int32(g.outputPlane),
                                bias == nil ? 0 : 1, y + group * groupOutputs * g.outputPlane, Int32(g.outputPlane))
                }
            }
        }
    }

    /// Writes the bias (or zeros, for depthwise accumulation) into every output plane.
    @inline(__always)
    private func fillBias(_ y: UnsafeMutablePointer<Float>, plane: Int) {
        if let bias {
            for channel in 0..<outputChannels { (y + channel * plane).update(repeating: bias[channel], count: plane) }
        } else {
            y.update(repeating: 0, count: outputChannels * plane)
        }
    }

    public func backward(_ invocation: BackwardInvocation) {
        let channels = invocation.inputShapes[0][0]
        let g = geometry(invocation.inputShapes[0])
        let groupInputs = channels / groups, groupOutputs = outputChannels / groups
        let depth = groupInputs * g.kernelArea
        let inputFrame = invocation.inputShapes[0].elementCount
        let outputFrame = invocation.outputShape.elementCount
        let pointwise = g.isPointwise && !isDepthwise(channels: channels)
        // The pointwise GEMM writes with beta = 0 or 1; the other paths scatter-add.
        guard let dx = pointwise ? invocation.inputGradients[0] : invocation.zeroedGradient(0) else { return }
        let beta: Float = invocation.accumulate[0] ? 1 : 0
        weights.values.withUnsafeBufferPointer { w in
            for row in 0..<invocation.rows {
                let dy = invocation.outputGradient + row * outputFrame
                let dxRow = dx + row * inputFrame
                if isDepthwise(channels: channels) {
                    for outputChannel in 0..<outputChannels {
                        DepthwiseConvolution.backwardChannel(
                            outputGradient: dy + outputChannel * g.outputPlane,
                            weights: w.baseAddress! + outputChannel * g.kernelArea, geometry: g,
                            inputGradient: dxRow + (outputChannel / groupOutputs) * g.inputPlane)
                    }
                    continue
                }
                for group in 0..<groups {
                    let dyg = dy + group * groupOutputs * g.outputPlane
                    let wg = w.baseAddress! + group * groupOutputs * depth
                    let dxg = dxRow + group * groupInputs * g.inputPlane
                    if pointwise {
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
                                    Int32(groupInputs), Int32(g.outputPlane), Int32(groupOutputs),
                                    1, wg, Int32(depth), dyg, Int32(g.outputPlane),
                                    beta, dxg, Int32(g.outputPlane))
                    } else {
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
                                    Int32(depth), Int32(g.outputPlane), Int32(groupOutputs),
                                    1, wg, Int32(depth), dyg, Int32(g.outputPlane),
                                    0, invocation.scratch, Int32(g.outputPlane))
                        Im2Col.fold(invocation.scratch, channels: groupInputs, geometry: g, addingInto: dxg)
                    }
                }
            }
        }
    }
}
