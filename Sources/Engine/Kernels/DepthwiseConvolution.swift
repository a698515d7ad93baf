import VectorKernels

/// Direct depthwise convolution on one frame: every input channel `c` is convolved with its own
/// `multiplier` filters, output channel `c·multiplier + m` (ONNX `Conv` with `group = C`).
///
/// Each plane is first copied into a zero-padded scratch plane (``PaddedPlane``) whose rows are
/// split into `strideWidth` column phases, so every kernel tap reads a contiguous run of scratch
/// for a run of output columns. The row kernel (`VectorKernels`' `DepthwiseKernels`, in the
/// build for this CPU: ``DepthwiseLoops``) then computes eight output columns at a time with all
/// taps accumulated in registers, and stores once.
///
/// The VJP of a stride-1 convolution is the same correlation, of the padded `dY` with the
/// flipped kernel. With a larger column or row stride it scatters each tap's product into the
/// phase planes of a padded `dX` and folds them back onto `dX`.
enum DepthwiseConvolution {
    static let lanes = DepthwiseKernels.lanes

    /// Floats of scratch one thread needs for ``forward(input:weights:bias:channels:multiplier:geometry:activation:scratch:output:)``
    /// and ``backward(outputGradient:weights:channels:multiplier:geometry:scratch:accumulate:inputGradient:)``:
    /// a padded plane and the row kernel's buffer.
    static func scratchCount(_ g: WindowGeometry) -> Int {
        let forward = forwardPlane(g), backward = backwardPlane(g)
        return max(forward.count, backward.count) + planeSlack
            + max(bufferCount(forward, rowStep: g.strideHeight, outputHeight: g.outputHeight, outputWidth: g.outputWidth),
                  bufferCount(backward, rowStep: g.strideHeight, outputHeight: g.inputHeight, outputWidth: g.inputWidth))
    }

    /// Floats past a padded plane that the flattened kernel may read (into discarded lanes).
    static let planeSlack = 2 * lanes

    /// The padded input plane the forward correlation reads (also the padded `dX` the strided
    /// VJP scatters into): `strideWidth` phases, room for the last lane block's widest tap.
    static func forwardPlane(_ g: WindowGeometry) -> PaddedPlane { PaddedPlane(window: g, lanes: lanes) }

    /// The padded `dY` plane the stride-1 VJP correlates with the flipped kernel: `dY` shifted
    /// by the kernel's reach minus the padding, so `dX(h, w) = Σ w_flipped · dY′(h + i, w + j)`.
    static func backwardPlane(_ g: WindowGeometry) -> PaddedPlane {
        guard g.strideHeight == 1, g.strideWidth == 1 else { return forwardPlane(g) }
        let reachHeight = (g.kernelHeight - 1) * g.dilationHeight, reachWidth = (g.kernelWidth - 1) * g.dilationWidth
        return PaddedPlane(rows: g.inputHeight + reachHeight, phases: 1, phaseWidth: roundedUp(g.inputWidth) + reachWidth,
                           top: reachHeight - g.padTop, left: reachWidth - g.padLeft)
    }

    /// One frame, input channels `channels` of `C`: their output planes of `output`
    /// (`C·multiplier×Ho×Wo`) from `input` (`C×H×W`) and `weights` (`C·multiplier×1×kH×kW`),
    /// adding the bias and applying `activation`. `scratch` holds ``scratchCount(_:)`` floats.
    static func forward(input: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: [Float]?, channels: Range<Int>,
                        multiplier: Int, geometry g: WindowGeometry, activation: FusedActivation,
                        scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let layout = forwardPlane(g)
        let buffer = scratch + layout.count + planeSlack
        withKernel(g, layout: layout) { kernel in
            for channel in channels {
                layout.fill(scratch, from: input + channel * g.inputPlane, height: g.inputHeight, width: g.inputWidth,
                            paddingWritten: channel > channels.lowerBound)
                for outputChannel in (channel * multiplier)..<((channel + 1) * multiplier) {
                    kernel.setWeights(weights + outputChannel * g.kernelArea, flipped: false)
                    let y = output + outputChannel * g.outputPlane
                    correlate(UnsafePointer(scratch), rowStride: layout.rowStride, rowStep: g.strideHeight, kernel: kernel,
                              bias: bias?[outputChannel] ?? 0, outputHeight: g.outputHeight, outputWidth: g.outputWidth,
                              accumulate: false, output: y, buffer: buffer)
                    activation.apply(y, count: g.outputPlane)
                }
            }
        }
    }

    /// One cotangent row, input channels `channels`: the VJP of ``forward(input:weights:bias:channels:multiplier:geometry:activation:scratch:output:)``
    /// (before the activation) for `outputGradient` (`C·multiplier×Ho×Wo`), written to or, when
    /// `accumulate`, added onto `inputGradient` (`C×H×W`). `scratch` holds ``scratchCount(_:)`` floats.
    static func backward(outputGradient: UnsafePointer<Float>, weights: UnsafePointer<Float>, channels: Range<Int>,
                         multiplier: Int, geometry g: WindowGeometry, scratch: UnsafeMutablePointer<Float>,
                         accumulate: Bool, inputGradient: UnsafeMutablePointer<Float>) {
        let layout = backwardPlane(g)
        let buffer = scratch + layout.count + planeSlack
        let strided = g.strideHeight != 1 || g.strideWidth != 1
        withKernel(g, layout: layout) { kernel in
            for channel in channels {
                let dx = inputGradient + channel * g.inputPlane
                if strided {
                    scratch.update(repeating: 0, count: layout.count)
                    if !accumulate { dx.update(repeating: 0, count: g.inputPlane) }
                }
                for outputChannel in (channel * multiplier)..<((channel + 1) * multiplier) {
                    let dy = outputGradient + outputChannel * g.outputPlane
                    kernel.setWeights(weights + outputChannel * g.kernelArea, flipped: !strided)
                    if strided {
                        scatter(dy, rowStride: layout.rowStride, rowStep: g.strideHeight, kernel: kernel,
                                outputHeight: g.outputHeight, outputWidth: g.outputWidth, into: scratch)
                    } else {
                        layout.fill(scratch, from: dy, height: g.outputHeight, width: g.outputWidth,
                                    paddingWritten: outputChannel > channels.lowerBound * multiplier)
                        correlate(UnsafePointer(scratch), rowStride: layout.rowStride, rowStep: 1, kernel: kernel, bias: 0,
                                  outputHeight: g.inputHeight, outputWidth: g.inputWidth,
                                  accumulate: accumulate || outputChannel > channel * multiplier, output: dx, buffer: buffer)
                    }
                }
                if strided { layout.fold(UnsafePointer(scratch), onto: dx, height: g.inputHeight, width: g.inputWidth) }
            }
        }
    }

    // MARK: Row kernels

    /// A filter's taps for one ``PaddedPlane`` layout: tap `k = i·kW + j` reads the plane at
    /// `offsets[k]` past the output row's first padded row, with weight `weights[k]`.
    struct Kernel {
        let height: Int, width: Int
        let offsets: UnsafeMutablePointer<Int>, weights: UnsafeMutablePointer<Float>

        /// The taps as the row loops read them.
        var taps: DepthwiseTaps {
            DepthwiseTaps(height: height, width: width, offsets: UnsafePointer(offsets), weights: UnsafePointer(weights))
        }

        /// Sets the weights to one filter (`kH×kW`), or to the filter turned by 180°.
        @inline(__always)
        func setWeights(_ filter: UnsafePointer<Float>, flipped: Bool) {
            let count = height * width
            for k in 0..<count { weights[k] = filter[flipped ? count - 1 - k : k] }
        }
    }

    /// Whether the correlation runs over the flattened plane (`DepthwiseKernels.isFlattened`).
    static func isFlattened(rowStep: Int, outputWidth: Int) -> Bool {
        DepthwiseKernels.isFlattened(rowStep: rowStep, outputWidth: outputWidth)
    }

    /// Floats of buffer the correlation needs.
    static func bufferCount(_ layout: PaddedPlane, rowStep: Int, outputHeight: Int, outputWidth: Int) -> Int {
        (isFlattened(rowStep: rowStep, outputWidth: outputWidth) ? outputHeight * layout.rowStride : layout.rowStride) + lanes
    }

    /// `DepthwiseKernels.correlate` in the build ``KernelSelection`` chose (``DepthwiseLoops``):
    /// `output (outputHeight×outputWidth) (+)= bias + Σ_taps weight · plane[row·rowStep·rowStride + offset + column]`.
    @inline(__always)
    static func correlate(_ plane: UnsafePointer<Float>, rowStride: Int, rowStep: Int, kernel: Kernel, bias: Float,
                          outputHeight: Int, outputWidth: Int, accumulate: Bool, output: UnsafeMutablePointer<Float>,
                          buffer: UnsafeMutablePointer<Float>) {
        DepthwiseLoops.selected.correlate(plane, rowStride, rowStep, kernel.taps, bias, outputHeight, outputWidth, accumulate,
                                          output, buffer)
    }

    /// `DepthwiseKernels.scatter` in the selected build: the adjoint of the correlation without
    /// bias. `plane` needs ``PaddedPlane`` room for a whole last block.
    @inline(__always)
    static func scatter(_ gradient: UnsafePointer<Float>, rowStride: Int, rowStep: Int, kernel: Kernel,
                        outputHeight: Int, outputWidth: Int, into plane: UnsafeMutablePointer<Float>) {
        DepthwiseLoops.selected.scatter(gradient, rowStride, rowStep, kernel.taps, outputHeight, outputWidth, plane)
    }

    /// Calls `body` with the kernel's taps laid out for `layout` (weights unset).
    private static func withKernel(_ g: WindowGeometry, layout: PaddedPlane, _ body: (Kernel) -> Void) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: g.kernelArea) { offsets in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: g.kernelArea) { weights in
                for i in 0..<g.kernelHeight {
                    for j in 0..<g.kernelWidth {
                        offsets[i * g.kernelWidth + j] = layout.offset(row: i * g.dilationHeight, column: j * g.dilationWidth)
                    }
                }
                body(Kernel(height: g.kernelHeight, width: g.kernelWidth,
                            offsets: offsets.baseAddress!, weights: weights.baseAddress!))
            }
        }
    }

    private static func roundedUp(_ width: Int) -> Int { (width + lanes - 1) / lanes * lanes }
}
