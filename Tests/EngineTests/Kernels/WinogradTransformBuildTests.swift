import Testing
import VectorKernels
@testable import Engine

#if arch(x86_64)
/// The Winograd transforms compiled for AVX-512 and for AVX2 against their portable build:
/// the same additions and multiplications lane by lane, so the same bits, for both tile sizes,
/// maps narrower and wider than a vector of tiles, odd sizes, padding on either side, a band of
/// tile rows, and every output mode (written with bias and each activation, or added). Each build
/// runs only on a CPU that reports its instruction set; ``WinogradConvolutionTests`` checks the
/// selected build against the reference convolution.
struct WinogradTransformBuildTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let input: (height: Int, width: Int), output: (height: Int, width: Int), pad: (top: Int, left: Int)
        var testDescription: String { "\(input.height)×\(input.width) → \(output.height)×\(output.width), pad \(pad)" }
    }

    static let cases: [Case] = [
        Case(input: (7, 7), output: (7, 7), pad: (1, 1)),
        Case(input: (9, 41), output: (9, 41), pad: (1, 1)),
        Case(input: (14, 14), output: (14, 14), pad: (1, 1)),
        Case(input: (12, 70), output: (10, 68), pad: (0, 0)),
        Case(input: (6, 29), output: (8, 31), pad: (2, 2)),
    ]

    /// The bit patterns, so that NaN (the untouched parts of the buffers) compares equal.
    private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    @Test(arguments: ActivationBuildTests.supported, cases)
    func transformsMatchThePortableBuild(_ kernels: KernelSelection.Kernels, _ testCase: Case) {
        let wide = WinogradTransformLoops.build(kernels), portable = WinogradTransformLoops.build(.portable)
        let channels = 3
        var random = SeededGenerator(seed: 29)
        let x = random.uniform(count: channels * testCase.input.height * testCase.input.width, in: -2...2)
        let bias = random.uniform(count: channels, in: -1...1)
        for tileSize in [2, 4] {
            let g = WinogradTileGeometry(inputHeight: testCase.input.height, inputWidth: testCase.input.width,
                                         outputHeight: testCase.output.height, outputWidth: testCase.output.width,
                                         padTop: testCase.pad.top, padLeft: testCase.pad.left, tileSize: tileSize)
            let positions = (tileSize + 2) * (tileSize + 2)
            // All tile rows, then a band of them past the first.
            for tileRows in [0..<g.tileRows, min(1, g.tileRows - 1)..<g.tileRows] {
                let tiles = tileRows.count * g.tileColumns
                let rowCount = tileSize == 2 ? 16 * WinogradTransformKernels.halfRowLength(tileColumns: g.tileColumns)
                    : max(48 * WinogradTransformKernels.quarterRowLength(tileColumns: g.tileColumns), 16 * tiles)
                let label = "tile \(tileSize), tile rows \(tileRows)"
                var results: [[Float]] = []
                for loops in [portable, wide] {
                    var v = [Float](repeating: .nan, count: positions * channels * tiles)
                    var rows = [Float](repeating: .nan, count: rowCount)
                    (tileSize == 2 ? loops.inputF2 : loops.inputF4)(x, 0..<channels, g, channels, tileRows, 0, tiles, &v, &rows)
                    results.append(v)
                }
                #expect(bits(results[0]) == bits(results[1]), "input transform, \(label)")
                #expect(!results[0].contains { $0.isNaN }, "input transform leaves no position unwritten, \(label)")

                // The output transform of random M, written with the bias and each activation, or added.
                let m = random.uniform(count: positions * channels * tiles, in: -2...2)
                let start = random.uniform(count: channels * g.outputHeight * g.outputWidth, in: -1...1)
                let modes: [(Bool, WinogradOutputActivation)] = [(false, .none), (false, .relu),
                                                                 (false, .clip(minimum: -0.5, maximum: 0.75)), (true, .none)]
                for (accumulate, activation) in modes {
                    var outputs: [[Float]] = []
                    for loops in [portable, wide] {
                        var y = start
                        var rows = [Float](repeating: .nan, count: rowCount)
                        (tileSize == 2 ? loops.outputF2 : loops.outputF4)(m, 0..<channels, g, channels, tileRows, 0, tiles, &y,
                                                                          accumulate, accumulate ? nil : bias, activation, &rows)
                        outputs.append(y)
                    }
                    #expect(bits(outputs[0]) == bits(outputs[1]), "output transform, \(label), \(accumulate ? "added" : "\(activation)")")
                    #expect(outputs[0] != start, "the output transform wrote, \(label)")
                }
            }
        }
    }
}
#endif
