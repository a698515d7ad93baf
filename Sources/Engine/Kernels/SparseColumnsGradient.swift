#if canImport(Glibc)
import Glibc
#endif
import AVX2Kernels
import AVX512Kernels
import VectorKernels

/// The VJP of a convolution (`groups = 1`, dilation 1) computed from the nonzero entries of
/// `dY` alone: `dX = Σ_{m, p: dY[m, p] ≠ 0} dY[m, p] · W[m]` placed at position `p`'s window.
///
/// A network's stem feeds a ReLU and a max pooling: the pooling's VJP routes each pooled
/// cotangent to one pixel of its window, and the ReLU drops the negative ones, so most of the
/// stem's `dY` is 0 (about 90 % of resnet18's `64×112×112`, the same pixels for every cotangent
/// of a Jacobian). The columns VJP (`dcols = Wᵀ · dY`, then col2im) multiplies every one of them.
/// Here each output row's nonzero channels are marked per position (bit masks) while the row is
/// copied out of its planes, each position's `C×kH×kW` patch is summed in registers over its
/// nonzero channels (``SparseGradientKernels``: twelve vectors of runs at a time) and added onto
/// a padded tile of `dX`'s rows, whose finished rows are then added onto `dX`.
///
/// A fused activation's mask is applied as `dY` is read (the other methods mask `dY` in a pass
/// of their own first). Chosen per call by the share of nonzeros in a sample of the first
/// cotangent row after the mask (``sampledDensity(_:output:activation:)`` against
/// ``densityMaximum``); the sums differ from the columns VJP's only by rounding (another order
/// of the same terms).
struct SparseColumnsGradient: Sendable {
    /// Nonzero shares of `dY` up to which a call runs here rather than by the columns method.
    /// resnet18's stem in a model of its own, one thread, CPU time, two rounds, this method
    /// forced against the columns one (one-gradient / Jacobian VJP): before a 3×3/2 max pooling
    /// (about 11 % nonzero) 1.87–2.16 / 19.6–22.3 ms against 2.40–2.42 / 26.3–28.2; before a
    /// 2×2 one (about 16 %) 1.43–1.92 / 15.0–20.1 against 2.41–2.43 / 26.2–26.6; with the ReLU
    /// alone (about 45 %) 3.41–3.55 / 36.3–38.2 against 2.35–2.47 / 25.5–27.1. The two meet near
    /// 25 %.
    static let densityMaximum = 0.2
    /// Runs of eight per patch (`C·kH·⌈kW/8⌉`) up to which a convolution has this form: a
    /// stem's few input channels (resnet's `3×7×7`: 21).
    static let maximumVectors = 64

    let channels: Int, outputChannels: Int
    let geometry: WindowGeometry
    let vectors: Int, paddedVectors: Int
    /// `M × paddedVectors × 8` (``SparsePatches``).
    let patchWeights: [Float]
    /// Per run: its channel plane, kernel row and eight columns in the padded gradient.
    let offsets: [Int]
    /// The padded gradient of ``tileOutputRows`` output rows at a time: `C` planes of
    /// `bufferRows × bufferWidth`, where row `r` is padded row `top + r` (input row
    /// `top + r − padTop`) and column `x + padLeft` input column `x`; position `(i, j)`'s window
    /// starts at padded `(i·sH, j·sW)`.
    let bufferWidth: Int, bufferRows: Int
    var bufferPlane: Int { bufferRows * bufferWidth }
    /// 64-bit mask words per position.
    var words: Int { Self.maskWords(outputChannels: outputChannels) }

    /// 64-bit mask words per position for `outputChannels` channels (one bit each).
    private static func maskWords(outputChannels: Int) -> Int { (outputChannels + 63) / 64 }

    /// Runs of eight per kernel row: `kW` rounded up to whole runs.
    private static func runsPerRow(_ g: WindowGeometry) -> Int {
        (g.kernelWidth + SparseGradientKernels.lanes - 1) / SparseGradientKernels.lanes
    }

    /// `nil` unless the convolution has this form (``applies(channels:groups:geometry:)``).
    /// - Parameter weights: `M×C×kH×kW`.
    init?(weights: Tensor, channels: Int, groups: Int, geometry g: WindowGeometry) {
        guard Self.applies(channels: channels, groups: groups, geometry: g), weights.shape.rank == 4,
              weights.shape[1] == channels else { return nil }
        let lanes = SparseGradientKernels.lanes
        let runsPerRow = Self.runsPerRow(g)
        let vectors = channels * g.kernelHeight * runsPerRow
        self.channels = channels
        (bufferWidth, bufferRows) = Self.bufferSize(g)
        outputChannels = weights.shape[0]
        geometry = g
        self.vectors = vectors
        let chunk = SparseGradientKernels.chunkRuns
        paddedVectors = (vectors + chunk - 1) / chunk * chunk
        var patchWeights = [Float](repeating: 0, count: outputChannels * paddedVectors * lanes)
        var offsets = [Int](repeating: 0, count: vectors)
        let (kH, kW) = (g.kernelHeight, g.kernelWidth)
        let plane = bufferRows * bufferWidth
        for c in 0..<channels {
            for i in 0..<kH {
                for run in 0..<runsPerRow {
                    let v = (c * kH + i) * runsPerRow + run
                    offsets[v] = c * plane + i * bufferWidth + run * lanes
                    for lane in 0..<lanes where run * lanes + lane < kW {
                        let j = run * lanes + lane
                        for m in 0..<outputChannels {
                            patchWeights[(m * paddedVectors + v) * lanes + lane] = weights.values[((m * channels + c) * kH + i) * kW + j]
                        }
                    }
                }
            }
        }
        self.patchWeights = patchWeights
        self.offsets = offsets
    }

    /// Output rows whose patches are added into the padded gradient before its finished rows
    /// go onto `dX`: the rows stay in cache while they are added to (resnet's stem: 13 rows of
    /// 3 channels, 36 KB, against 632 KB for a whole frame, which took 7–10 % more time per row).
    static let tileOutputRows = 4

    /// The padded gradient's columns (every run of every position, and the input's pixels) and
    /// rows (a tile's windows).
    private static func bufferSize(_ g: WindowGeometry) -> (width: Int, rows: Int) {
        return (max((g.outputWidth - 1) * g.strideWidth + runsPerRow(g) * SparseGradientKernels.lanes,
                    g.padLeft + g.inputWidth),
                (min(tileOutputRows, g.outputHeight) - 1) * g.strideHeight + g.kernelHeight)
    }

    /// Whether a convolution has this form: ungrouped, undilated, its patch at most
    /// ``maximumVectors`` runs.
    static func applies(channels: Int, groups: Int, geometry g: WindowGeometry) -> Bool {
        groups == 1 && g.dilationHeight == 1 && g.dilationWidth == 1 && g.outputHeight > 0 && g.outputWidth > 0
            && channels * g.kernelHeight * runsPerRow(g) <= maximumVectors
    }

    /// Floats between the channels of the copy of one output row of `dY`: its width rounded up
    /// to sixteen (the copy's rows contiguous, where `dY`'s planes, 50 KB apart on resnet's stem,
    /// fall into the same few sets of the L1 cache).
    static func copyStride(_ g: WindowGeometry) -> Int { (g.outputWidth + 15) / 16 * 16 }

    /// Scratch floats per thread: the padded gradient, a copy of one output row of `dY` and its
    /// masks (aligned to 8 bytes: one float more).
    static func scratchCount(channels: Int, outputChannels: Int, geometry g: WindowGeometry) -> Int {
        let (width, rows) = bufferSize(g)
        return channels * rows * width + outputChannels * copyStride(g) + 2 * maskWords(outputChannels: outputChannels) * g.outputWidth + 1
    }

    /// Output rows between the rows ``sampledDensity(_:output:activation:)`` reads.
    static let sampledRowStep = 16

    /// The share of nonzeros in every ``sampledRowStep``th output row of `dY` (`M×Ho×Wo`, one
    /// cotangent row) masked by `activation` (where `output`, the frame's `M×Ho×Wo` activated
    /// values, is outside its passing interval). Eight values at a time without branches (a
    /// branch per value, mispredicted at random, took 0.5–0.8 ms on resnet's stem reading every
    /// fourth row, half of the VJP's time; without branches 0.23–0.33 ms, reading `dY` and the
    /// output from memory).
    func sampledDensity(_ outputGradient: UnsafePointer<Float>, output: UnsafePointer<Float>,
                        activation: FusedActivation) -> Double {
        typealias Vector = SIMD8<Float>
        let g = geometry, plane = g.outputPlane, width = g.outputWidth
        let (lower, upper) = activation.passingInterval
        @inline(__always) func passes(_ value: Float, _ y: Float) -> Int32 { value != 0 && y > lower && y < upper ? 1 : 0 }
        var nonzeros = SIMD8<Int32>(), tail: Int32 = 0, count = 0
        for m in 0..<outputChannels {
            for i in stride(from: 0, to: g.outputHeight, by: Self.sampledRowStep) {
                let row = outputGradient + m * plane + i * width, y = output + m * plane + i * width
                var j = 0
                while j + Vector.scalarCount <= width {
                    let values = UnsafeRawPointer(row + j).loadUnaligned(as: Vector.self)
                    let outputs = UnsafeRawPointer(y + j).loadUnaligned(as: Vector.self)
                    let nonzero = (values .!= 0) .& (outputs .> lower) .& (outputs .< upper)
                    nonzeros &+= SIMD8<Int32>().replacing(with: 1, where: nonzero)
                    j += Vector.scalarCount
                }
                while j < width {
                    tail &+= passes(row[j], y[j])
                    j += 1
                }
                count += width
            }
        }
        return count == 0 ? 0 : Double(Int(nonzeros.wrappedSum()) + Int(tail)) / Double(count)
    }

    /// Adds the VJP of `rows` cotangent rows (`dY`: `M×Ho×Wo` each, `outputFrame` apart, not
    /// yet masked by `activation`) onto `inputGradient` (`C×H×W` each, `inputFrame` apart). Row
    /// `r` is masked by frame `r / cotangentsPerFrame` of `output` (the activated values) as it
    /// is read, instead of in a pass of its own. With fewer rows than threads, each row is cut
    /// into bands of output rows, taken in two rounds (even bands, then odd) so that no two bands
    /// of a round add onto the same input rows.
    func run(outputGradient: UnsafePointer<Float>, rows: Int, outputFrame: Int, output: UnsafePointer<Float>,
             cotangentsPerFrame: Int, activation: FusedActivation, inputGradient: UnsafeMutablePointer<Float>,
             inputFrame: Int, team: ThreadTeam, threads: Int, scratch: UnsafeMutablePointer<Float>, scratchStride: Int,
             loops: SparseGradientLoops = .selected) {
        let g = geometry
        // Bands two apart never meet when a band's rows reach past a window's overhang.
        var bands = 1
        if rows < threads {
            let candidate = 2 * threads
            let shortest = g.outputHeight / candidate
            if shortest > 0, (shortest + 1) * g.strideHeight >= g.kernelHeight { bands = candidate }
        }
        patchWeights.withUnsafeBufferPointer { weights in
            offsets.withUnsafeBufferPointer { offsets in
                let patches = SparsePatches(vectors: vectors, paddedVectors: paddedVectors, weights: weights.baseAddress!,
                                            offsets: offsets.baseAddress!)
                let rounds = bands > 1 ? 2 : 1
                for round in 0..<rounds {
                    let perRow = (bands - round + rounds - 1) / rounds
                    team.forEach(items: rows * perRow, threads: threads) { item, thread in
                        let row = item / perRow, band = rounds * (item % perRow) + round
                        let outputRows = (band * g.outputHeight / bands)..<((band + 1) * g.outputHeight / bands)
                        runBand(outputGradient + row * outputFrame,
                                output: activation == .none ? nil : output + row / cotangentsPerFrame * outputFrame,
                                interval: activation.passingInterval, outputRows: outputRows, patches: patches,
                                inputGradient: inputGradient + row * inputFrame,
                                scratch: scratch + thread * scratchStride, loops: loops)
                    }
                }
            }
        }
    }

    /// One band of output rows of one cotangent row, ``tileOutputRows`` at a time: their
    /// patches into the padded gradient, then its rows no later output row reaches onto
    /// `inputGradient`, and the rest (a window's overhang) moved up for the next tile.
    private func runBand(_ dy: UnsafePointer<Float>, output: UnsafePointer<Float>?, interval: (lower: Float, upper: Float),
                         outputRows: Range<Int>, patches: SparsePatches,
                         inputGradient: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                         loops: SparseGradientLoops) {
        guard !outputRows.isEmpty else { return }
        let g = geometry
        let buffer = scratch
        let copyStride = Self.copyStride(g), copy = scratch + channels * bufferPlane
        let masks = UnsafeMutableRawPointer(copy + outputChannels * copyStride).alignedUp(for: UInt64.self)
            .assumingMemoryBound(to: UInt64.self)
        for c in 0..<channels { (buffer + c * bufferPlane).update(repeating: 0, count: bufferPlane) }
        // The padded row of the buffer's row 0.
        var top = outputRows.lowerBound * g.strideHeight
        var first = outputRows.lowerBound
        while first < outputRows.upperBound {
            let last = min(first + Self.tileOutputRows, outputRows.upperBound)
            for i in first..<last {
                let row = dy + i * g.outputWidth
                loops.markNonzeros(row, g.outputPlane, outputChannels, g.outputWidth, output.map { $0 + i * g.outputWidth },
                                   interval.lower, interval.upper, masks, copy, copyStride)
                loops.addPatches(copy, copyStride, g.outputWidth, masks, words, patches, g.strideWidth,
                                 buffer + (i * g.strideHeight - top) * bufferWidth)
            }
            let written = (last - 1) * g.strideHeight + g.kernelHeight - top
            // Rows before the next output row's window are finished (all of them after the band's last row).
            let finished = last < outputRows.upperBound ? min(last * g.strideHeight - top, written) : written
            addRows(0..<finished, of: buffer, top: top, onto: inputGradient)
            guard last < outputRows.upperBound else { break }
            let kept = written - finished
            for c in 0..<channels {
                let plane = buffer + c * bufferPlane
                memmove(plane, plane + finished * bufferWidth, kept * bufferWidth * MemoryLayout<Float>.stride)
                (plane + kept * bufferWidth).update(repeating: 0, count: (bufferRows - kept) * bufferWidth)
            }
            // The next tile's first window (rows between windows, which none reaches, skipped).
            top = last * g.strideHeight
            first = last
        }
    }

    /// Adds rows `rows` of the padded gradient `buffer` (row 0 is padded row `top`) that are
    /// input rows onto `inputGradient`'s (`bufferWidth ≥ padLeft + W`).
    private func addRows(_ rows: Range<Int>, of buffer: UnsafePointer<Float>, top: Int,
                         onto inputGradient: UnsafeMutablePointer<Float>) {
        let g = geometry
        for r in rows {
            let y = top + r - g.padTop
            guard y >= 0, y < g.inputHeight else { continue }
            for c in 0..<channels {
                let source = buffer + c * bufferPlane + r * bufferWidth + g.padLeft
                let target = inputGradient + c * g.inputPlane + y * g.inputWidth
                for x in 0..<g.inputWidth { target[x] += source[x] }
            }
        }
    }
}

/// One build of ``SparseGradientKernels``: compiled for AVX-512, AVX2 or baseline x86-64, as
/// ``KernelSelection`` chose for the products.
struct SparseGradientLoops: Sendable {
    /// `(row, planeStride, channels, width, output, lower, upper, masks, copy, copyStride)`.
    let markNonzeros: @Sendable (UnsafePointer<Float>, Int, Int, Int, UnsafePointer<Float>?, Float, Float,
                                 UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<Float>, Int) -> Void
    /// `(row, planeStride, width, masks, words, patches, columnStep, target)`.
    let addPatches: @Sendable (UnsafePointer<Float>, Int, Int, UnsafePointer<UInt64>, Int, SparsePatches, Int,
                               UnsafeMutablePointer<Float>) -> Void

    static func build(_ kernels: KernelSelection.Kernels) -> SparseGradientLoops {
        switch kernels {
        case .avx512: SparseGradientLoops(markNonzeros: AVX512SparseGradient.markNonzeros, addPatches: AVX512SparseGradient.addPatches)
        case .avx2: SparseGradientLoops(markNonzeros: AVX2SparseGradient.markNonzeros, addPatches: AVX2SparseGradient.addPatches)
        case .portable: SparseGradientLoops(markNonzeros: PortableSparseGradient.markNonzeros,
                                            addPatches: PortableSparseGradient.addPatches)
        }
    }

    /// The build ``KernelSelection`` chose for this process.
    static let selected = build(KernelSelection.current.kernels)
}
