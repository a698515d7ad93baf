import Testing
import VectorKernels
@testable import Engine

#if arch(x86_64)
/// The convolution VJP from `dY`'s nonzeros (``SparseColumnsGradient`` and its loops in each
/// build: AVX-512, AVX2+FMA and portable) against the VJP's definition in double precision, on
/// shapes that take one and several chunks of runs, kernels wider than one run, strides above the
/// kernel's width, asymmetric padding and more than 64 output channels (two mask words), with a
/// fused activation's mask applied as `dY` is read; the masks against their definition (NaN
/// nonzero, −0 zero, a tail of positions); the sampled density by hand. Each wide build runs only on a CPU that reports its instruction set.
struct SparseColumnsGradientTests {
    static let builds: [KernelSelection.Kernels] = [.portable] + ActivationBuildTests.supported

    struct Shape: CustomTestStringConvertible, Sendable {
        var channels: Int, outputChannels: Int, height: Int, width: Int
        var kernelHeight: Int, kernelWidth: Int, stride: (Int, Int)
        var padding: (top: Int, left: Int, bottom: Int, right: Int)
        var testDescription: String {
            "\(outputChannels)×\(channels)×\(kernelHeight)×\(kernelWidth)/\(stride.0)×\(stride.1) on \(height)×\(width)"
        }
    }

    static let shapes: [Shape] = [
        // resnet's stem, small: 21 runs (one AVX-512 chunk, two AVX2 ones).
        Shape(channels: 3, outputChannels: 16, height: 23, width: 21, kernelHeight: 7, kernelWidth: 7, stride: (2, 2),
              padding: (3, 3, 3, 3)),
        // 70 channels: two mask words; 3×9 kernel: two runs per kernel row; stride 3 over a
        // 2-wide overlap; asymmetric padding.
        Shape(channels: 2, outputChannels: 70, height: 11, width: 29, kernelHeight: 3, kernelWidth: 9, stride: (3, 3),
              padding: (1, 4, 0, 2)),
        // 4×7 = 28 runs: two AVX-512 chunks (24 + 4), three AVX2 ones; stride 1 (eight positions a sweep apart).
        Shape(channels: 4, outputChannels: 9, height: 12, width: 19, kernelHeight: 7, kernelWidth: 7, stride: (1, 1),
              padding: (2, 3, 4, 1)),
        // Stride 4 > kernel 2: pixels no window reaches; one channel.
        Shape(channels: 1, outputChannels: 5, height: 13, width: 14, kernelHeight: 2, kernelWidth: 2, stride: (4, 4),
              padding: (0, 0, 0, 0)),
    ]

    static func geometry(_ s: Shape) -> WindowGeometry {
        let window = SpatialWindow(kernelHeight: s.kernelHeight, kernelWidth: s.kernelWidth, strideHeight: s.stride.0,
                                   strideWidth: s.stride.1, dilationHeight: 1, dilationWidth: 1,
                                   padding: .explicit(top: s.padding.top, left: s.padding.left, bottom: s.padding.bottom,
                                                      right: s.padding.right))
        return try! window.geometry(inputHeight: s.height, inputWidth: s.width)
    }

    /// `dX[c, y, x] = Σ_{m, i, j} W[m, c, i, j] · dY[m, (y + pt − i)/sH, (x + pl − j)/sW]`.
    static func definition(_ dy: [Float], weights: Tensor, _ g: WindowGeometry, channels: Int) -> [Double] {
        let m = weights.shape[0], (kH, kW) = (g.kernelHeight, g.kernelWidth)
        var dx = [Double](repeating: 0, count: channels * g.inputPlane)
        for o in 0..<m {
            for i in 0..<g.outputHeight {
                for j in 0..<g.outputWidth {
                    let value = Double(dy[(o * g.outputHeight + i) * g.outputWidth + j])
                    guard value != 0 else { continue }
                    for c in 0..<channels {
                        for a in 0..<kH {
                            for b in 0..<kW {
                                let y = i * g.strideHeight - g.padTop + a, x = j * g.strideWidth - g.padLeft + b
                                guard y >= 0, y < g.inputHeight, x >= 0, x < g.inputWidth else { continue }
                                dx[(c * g.inputHeight + y) * g.inputWidth + x] +=
                                    Double(weights.values[((o * channels + c) * kH + a) * kW + b]) * value
                            }
                        }
                    }
                }
            }
        }
        return dx
    }

    /// `count` values of which about `density` are nonzero (uniform in ±1), the rest 0.
    static func sparse(_ count: Int, density: Float, seed: UInt64) -> [Float] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { _ in random.uniform(0...1) < density ? random.uniform(-1...1) : 0 }
    }

    /// Four cotangent rows (two frames of two) at 15 % density (the last all zeros), added onto
    /// a gradient that already holds values, masked by a fused ReLU, a clip or nothing as they
    /// are read; one thread and two (rows split over threads), and one row on two threads (bands
    /// of output rows in two rounds, where the map has enough rows for them).
    @Test(arguments: builds, shapes)
    func matchesTheDefinition(_ build: KernelSelection.Kernels, shape: Shape) throws {
        let g = Self.geometry(shape)
        let weights = randomTensor([shape.outputChannels, shape.channels, shape.kernelHeight, shape.kernelWidth], seed: 51)
        let sparse = try #require(SparseColumnsGradient(weights: weights, channels: shape.channels, groups: 1, geometry: g))
        let outputFrame = shape.outputChannels * g.outputPlane, inputFrame = shape.channels * g.inputPlane
        var dy = Self.sparse(3 * outputFrame, density: 0.15, seed: 52)
        dy += [Float](repeating: 0, count: outputFrame)
        let output = randomTensor([2 * outputFrame], seed: 54).values
        let start = randomTensor([4 * inputFrame], seed: 53).values
        let scratchCount = SparseColumnsGradient.scratchCount(channels: shape.channels, outputChannels: shape.outputChannels,
                                                              geometry: g)
        let runs: [(rows: Int, threads: Int, activation: FusedActivation)] = [
            (4, 1, .relu), (4, 2, .clip(minimum: -0.5, maximum: 0.5)), (1, 2, .none), (1, 2, .relu),
        ]
        for (rows, threads, activation) in runs {
            let team = ThreadTeam(count: threads)
            var scratch = [Float](repeating: .nan, count: threads * scratchCount)
            var dx = Array(start[0..<(rows * inputFrame)])
            sparse.run(outputGradient: dy, rows: rows, outputFrame: outputFrame, output: output,
                       cotangentsPerFrame: min(rows, 2), activation: activation, inputGradient: &dx, inputFrame: inputFrame,
                       team: team, threads: threads, scratch: &scratch, scratchStride: scratchCount,
                       loops: SparseGradientLoops.build(build))
            let (lower, upper) = activation.passingInterval
            for row in 0..<rows {
                let frame = row / min(rows, 2)
                let masked = (0..<outputFrame).map { i -> Float in
                    let y = output[frame * outputFrame + i]
                    return y > lower && y < upper ? dy[row * outputFrame + i] : 0
                }
                let expected = Self.definition(masked, weights: weights, g, channels: shape.channels)
                let got = (0..<inputFrame).map { Double(dx[row * inputFrame + $0]) - Double(start[row * inputFrame + $0]) }
                let comment = "\(build), \(rows) rows on \(threads) threads, \(activation), row \(row)"
                if row == 3 {
                    // No nonzeros: the gradient is left exactly as it was.
                    #expect(dx[(3 * inputFrame)...] == start[(3 * inputFrame)...], "\(comment)")
                } else {
                    #expect(expected.contains { $0 != 0 })
                    expectCloseRelativeToMax(got, expected, tolerance: 1e-5, comment)
                }
            }
        }
    }

    /// Without an output, and masked by one (the open interval `(0, ∞)`: 0 and NaN outputs mask).
    @Test(arguments: builds)
    func masksMarkEveryNonzero(_ build: KernelSelection.Kernels) {
        let channels = 70, width = 13, planeStride = 17
        var values = Self.sparse(channels * planeStride, density: 0.3, seed: 54)
        values[3 * planeStride + 2] = .nan
        values[5 * planeStride + 4] = -0.0
        values[66 * planeStride + 12] = .leastNonzeroMagnitude
        var outputs = randomTensor([channels * planeStride], seed: 55).values
        outputs[7 * planeStride + 9] = 0
        outputs[8 * planeStride + 1] = .nan
        for masked in [false, true] {
            var masks = [UInt64](repeating: .max, count: 2 * width)
            var copy = [Float](repeating: .nan, count: channels * 16)
            outputs.withUnsafeBufferPointer { y in
                SparseGradientLoops.build(build).markNonzeros(values, planeStride, channels, width, masked ? y.baseAddress : nil,
                                                              0, .infinity, &masks, &copy, 16)
            }
            for m in 0..<channels {
                for p in 0..<width {
                    let passes = !masked || outputs[m * planeStride + p] > 0
                    let value = passes ? values[m * planeStride + p] : 0
                    let marked = masks[(m / 64) * width + p] >> UInt64(m % 64) & 1 == 1
                    #expect(marked == (value != 0), "masked \(masked), channel \(m), position \(p): \(value)")
                    #expect(copy[m * 16 + p].bitPattern == value.bitPattern, "masked \(masked), copy of channel \(m), position \(p)")
                }
            }
        }
    }

    /// Every ``SparseColumnsGradient/sampledRowStep``th output row (16): rows 0 and 16 of an
    /// 18×11 map, two channels, 5 nonzeros among those 44 values (and nonzeros in the unsampled
    /// rows, which do not count); with a ReLU, one of the five has a negative output: 4 of 44.
    /// The rows are 11 wide: one vector of eight and a tail of three.
    @Test func densitySamplesEverySixteenthRow() throws {
        #expect(SparseColumnsGradient.sampledRowStep == 16)
        let window = SpatialWindow(kernelHeight: 1, kernelWidth: 1, strideHeight: 1, strideWidth: 1, dilationHeight: 1,
                                   dilationWidth: 1, padding: .valid)
        let g = try window.geometry(inputHeight: 18, inputWidth: 11)
        let sparse = try #require(SparseColumnsGradient(weights: randomTensor([2, 1, 1, 1], seed: 1), channels: 1, groups: 1,
                                                        geometry: g))
        let plane = 18 * 11
        var dy = [Float](repeating: 0, count: 2 * plane)
        // Row 0 (a vector lane and a tail lane) and row 16 of channel 0; rows 0 and 16 of channel 1.
        for index in [0, 10, 16 * 11 + 3, plane + 1, plane + 16 * 11 + 9] { dy[index] = 1 }
        // Rows 1, 15 and 17: not sampled.
        for index in [11, 15 * 11 + 2, plane + 17 * 11 + 4] { dy[index] = -2 }
        var output = [Float](repeating: 1, count: 2 * plane)
        output[10] = -1
        #expect(sparse.sampledDensity(dy, output: output, activation: .none) == 5.0 / 44.0)
        #expect(sparse.sampledDensity(dy, output: output, activation: .relu) == 4.0 / 44.0)
    }
}
#endif
