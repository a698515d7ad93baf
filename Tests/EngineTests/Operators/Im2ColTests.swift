import Testing
@testable import Engine

/// `Im2Col.fold` (col2im) against its definition, written out entry by entry: every column entry
/// `(c·kH + i)·kW + j`, position `(oh, ow)` is added onto pixel `(oh·sH − padTop + i·dH,
/// ow·sW − padLeft + j·dW)` of channel `c` when that pixel is inside the map. The terms reach
/// each pixel in the same order as in the definition, so the sums must be equal, not just close.
/// The cases at column stride 2 exercise the paired-tap path (vector runs, their edges, a last
/// odd tap, maps too narrow for a vector); the others the plain loop. Both tests run each build
/// of the stride-2 runs (``Im2ColLoops``: portable, and AVX-512 and AVX2 on a CPU that has them).
///
/// `Im2Col.unfold` (im2col) against the same definition read the other way: entry `(row, oh, ow)`
/// is that pixel, or 0 outside the map. At column stride 2 its runs are copied eight at a time
/// or sixteen at a time from thirty-two or sixteen consecutive pixels; the cases' widths leave
/// runs of every length modulo 8, and two wide maps runs of several 16-pixel steps.
@Suite struct Im2ColTests {
    #if arch(x86_64)
    static let builds: [KernelSelection.Kernels] = [.portable] + ActivationBuildTests.supported
    #else
    static let builds: [KernelSelection.Kernels] = [.portable]
    #endif

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var channels = 2
        var height: Int, width: Int
        var kernel: (Int, Int)
        var strides: (Int, Int)
        var pads: (top: Int, left: Int, bottom: Int, right: Int)
        var dilations = (1, 1)
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "7×7/2 pad 3 on 40×37 (resnet stem, odd width)", height: 40, width: 37, kernel: (7, 7),
             strides: (2, 2), pads: (3, 3, 3, 3)),
        Case(name: "3×3/2 pad 1 on 35×34", height: 35, width: 34, kernel: (3, 3), strides: (2, 2), pads: (1, 1, 1, 1)),
        Case(name: "7×7/2 pad 3 on 9×229 (115 columns)", height: 9, width: 229, kernel: (7, 7), strides: (2, 2),
             pads: (3, 3, 3, 3)),
        Case(name: "3×3/2 pad 1 on 7×102 (51 columns)", height: 7, width: 102, kernel: (3, 3), strides: (2, 2),
             pads: (1, 1, 1, 1)),
        Case(name: "2×2/2 no pad on 33×36", height: 33, width: 36, kernel: (2, 2), strides: (2, 2), pads: (0, 0, 0, 0)),
        Case(name: "1×4/2, asymmetric pads 0/3/1/0", height: 9, width: 41, kernel: (1, 4), strides: (1, 2),
             pads: (0, 3, 1, 0)),
        Case(name: "5×5/(3,2) pads 2/1/0/4", height: 23, width: 45, kernel: (5, 5), strides: (3, 2), pads: (2, 1, 0, 4)),
        Case(name: "3×6/2 pad 5 (pads wider than the map's edge taps)", height: 12, width: 38, kernel: (3, 6),
             strides: (2, 2), pads: (1, 5, 1, 5)),
        Case(name: "7×7/2 pad 3 on a 5×6 map (no vector run)", height: 5, width: 6, kernel: (7, 7), strides: (2, 2),
             pads: (3, 3, 3, 3)),
        Case(name: "3×3/2 with row dilation 2", height: 20, width: 40, kernel: (3, 3), strides: (2, 2),
             pads: (2, 1, 2, 1), dilations: (2, 1)),
        Case(name: "3×3/2 with column dilation 2 (plain loop)", height: 15, width: 40, kernel: (3, 3), strides: (2, 2),
             pads: (1, 2, 1, 2), dilations: (1, 2)),
        Case(name: "3×3/1 pad 1 (plain loop)", height: 11, width: 19, kernel: (3, 3), strides: (1, 1), pads: (1, 1, 1, 1)),
        Case(name: "3×3/3 (plain loop)", height: 16, width: 31, kernel: (3, 3), strides: (3, 3), pads: (1, 1, 1, 1)),
    ]

    static func geometry(_ c: Case) throws -> WindowGeometry {
        let window = SpatialWindow(kernelHeight: c.kernel.0, kernelWidth: c.kernel.1, strideHeight: c.strides.0,
                                   strideWidth: c.strides.1, dilationHeight: c.dilations.0,
                                   dilationWidth: c.dilations.1,
                                   padding: .explicit(top: c.pads.top, left: c.pads.left, bottom: c.pads.bottom,
                                                      right: c.pads.right))
        return try window.geometry(inputHeight: c.height, inputWidth: c.width)
    }

    /// The bands of output rows both tests take, each with tight rows (`extra` 0) and with rows 13
    /// wider (as when several frames' columns sit side by side): all rows, and on maps of three
    /// rows or more the first, the middle ones and the last.
    static func bandsAndRowStrides(_ g: WindowGeometry) -> [(band: Range<Int>, extra: Int, rowStride: Int)] {
        var bands = [0..<g.outputHeight]
        if g.outputHeight >= 3 { bands += [0..<1, 1..<(g.outputHeight - 1), (g.outputHeight - 1)..<g.outputHeight] }
        return bands.flatMap { band in [0, 13].map { (band, $0, band.count * g.outputWidth + $0) } }
    }

    /// Every column entry `(c·kH + i)·kW + j`, position `(oh, ow)` of the band, in the order
    /// channel, kernel row, tap, output row, column: its index in columns whose rows are
    /// `rowStride` apart, and the input pixel it holds (`nil` in the padding).
    static func forEachEntry(channels: Int, geometry g: WindowGeometry, band: Range<Int>, rowStride: Int,
                             _ body: (_ entry: Int, _ pixel: Int?) -> Void) {
        for c in 0..<channels {
            for i in 0..<g.kernelHeight {
                for j in 0..<g.kernelWidth {
                    let row = (c * g.kernelHeight + i) * g.kernelWidth + j
                    for oh in band {
                        for ow in 0..<g.outputWidth {
                            let y = oh * g.strideHeight - g.padTop + i * g.dilationHeight
                            let x = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
                            let inside = y >= 0 && y < g.inputHeight && x >= 0 && x < g.inputWidth
                            body(row * rowStride + (oh - band.lowerBound) * g.outputWidth + ow,
                                 inside ? (c * g.inputHeight + y) * g.inputWidth + x : nil)
                        }
                    }
                }
            }
        }
    }

    /// The definition of col2im: entry by entry (``forEachEntry(channels:geometry:band:rowStride:_:)``'s order).
    static func referenceFold(_ columns: [Float], channels: Int, geometry g: WindowGeometry, band: Range<Int>,
                              rowStride: Int, onto output: [Float]) -> [Float] {
        var result = output
        forEachEntry(channels: channels, geometry: g, band: band, rowStride: rowStride) { entry, pixel in
            if let pixel { result[pixel] += columns[entry] }
        }
        return result
    }

    /// All output rows with tight rows, then bands of output rows inside columns whose rows are
    /// wider than the band (as when several frames' columns sit side by side).
    @Test(arguments: builds, cases) func foldMatchesTheDefinition(_ build: KernelSelection.Kernels, _ c: Case) throws {
        let g = try Self.geometry(c)
        let rows = c.channels * g.kernelArea
        var generator = SeededGenerator(seed: UInt64(c.height * 1000 + c.width))
        let start = generator.uniform(count: c.channels * g.inputPlane, in: -1...1)
        for (band, _, rowStride) in Self.bandsAndRowStrides(g) {
            let columns = generator.uniform(count: rows * rowStride, in: -1...1)
            let expected = Self.referenceFold(columns, channels: c.channels, geometry: g, band: band,
                                              rowStride: rowStride, onto: start)
            var output = start
            columns.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { destination in
                    Im2Col.fold(source.baseAddress!, channels: c.channels, geometry: g, outputRows: band,
                                addingInto: destination.baseAddress!, rowStride: rowStride, loops: .build(build))
                }
            }
            let mismatches = zip(output, expected).filter { $0 != $1 }.count
            #expect(mismatches == 0, "band \(band), row stride \(rowStride): \(mismatches) of \(output.count) pixels differ")
            // A case whose columns land nowhere would test nothing (a band may lie in the padding).
            if band.count == g.outputHeight {
                let changed = zip(expected, start).filter { $0 != $1 }.count
                #expect(changed >= start.count / 3, "only \(changed) of \(start.count) pixels receive a term")
            }
        }
    }

    /// The definition of im2col: each entry is its pixel, or 0 in the padding.
    static func referenceUnfold(_ input: [Float], channels: Int, geometry g: WindowGeometry, band: Range<Int>,
                                rowStride: Int, onto columns: [Float]) -> [Float] {
        var result = columns
        forEachEntry(channels: channels, geometry: g, band: band, rowStride: rowStride) { entry, pixel in
            result[entry] = pixel.map { input[$0] } ?? 0
        }
        return result
    }

    /// All output rows and bands of them, with tight and wider rows; the entries between rows
    /// (wider rows) hold NaN before and must still hold it after.
    @Test(arguments: builds, cases) func unfoldMatchesTheDefinition(_ build: KernelSelection.Kernels, _ c: Case) throws {
        let g = try Self.geometry(c)
        let rows = c.channels * g.kernelArea
        var generator = SeededGenerator(seed: UInt64(c.height * 7 + c.width))
        let input = generator.uniform(count: c.channels * g.inputPlane, in: -1...1)
        for (band, extra, rowStride) in Self.bandsAndRowStrides(g) {
            let start = [Float](repeating: .nan, count: rows * rowStride)
            let expected = Self.referenceUnfold(input, channels: c.channels, geometry: g, band: band,
                                                rowStride: rowStride, onto: start)
            var columns = start
            input.withUnsafeBufferPointer { source in
                columns.withUnsafeMutableBufferPointer { destination in
                    Im2Col.unfold(source.baseAddress!, channels: c.channels, geometry: g, outputRows: band,
                                  into: destination.baseAddress!, rowStride: rowStride, loops: .build(build))
                }
            }
            let mismatches = zip(columns, expected).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(mismatches == 0, "band \(band), row stride \(rowStride): \(mismatches) of \(columns.count) entries differ")
            // A case whose entries are all padding would test little (a band may lie in it).
            if band.count == g.outputHeight && extra == 0 {
                let pixels = expected.filter { $0 != 0 }.count
                #expect(pixels >= expected.count / 3, "only \(pixels) of \(expected.count) entries are pixels")
            }
        }
    }
}
