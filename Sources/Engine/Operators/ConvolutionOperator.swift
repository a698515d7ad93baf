import CBLAS

/// 2-D convolution (ONNX `Conv`, PyTorch `Conv2d`).
///
/// - Input: `N×C×H×W`. Output: `N×M×Ho×Wo`.
/// - Weights: `M×(C/groups)×kH×kW`; bias: `M` (optional).
/// - Attributes: strides, dilations, padding (explicit, asymmetric or `SAME_*`), groups.
///
/// Forward: per group, `Y_g (M/g × F·Ho·Wo) = W_g (M/g × C/g·kH·kW) · [im2col(X_g) of F frames]`
/// through one `cblas_sgemm` for a chunk of `F` frames side by side (as many as
/// ``scratchBudget`` holds), then scattered to `N×M×Ho×Wo` with the bias; a chunk of one frame
/// writes its output directly, and a 1×1/stride-1 convolution of one frame multiplies the input
/// directly. Batching frames into the GEMM's N dimension matters for small feature maps, where
/// a per-frame product would be a matrix–vector product that rereads the weights every frame.
/// Depthwise convolution (`groups = C`) runs direct, vectorised loops.
/// VJP: the same with cotangent rows: `dcols = W_gᵀ · [dY_g of R rows]` in one `cblas_sgemm`,
/// then `col2im` adds each row's columns onto its `dX` (the weights are constants; there is no
/// weight gradient).
public struct ConvolutionOperator: Operator {
    public var weights: Tensor
    public var bias: [Float]?
    public var window: SpatialWindow
    public var groups: Int
    /// Floats of scratch the batched GEMM may use; one frame's need is always granted.
    public var scratchBudget = 1 << 21

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
              !isDepthwise(channels: channels) else { return 0 }
        let perFrame = framePlanes(channels: channels) * g.outputPlane
        return perFrame * chunkCapacity(perFrame: perFrame)
    }

    /// Rows of scratch one frame takes in the batched GEMM: its im2col rows plus its output rows.
    private func framePlanes(channels: Int) -> Int {
        channels / groups * weights.shape[2] * weights.shape[3] + outputChannels / groups
    }

    /// Frames (or cotangent rows) per batched GEMM.
    private func chunkCapacity(perFrame: Int) -> Int { max(1, scratchBudget / max(perFrame, 1)) }

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
        let plane = g.outputPlane
        let chunk = chunkCapacity(perFrame: framePlanes(channels: channels) * plane)
        weights.values.withUnsafeBufferPointer { w in
            if isDepthwise(channels: channels) {
                for frame in 0..<invocation.batch {
                    let x = invocation.input(0, frame: frame)
                    let y = invocation.output + frame * outputFrame
                    fillBias(y, plane: plane)
                    for outputChannel in 0..<outputChannels {
                        DepthwiseConvolution.forwardChannel(
                            input: x + (outputChannel / groupOutputs) * g.inputPlane,
                            weights: w.baseAddress! + outputChannel * g.kernelArea, geometry: g,
                            output: y + outputChannel * plane)
                    }
                }
                return
            }
            var start = 0
            while start < invocation.batch {
                let count = min(chunk, invocation.batch - start)
                let width = count * plane
                for group in 0..<groups {
                    let wg = w.baseAddress! + group * groupOutputs * depth
                    if count == 1 {
                        // One frame: the GEMM writes the output in place.
                        let xg = invocation.input(0, frame: start) + group * groupInputs * g.inputPlane
                        let y = invocation.output + start * outputFrame
                        if group == 0 { fillBias(y, plane: plane) }
                        let columns: UnsafePointer<Float>
                        if g.isPointwise {
                            columns = UnsafePointer(xg)
                        } else {
                            Im2Col.unfold(xg, channels: groupInputs, geometry: g, into: invocation.scratch)
                            columns = UnsafePointer(invocation.scratch)
                        }
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                                    Int32(groupOutputs), Int32(plane), Int32(depth),
                                    1, wg, Int32(depth), columns, Int32(plane),
                                    bias == nil ? 0 : 1, y + group * groupOutputs * plane, Int32(plane))
                        continue
                    }
                    // Several frames: their columns side by side, one GEMM, then scatter.
                    let columns = invocation.scratch, product = invocation.scratch + depth * width
                    for f in 0..<count {
                        let xg = invocation.input(0, frame: start + f) + group * groupInputs * g.inputPlane
                        if g.isPointwise {
                            for c in 0..<groupInputs {
                                (columns + c * width + f * plane).update(from: xg + c * plane, count: plane)
                            }
                        } else {
                            Im2Col.unfold(xg, channels: groupInputs, geometry: g, into: columns + f * plane, rowStride: width)
                        }
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                                Int32(groupOutputs), Int32(width), Int32(depth),
                                1, wg, Int32(depth), columns, Int32(width), 0, product, Int32(width))
                    for f in 0..<count {
                        let y = invocation.output + (start + f) * outputFrame + group * groupOutputs * plane
                        for m in 0..<groupOutputs {
                            let source = product + m * width + f * plane, destination = y + m * plane
                            let b = bias?[group * groupOutputs + m] ?? 0
                            for i in 0..<plane { destination[i] = source[i] + b }
                        }
                    }
                }
                start += count
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
        let plane = g.outputPlane
        let depthwise = isDepthwise(channels: channels)
        let pointwise = g.isPointwise && !depthwise
        let accumulate = invocation.accumulate[0]
        // Pointwise paths write with beta = 0 or 1 (or assign); the others scatter-add.
        guard let dx = pointwise ? invocation.inputGradients[0] : invocation.zeroedGradient(0) else { return }
        let chunk = chunkCapacity(perFrame: framePlanes(channels: channels) * plane)
        weights.values.withUnsafeBufferPointer { w in
            if depthwise {
                for row in 0..<invocation.rows {
                    let dy = invocation.outputGradient + row * outputFrame
                    let dxRow = dx + row * inputFrame
                    for outputChannel in 0..<outputChannels {
                        DepthwiseConvolution.backwardChannel(
                            outputGradient: dy + outputChannel * plane,
                            weights: w.baseAddress! + outputChannel * g.kernelArea, geometry: g,
                            inputGradient: dxRow + (outputChannel / groupOutputs) * g.inputPlane)
                    }
                }
                return
            }
            var start = 0
            while start < invocation.rows {
                let count = min(chunk, invocation.rows - start)
                let width = count * plane
                for group in 0..<groups {
                    let wg = w.baseAddress! + group * groupOutputs * depth
                    if count == 1 {
                        let dyg = invocation.outputGradient + start * outputFrame + group * groupOutputs * plane
                        let dxg = dx + start * inputFrame + group * groupInputs * g.inputPlane
                        if pointwise {
                            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
                                        Int32(groupInputs), Int32(plane), Int32(groupOutputs),
                                        1, wg, Int32(depth), dyg, Int32(plane),
                                        accumulate ? 1 : 0, dxg, Int32(plane))
                        } else {
                            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
                                        Int32(depth), Int32(plane), Int32(groupOutputs),
                                        1, wg, Int32(depth), dyg, Int32(plane),
                                        0, invocation.scratch, Int32(plane))
                            Im2Col.fold(invocation.scratch, channels: groupInputs, geometry: g, addingInto: dxg)
                        }
                        continue
                    }
                    // Several rows: gather their dY side by side, one GEMM, then fold each row.
                    let columns = invocation.scratch, gathered = invocation.scratch + depth * width
                    for r in 0..<count {
                        let dyg = invocation.outputGradient + (start + r) * outputFrame + group * groupOutputs * plane
                        for m in 0..<groupOutputs {
                            (gathered + m * width + r * plane).update(from: dyg + m * plane, count: plane)
                        }
                    }
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
                                Int32(depth), Int32(width), Int32(groupOutputs),
                                1, wg, Int32(depth), gathered, Int32(width), 0, columns, Int32(width))
                    for r in 0..<count {
                        let dxg = dx + (start + r) * inputFrame + group * groupInputs * g.inputPlane
                        if pointwise {
                            for c in 0..<groupInputs {
                                let source = columns + c * width + r * plane, destination = dxg + c * plane
                                if accumulate {
                                    for i in 0..<plane { destination[i] += source[i] }
                                } else {
                                    destination.update(from: source, count: plane)
                                }
                            }
                        } else {
                            Im2Col.fold(columns + r * plane, channels: groupInputs, geometry: g, addingInto: dxg, rowStride: width)
                        }
                    }
                }
                start += count
            }
        }
    }
}
