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

    /// Maps of at most 7 tile columns, whose F(2×2) input transform reads whole padded rows at four
    /// column offsets (`inputF2Narrow`) where the wider ones take `inputF2Rows`: 1 to 7 tile
    /// columns, odd and even widths, no padding, padding on either side, taller than one chunk of
    /// four tile rows.
    static let narrowCases: [Case] = [
        Case(input: (7, 7), output: (7, 7), pad: (1, 1)),
        Case(input: (14, 14), output: (14, 14), pad: (1, 1)),
        Case(input: (3, 1), output: (3, 1), pad: (1, 1)),
        Case(input: (5, 4), output: (5, 4), pad: (1, 1)),
        Case(input: (21, 12), output: (19, 10), pad: (0, 0)),
        Case(input: (6, 9), output: (8, 11), pad: (2, 2)),
        Case(input: (11, 13), output: (11, 13), pad: (1, 1)),
    ]

    /// Both paths of the F(2×2) input transform (`inputF2Narrow`, `inputF2Rows`, in the portable
    /// build) against its definition, `Bᵀ d B` of each tile's zero-padded 4×4 patch summed in
    /// double, and against each other bit for bit (the same sums in the same order): every tile
    /// row band, a channel range that leaves channels out, and a first tile past the start of a
    /// wider block of tiles, whose other tiles' and channels' positions stay untouched (NaN). The
    /// wider cases check the per-row path alone.
    @Test(arguments: narrowCases + cases.filter { !WinogradTransformKernels.takesNarrowF2(geometry(of: $0, tileSize: 2)) })
    func inputTransformPathsMatchTheDefinition(_ testCase: Case) {
        let channels = 5, channelRange = 1..<4
        var random = SeededGenerator(seed: 31)
        let x = random.uniform(count: channels * testCase.input.height * testCase.input.width, in: -2...2)
        let g = Self.geometry(of: testCase, tileSize: 2), narrowPath = WinogradTransformKernels.takesNarrowF2(g)
        let transposedB: [[Double]] = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
        let rowCount = WinogradTransformKernels.inputF2ScratchCount(tileColumns: g.tileColumns)
        for tileRows in Self.bands(g) {
            // The band's tiles sit 3 tiles into a block with 2 more after them.
            let firstTile = 3, tiles = tileRows.count * g.tileColumns + 5
            var results: [[Float]] = []
            for narrow in narrowPath ? [false, true] : [false] {
                var v = [Float](repeating: .nan, count: 16 * channels * tiles)
                var rows = [Float](repeating: .nan, count: rowCount)
                if narrow {
                    WinogradTransformKernels.inputF2Narrow(x, channels: channelRange, geometry: g, inputs: channels,
                                                           tileRows: tileRows, firstTile: firstTile, tiles: tiles,
                                                           into: &v, rows: &rows)
                } else {
                    WinogradTransformKernels.inputF2Rows(x, channels: channelRange, geometry: g, inputs: channels,
                                                         tileRows: tileRows, firstTile: firstTile, tiles: tiles,
                                                         into: &v, rows: &rows)
                }
                results.append(v)
            }
            #expect(bits(results[0]) == bits(results.last!), "the two paths, tile rows \(tileRows)")
            let expected = Self.definition(x, geometry: g, channels: channels, channelRange: channelRange,
                                           tileRows: tileRows, firstTile: firstTile, tiles: tiles, transposedB: transposedB)
            for (narrow, result) in zip([false, true], results) {
                #expect(Self.agrees(result, with: expected),
                        "\(narrow ? "narrow" : "per-row") path, tile rows \(tileRows): Bᵀ d B where written, NaN elsewhere")
            }
        }
    }

    /// The F(4×4) input transform against its definition, `Bᵀ d B` of each tile's zero-padded 6×6
    /// patch summed in double, on the same bands, channel range and block offsets, with the
    /// scratch and the untouched positions NaN: rows loaded through the staging row, and tile
    /// rows written 8 tiles at a time into the next row's positions except at the band's end.
    @Test(arguments: narrowCases + cases)
    func inputF4MatchesTheDefinition(_ testCase: Case) {
        let channels = 5, channelRange = 1..<4
        var random = SeededGenerator(seed: 37)
        let x = random.uniform(count: channels * testCase.input.height * testCase.input.width, in: -2...2)
        let g = Self.geometry(of: testCase, tileSize: 4)
        let transposedB: [[Double]] = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                                       [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]
        for tileRows in Self.bands(g) {
            let firstTile = 3, tiles = tileRows.count * g.tileColumns + 5
            var v = [Float](repeating: .nan, count: 36 * channels * tiles)
            var rows = [Float](repeating: .nan, count: WinogradTransformKernels.inputF4ScratchCount(tileColumns: g.tileColumns))
            WinogradTransformKernels.inputF4(x, channels: channelRange, geometry: g, inputs: channels, tileRows: tileRows,
                                             firstTile: firstTile, tiles: tiles, into: &v, rows: &rows)
            let expected = Self.definition(x, geometry: g, channels: channels, channelRange: channelRange,
                                           tileRows: tileRows, firstTile: firstTile, tiles: tiles, transposedB: transposedB)
            #expect(Self.agrees(v, with: expected), "tile rows \(tileRows): Bᵀ d B where written, NaN elsewhere")
        }
    }

    /// Both output transforms against their definition, `Aᵀ M A` summed in double, plus the bias
    /// and then the activation, or added onto what the output held: every tile row band, a channel
    /// range that leaves channels out (their planes and the rows outside the band keep their
    /// values), and a first tile past the start of a wider block.
    @Test(arguments: narrowCases + cases)
    func outputTransformsMatchTheDefinition(_ testCase: Case) {
        let channels = 5, channelRange = 1..<4
        var random = SeededGenerator(seed: 41)
        let bias = random.uniform(count: channels, in: -1...1)
        let transposedA: [Int: [[Double]]] = [2: [[1, 1, 1, 0], [0, 1, -1, -1]],
                                              4: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]]
        for tileSize in [2, 4] {
            let g = Self.geometry(of: testCase, tileSize: tileSize), a = transposedA[tileSize]!, side = tileSize + 2
            let (height, width) = (g.outputHeight, g.outputWidth)
            for tileRows in Self.bands(g) {
                let firstTile = 3, tiles = tileRows.count * g.tileColumns + 5
                let m = random.uniform(count: side * side * channels * tiles, in: -2...2)
                let start = random.uniform(count: channels * height * width, in: -1...1)
                let modes: [(Bool, WinogradOutputActivation)] = [(false, .none), (false, .relu),
                                                                 (false, .clip(minimum: -0.5, maximum: 0.75)), (true, .none)]
                for (accumulate, activation) in modes {
                    var y = start
                    let rowCount = tileSize == 2 ? WinogradTransformKernels.inputF2ScratchCount(tileColumns: g.tileColumns)
                        : max(WinogradTransformKernels.inputF4ScratchCount(tileColumns: g.tileColumns), 16 * tiles)
                    var rows = [Float](repeating: .nan, count: rowCount)
                    let loops = WinogradTransformLoops.build(.portable)
                    (tileSize == 2 ? loops.outputF2 : loops.outputF4)(m, channelRange, g, channels, tileRows, firstTile, tiles, &y,
                                                                      accumulate, accumulate ? nil : bias, activation, &rows)
                    var expected = start
                    for c in channelRange {
                        for ty in tileRows {
                            for tx in 0..<g.tileColumns {
                                let tile = firstTile + (ty - tileRows.lowerBound) * g.tileColumns + tx
                                for i in 0..<tileSize {
                                    for j in 0..<tileSize {
                                        let row = tileSize * ty + i, column = tileSize * tx + j
                                        guard row < height, column < width else { continue }
                                        var sum = 0.0
                                        for p in 0..<side {
                                            for q in 0..<side {
                                                sum += a[i][p] * Double(m[((side * p + q) * channels + c) * tiles + tile]) * a[j][q]
                                            }
                                        }
                                        let index = (c * height + row) * width + column
                                        var value = accumulate ? Double(start[index]) + sum : sum + Double(bias[c])
                                        switch (accumulate, activation) {
                                        case (false, .relu): value = max(value, 0)
                                        case let (false, .clip(minimum, maximum)): value = min(max(value, Double(minimum)), Double(maximum))
                                        default: break
                                        }
                                        expected[index] = Float(value)
                                    }
                                }
                            }
                        }
                    }
                    let label = "tile \(tileSize), tile rows \(tileRows), \(accumulate ? "added" : "\(activation)")"
                    #expect(Self.agrees(y, with: expected), "\(label)")
                }
            }
        }
    }

    /// `V[ξ][c][firstTile + (ty − lower)·Tw + tx] = (Bᵀ d B)[ξ]` (`ξ = (m + 2)·i + j`) for the
    /// channels and tile rows given, summed in double; NaN at every other position.
    static func definition(_ x: [Float], geometry g: WinogradTileGeometry, channels: Int, channelRange: Range<Int>,
                           tileRows: Range<Int>, firstTile: Int, tiles: Int, transposedB: [[Double]]) -> [Float] {
        let side = transposedB.count, (height, width) = (g.inputHeight, g.inputWidth)
        var expected = [Float](repeating: .nan, count: side * side * channels * tiles)
        for c in channelRange {
            for ty in tileRows {
                for tx in 0..<g.tileColumns {
                    func pixel(_ p: Int, _ q: Int) -> Double {
                        let y = g.tileSize * ty + p - g.padTop, x0 = g.tileSize * tx + q - g.padLeft
                        return y >= 0 && y < height && x0 >= 0 && x0 < width ? Double(x[(c * height + y) * width + x0]) : 0
                    }
                    let tile = firstTile + (ty - tileRows.lowerBound) * g.tileColumns + tx
                    for i in 0..<side {
                        for j in 0..<side {
                            var sum = 0.0
                            for p in 0..<side {
                                for q in 0..<side { sum += transposedB[i][p] * pixel(p, q) * transposedB[j][q] }
                            }
                            expected[((side * i + j) * channels + c) * tiles + tile] = Float(sum)
                        }
                    }
                }
            }
        }
        return expected
    }

    /// All tile rows, those past the first, and the first five (a band that ends before the map does).
    static func bands(_ g: WinogradTileGeometry) -> [Range<Int>] {
        [0..<g.tileRows, min(1, g.tileRows - 1)..<g.tileRows, 0..<min(5, g.tileRows)]
    }

    /// Within 1e-5 of `expected` (relative above 1), entry by entry, and NaN exactly where it is.
    static func agrees(_ values: [Float], with expected: [Float]) -> Bool {
        values.count == expected.count
            && zip(values, expected).allSatisfy { $0.isNaN ? $1.isNaN : !$1.isNaN && abs($0 - $1) <= 1e-5 * max(1, abs($1)) }
    }

    static func geometry(of testCase: Case, tileSize: Int) -> WinogradTileGeometry {
        WinogradTileGeometry(inputHeight: testCase.input.height, inputWidth: testCase.input.width,
                             outputHeight: testCase.output.height, outputWidth: testCase.output.width,
                             padTop: testCase.pad.top, padLeft: testCase.pad.left, tileSize: tileSize)
    }

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
            let g = Self.geometry(of: testCase, tileSize: tileSize)
            let positions = (tileSize + 2) * (tileSize + 2)
            // All tile rows, then a band of them past the first.
            for tileRows in Self.bands(g) {
                let tiles = tileRows.count * g.tileColumns
                let rowCount = tileSize == 2 ? WinogradTransformKernels.inputF2ScratchCount(tileColumns: g.tileColumns)
                    : max(WinogradTransformKernels.inputF4ScratchCount(tileColumns: g.tileColumns), 16 * tiles)
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
