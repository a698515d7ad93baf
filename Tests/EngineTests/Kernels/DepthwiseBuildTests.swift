import Testing
import VectorKernels
@testable import Engine

#if arch(x86_64)
/// The depthwise convolution's row loops (``DepthwiseLoops``: AVX-512, AVX2+FMA and the portable
/// build) against their definition in double precision, on one-phase padded planes: the 3×3
/// kernel's register path (full and partial lane blocks, the flattened run of narrow planes,
/// row step 2), the 5-wide and other kernels' row passes, writing and accumulating; and the
/// scatter (the strided VJP). Each wide build runs only on a CPU that reports its instruction set.
struct DepthwiseBuildTests {
    static let builds: [KernelSelection.Kernels] = [.portable] + ActivationBuildTests.supported

    struct Shape: CustomTestStringConvertible, Sendable {
        var kernelHeight: Int, kernelWidth: Int, rowStep: Int, outputHeight: Int, outputWidth: Int
        var testDescription: String { "\(kernelHeight)×\(kernelWidth), step \(rowStep), \(outputHeight)×\(outputWidth)" }
    }

    static let shapes: [Shape] = [
        Shape(kernelHeight: 3, kernelWidth: 3, rowStep: 1, outputHeight: 5, outputWidth: 19),
        Shape(kernelHeight: 3, kernelWidth: 3, rowStep: 1, outputHeight: 6, outputWidth: 7),
        Shape(kernelHeight: 3, kernelWidth: 3, rowStep: 2, outputHeight: 4, outputWidth: 16),
        Shape(kernelHeight: 5, kernelWidth: 5, rowStep: 1, outputHeight: 3, outputWidth: 21),
        Shape(kernelHeight: 2, kernelWidth: 4, rowStep: 2, outputHeight: 3, outputWidth: 11),
    ]

    /// A one-phase plane for `shape`: row stride, taps' offsets, and room for the last block.
    private static func layout(_ shape: Shape) -> (rowStride: Int, offsets: [Int], count: Int) {
        let lanes = DepthwiseKernels.lanes
        let rowStride = (shape.outputWidth + lanes - 1) / lanes * lanes + shape.kernelWidth + 3
        var offsets: [Int] = []
        for i in 0..<shape.kernelHeight { for j in 0..<shape.kernelWidth { offsets.append(i * rowStride + j) } }
        let rows = (shape.outputHeight - 1) * shape.rowStep + shape.kernelHeight
        return (rowStride, offsets, rows * rowStride + 4 * lanes)
    }

    private static func random(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
    }

    @Test(arguments: builds, shapes)
    func correlationMatchesItsDefinition(_ build: KernelSelection.Kernels, shape: Shape) {
        let loops = DepthwiseLoops.build(build)
        let (rowStride, offsets, count) = Self.layout(shape)
        let plane = Self.random(count, seed: 41), weights = Self.random(offsets.count, seed: 42)
        let previous = Self.random(shape.outputHeight * shape.outputWidth, seed: 43)
        let bias: Float = 0.375
        for accumulate in [false, true] {
            var output = accumulate ? previous : [Float](repeating: .nan, count: previous.count)
            var buffer = [Float](repeating: .nan, count: shape.outputHeight * rowStride + DepthwiseKernels.lanes)
            offsets.withUnsafeBufferPointer { o in
                weights.withUnsafeBufferPointer { w in
                    let taps = DepthwiseTaps(height: shape.kernelHeight, width: shape.kernelWidth,
                                             offsets: o.baseAddress!, weights: w.baseAddress!)
                    loops.correlate(plane, rowStride, shape.rowStep, taps, bias, shape.outputHeight, shape.outputWidth,
                                    accumulate, &output, &buffer)
                }
            }
            var worst = 0.0
            for row in 0..<shape.outputHeight {
                for column in 0..<shape.outputWidth {
                    var sum = Double(bias), magnitude = abs(Double(bias))
                    for (k, offset) in offsets.enumerated() {
                        let term = Double(weights[k]) * Double(plane[row * shape.rowStep * rowStride + offset + column])
                        sum += term
                        magnitude += abs(term)
                    }
                    let index = row * shape.outputWidth + column
                    if accumulate { sum += Double(previous[index]); magnitude += abs(Double(previous[index])) }
                    worst = max(worst, abs(Double(output[index]) - sum) / (Double(offsets.count + 2) * 0x1p-24 * magnitude))
                }
            }
            #expect(worst <= 1, "\(build), accumulate \(accumulate): error \(worst)× the bound")
        }
    }

    @Test(arguments: builds, shapes)
    func scatterMatchesItsDefinition(_ build: KernelSelection.Kernels, shape: Shape) {
        let loops = DepthwiseLoops.build(build)
        let (rowStride, offsets, count) = Self.layout(shape)
        let gradient = Self.random(shape.outputHeight * shape.outputWidth, seed: 44)
        let weights = Self.random(offsets.count, seed: 45), initial = Self.random(count, seed: 46)
        var plane = initial
        offsets.withUnsafeBufferPointer { o in
            weights.withUnsafeBufferPointer { w in
                let taps = DepthwiseTaps(height: shape.kernelHeight, width: shape.kernelWidth,
                                         offsets: o.baseAddress!, weights: w.baseAddress!)
                loops.scatter(gradient, rowStride, shape.rowStep, taps, shape.outputHeight, shape.outputWidth, &plane)
            }
        }
        var expected = initial.map(Double.init), magnitude = initial.map { abs(Double($0)) }
        var terms = [Int](repeating: 1, count: count)
        for row in 0..<shape.outputHeight {
            for column in 0..<shape.outputWidth {
                for (k, offset) in offsets.enumerated() {
                    let index = row * shape.rowStep * rowStride + offset + column
                    let term = Double(weights[k]) * Double(gradient[row * shape.outputWidth + column])
                    expected[index] += term
                    magnitude[index] += abs(term)
                    terms[index] += 1
                }
            }
        }
        var worst = 0.0
        for index in 0..<count {
            worst = max(worst, abs(Double(plane[index]) - expected[index]) / (Double(terms[index] + 1) * 0x1p-24 * magnitude[index] + 1e-30))
        }
        #expect(worst <= 1, "\(build): error \(worst)× the bound")
    }
}
#endif
