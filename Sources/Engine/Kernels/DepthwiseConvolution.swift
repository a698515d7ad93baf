/// Direct depthwise convolution on one frame: every input channel `c` is convolved with its own
/// `multiplier` filters, output channel `c·multiplier + m` (ONNX `Conv` with `group = C`).
///
/// Each plane is first copied into a zero-padded scratch plane (``PaddedPlane``) whose rows are
/// split into `strideWidth` column phases, so every kernel tap reads a contiguous run of scratch
/// for a run of output columns. The row kernel then computes eight output columns at a time
/// with all taps accumulated in registers, and stores once.
///
/// The VJP of a stride-1 convolution is the same correlation, of the padded `dY` with the
/// flipped kernel. With a larger column or row stride it scatters each tap's product into the
/// phase planes of a padded `dX` and folds them back onto `dX`.
enum DepthwiseConvolution {
    typealias Vector = SIMD8<Float>
    static let lanes = Vector.scalarCount

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
                layout.fill(scratch, from: input + channel * g.inputPlane, height: g.inputHeight, width: g.inputWidth)
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
                        layout.fill(scratch, from: dy, height: g.outputHeight, width: g.outputWidth)
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

        /// Sets the weights to one filter (`kH×kW`), or to the filter turned by 180°.
        @inline(__always)
        func setWeights(_ filter: UnsafePointer<Float>, flipped: Bool) {
            let count = height * width
            for k in 0..<count { weights[k] = filter[flipped ? count - 1 - k : k] }
        }
    }

    /// Whether ``correlate(_:rowStride:rowStep:kernel:bias:outputHeight:outputWidth:accumulate:output:buffer:)``
    /// runs over the flattened plane: narrow stride-1 rows, where per-row lane blocks would be mostly partial.
    static func isFlattened(rowStep: Int, outputWidth: Int) -> Bool { rowStep == 1 && outputWidth < 2 * lanes }

    /// Floats of buffer the correlation needs.
    static func bufferCount(_ layout: PaddedPlane, rowStep: Int, outputHeight: Int, outputWidth: Int) -> Int {
        (isFlattened(rowStep: rowStep, outputWidth: outputWidth) ? outputHeight * layout.rowStride : layout.rowStride) + lanes
    }

    /// `output (outputHeight×outputWidth) (+)= bias + Σ_taps weight · plane[row·rowStep·rowStride + offset + column]`,
    /// eight columns at a time. 3×3 kernels keep all nine weights in registers and split the sum
    /// by kernel row (three independent chains); other kernels add one kernel row at a time into
    /// `buffer`. Narrow stride-1 planes are computed as one flattened run of `rowStride`-wide
    /// rows into `buffer` (discarding the padding columns), so lane blocks are not mostly partial.
    static func correlate(_ plane: UnsafePointer<Float>, rowStride: Int, rowStep: Int, kernel: Kernel, bias: Float,
                          outputHeight: Int, outputWidth: Int, accumulate: Bool, output: UnsafeMutablePointer<Float>,
                          buffer: UnsafeMutablePointer<Float>) {
        let start = Vector(repeating: bias)
        guard kernel.height == 3, kernel.width == 3 else {
            correlateByKernelRows(plane, rowStride: rowStride, rowStep: rowStep, kernel: kernel, start: start,
                                  outputHeight: outputHeight, outputWidth: outputWidth, accumulate: accumulate,
                                  output: output, buffer: buffer)
            return
        }
        let w = kernel.weights, o = kernel.offsets
        let w0 = Vector(repeating: w[0]), w1 = Vector(repeating: w[1]), w2 = Vector(repeating: w[2])
        let w3 = Vector(repeating: w[3]), w4 = Vector(repeating: w[4]), w5 = Vector(repeating: w[5])
        let w6 = Vector(repeating: w[6]), w7 = Vector(repeating: w[7]), w8 = Vector(repeating: w[8])
        let o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3], o4 = o[4], o5 = o[5], o6 = o[6], o7 = o[7], o8 = o[8]
        @inline(__always) func block(_ p: UnsafePointer<Float>) -> Vector {
            var a = w0 * load(Vector.self, p + o0), b = w3 * load(Vector.self, p + o3), c = w6 * load(Vector.self, p + o6)
            a += w1 * load(Vector.self, p + o1); b += w4 * load(Vector.self, p + o4); c += w7 * load(Vector.self, p + o7)
            a += w2 * load(Vector.self, p + o2); b += w5 * load(Vector.self, p + o5); c += w8 * load(Vector.self, p + o8)
            return (start + a) + (b + c)
        }
        if isFlattened(rowStep: rowStep, outputWidth: outputWidth) {
            let count = (outputHeight - 1) * rowStride + outputWidth
            for column in stride(from: 0, to: count, by: lanes) { store(block(plane + column), buffer + column) }
            for row in 0..<outputHeight {
                copyRow(UnsafePointer(buffer + row * rowStride), count: outputWidth,
                        to: output + row * outputWidth, accumulate: accumulate)
            }
            return
        }
        let fullBlocks = outputWidth / lanes, rest = outputWidth % lanes
        for row in 0..<outputHeight {
            let source = plane + row * rowStep * rowStride
            let destination = output + row * outputWidth
            if accumulate {
                for b in 0..<fullBlocks {
                    let column = b * lanes
                    store(block(source + column) + load(Vector.self, destination + column), destination + column)
                }
            } else {
                for b in 0..<fullBlocks { store(block(source + b * lanes), destination + b * lanes) }
            }
            if rest > 0 {
                let column = fullBlocks * lanes
                store(block(source + column), buffer)
                copyRow(UnsafePointer(buffer), count: rest, to: destination + column, accumulate: accumulate)
            }
        }
    }

    /// The correlation for kernels other than 3×3: per output row, `buffer` starts at the bias
    /// and gains one kernel row's taps per pass (five weights in registers for 5-wide kernels).
    private static func correlateByKernelRows(_ plane: UnsafePointer<Float>, rowStride: Int, rowStep: Int, kernel: Kernel,
                                              start: Vector, outputHeight: Int, outputWidth: Int, accumulate: Bool,
                                              output: UnsafeMutablePointer<Float>, buffer: UnsafeMutablePointer<Float>) {
        let blocks = (outputWidth + lanes - 1) / lanes
        for row in 0..<outputHeight {
            let source = plane + row * rowStep * rowStride
            for b in 0..<blocks { store(start, buffer + b * lanes) }
            for i in 0..<kernel.height {
                let o = kernel.offsets + i * kernel.width, w = kernel.weights + i * kernel.width
                if kernel.width == 5 {
                    let w0 = Vector(repeating: w[0]), w1 = Vector(repeating: w[1]), w2 = Vector(repeating: w[2])
                    let w3 = Vector(repeating: w[3]), w4 = Vector(repeating: w[4])
                    let p0 = source + o[0], p1 = source + o[1], p2 = source + o[2], p3 = source + o[3], p4 = source + o[4]
                    for b in 0..<blocks {
                        let c = b * lanes
                        let near = w0 * load(Vector.self, p0 + c) + w1 * load(Vector.self, p1 + c), far = w2 * load(Vector.self, p2 + c) + w3 * load(Vector.self, p3 + c)
                        store(load(Vector.self, buffer + c) + (near + far) + w4 * load(Vector.self, p4 + c), buffer + c)
                    }
                } else {
                    for j in 0..<kernel.width {
                        let weight = Vector(repeating: w[j]), p = source + o[j]
                        for b in 0..<blocks {
                            let c = b * lanes
                            store(load(Vector.self, buffer + c) + weight * load(Vector.self, p + c), buffer + c)
                        }
                    }
                }
            }
            copyRow(UnsafePointer(buffer), count: outputWidth, to: output + row * outputWidth, accumulate: accumulate)
        }
    }

    @inline(__always)
    private static func copyRow(_ source: UnsafePointer<Float>, count: Int, to destination: UnsafeMutablePointer<Float>,
                                accumulate: Bool) {
        if accumulate {
            for k in 0..<count { destination[k] += source[k] }
        } else {
            destination.update(from: source, count: count)
        }
    }

    /// The adjoint of ``correlate(_:rowStride:rowStep:kernel:bias:outputHeight:outputWidth:accumulate:output:buffer:)``
    /// without bias: `plane[row·rowStep·rowStride + offset + column] += weight · gradient(row, column)`
    /// for every tap. `plane` needs ``PaddedPlane`` room for a whole last block.
    static func scatter(_ gradient: UnsafePointer<Float>, rowStride: Int, rowStep: Int, kernel: Kernel,
                        outputHeight: Int, outputWidth: Int, into plane: UnsafeMutablePointer<Float>) {
        let fullBlocks = outputWidth / lanes, rest = outputWidth % lanes
        for row in 0..<outputHeight {
            let destination = plane + row * rowStep * rowStride
            let source = gradient + row * outputWidth
            var last = Vector()
            for k in 0..<rest { last[k] = source[fullBlocks * lanes + k] }
            // Taps outermost: neighbouring taps' blocks overlap, and a load of a block still in
            // the store buffer would stall.
            for k in 0..<(kernel.height * kernel.width) {
                let target = destination + kernel.offsets[k], weight = Vector(repeating: kernel.weights[k])
                for b in 0..<fullBlocks {
                    let column = b * lanes
                    store(load(Vector.self, target + column) + weight * load(Vector.self, source + column), target + column)
                }
                if rest > 0 {
                    let column = fullBlocks * lanes
                    store(load(Vector.self, target + column) + weight * last, target + column)
                }
            }
        }
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
