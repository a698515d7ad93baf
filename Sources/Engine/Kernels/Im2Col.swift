/// Unfolding of image patches into GEMM columns and its adjoint.
///
/// `im2col` turns `channels` planes of one frame (`channels×H×W`) into the column matrix
/// `(channels·kH·kW)×(Ho·Wo)`, row `(c·kH + i)·kW + j` holding input pixel
/// `(oh·sH − padTop + i·dH, ow·sW − padLeft + j·dW)` for every output position (0 in the padding).
/// `col2im` is its transpose: it adds every column entry back onto the pixel it came from.
///
/// Both work on a band of output rows `outputRows` (default: all), so a GEMM can take the
/// columns of a few output rows at a time while they are in cache: within a band, column
/// `(oh − outputRows.lowerBound)·Wo + ow` belongs to output position `(oh, ow)`.
enum Im2Col {
    /// Fills `columns` (`(channels·kH·kW)×(rows·Wo)`) from `input` (`channels×H×W`) for the output
    /// rows `outputRows`. Consecutive rows of `columns` start `rowStride` floats apart (default
    /// `rows·Wo`; wider when several frames' columns sit side by side).
    static func unfold(_ input: UnsafePointer<Float>, channels: Int, geometry g: WindowGeometry,
                       outputRows: Range<Int>? = nil, into columns: UnsafeMutablePointer<Float>,
                       rowStride: Int? = nil, loops: Im2ColLoops = .selected) {
        let band = outputRows ?? 0..<g.outputHeight
        let outputWidth = g.outputWidth
        let rowStride = rowStride ?? band.count * outputWidth
        let stride = g.strideWidth
        var row = columns
        for channel in 0..<channels {
            let plane = input + channel * g.inputPlane
            for i in 0..<g.kernelHeight {
                let rowOffset = i * g.dilationHeight
                let validRows = g.validOutputRows(offset: rowOffset)
                for j in 0..<g.kernelWidth {
                    let columnOffset = j * g.dilationWidth
                    let valid = g.validOutputColumns(offset: columnOffset)
                    let lower = valid.lowerBound, upper = valid.upperBound
                    let firstInputColumn = lower * stride - g.padLeft + columnOffset
                    if stride == 2 {
                        // The whole band by the build's run (even pixels split off whole vectors),
                        // from the band's first row's pixel (read only on valid rows).
                        let inBand = validRows.clamped(to: band)
                        loops.unfoldStride2(
                            plane + (band.lowerBound * g.strideHeight - g.padTop + rowOffset) * g.inputWidth + firstInputColumn,
                            g.strideHeight * g.inputWidth, band.count,
                            (inBand.lowerBound - band.lowerBound)..<(inBand.upperBound - band.lowerBound), valid, outputWidth,
                            row)
                        row += rowStride
                        continue
                    }
                    for outputRow in band {
                        let destination = row + (outputRow - band.lowerBound) * outputWidth
                        guard validRows.contains(outputRow), lower < upper else {
                            for k in 0..<outputWidth { destination[k] = 0 }
                            continue
                        }
                        let source = plane + (outputRow * g.strideHeight - g.padTop + rowOffset) * g.inputWidth
                            + firstInputColumn
                        for k in 0..<lower { destination[k] = 0 }
                        let inside = destination + lower
                        if stride == 1 {
                            for k in 0..<(upper - lower) { inside[k] = source[k] }
                        } else {
                            for k in 0..<(upper - lower) { inside[k] = source[k * stride] }
                        }
                        for k in upper..<outputWidth { destination[k] = 0 }
                    }
                    row += rowStride
                }
            }
        }
    }

    /// Adds `columns` (`(channels·kH·kW)×(rows·Wo)` for the output rows `outputRows`, rows of
    /// `columns` `rowStride` apart) back onto `output` (`channels×H×W`); entries that fall in the
    /// padding are discarded.
    ///
    /// At column stride 2 without column dilation, taps `j` and `j + 1` of a kernel row write the
    /// even and the odd pixels of one run of the output row: they are added as pairs, 8 positions
    /// of each at a time (`Im2ColKernels.foldStride2`, in the build ``Im2ColLoops`` chose),
    /// instead of one strided pixel at a time. Every pixel still receives its terms in the same
    /// order (by channel, kernel row, tap, output row), so the sums are the same as the plain loop's.
    static func fold(_ columns: UnsafePointer<Float>, channels: Int, geometry g: WindowGeometry,
                     outputRows: Range<Int>? = nil, addingInto output: UnsafeMutablePointer<Float>,
                     rowStride: Int? = nil, loops: Im2ColLoops = .selected) {
        let band = outputRows ?? 0..<g.outputHeight
        let outputWidth = g.outputWidth
        let rowStride = rowStride ?? band.count * outputWidth
        let stride = g.strideWidth
        if stride == 2 && g.dilationWidth == 1 {
            foldColumnStride2(columns, channels: channels, geometry: g, band: band, addingInto: output,
                              rowStride: rowStride, loops: loops)
            return
        }
        var row = columns
        for channel in 0..<channels {
            let plane = output + channel * g.inputPlane
            for i in 0..<g.kernelHeight {
                let rowOffset = i * g.dilationHeight
                let validRows = g.validOutputRows(offset: rowOffset).clamped(to: band)
                for j in 0..<g.kernelWidth {
                    let columnOffset = j * g.dilationWidth
                    let valid = g.validOutputColumns(offset: columnOffset)
                    let lower = valid.lowerBound, count = valid.count
                    let firstInputColumn = lower * stride - g.padLeft + columnOffset
                    if count > 0 {
                        for outputRow in validRows {
                            let source = row + (outputRow - band.lowerBound) * outputWidth + lower
                            let destination = plane + (outputRow * g.strideHeight - g.padTop + rowOffset) * g.inputWidth
                                + firstInputColumn
                            if stride == 1 {
                                for k in 0..<count { destination[k] += source[k] }
                            } else {
                                for k in 0..<count { destination[k * stride] += source[k] }
                            }
                        }
                    }
                    row += rowStride
                }
            }
        }
    }

    /// ``fold(_:channels:geometry:outputRows:addingInto:rowStride:loops:)`` at column stride 2 and
    /// column dilation 1: taps `(0, 1), (2, 3), …` of each kernel row in pairs, a last odd tap
    /// alone, each over the band's rows by the build's `foldStride2`.
    private static func foldColumnStride2(_ columns: UnsafePointer<Float>, channels: Int, geometry g: WindowGeometry,
                                          band: Range<Int>, addingInto output: UnsafeMutablePointer<Float>,
                                          rowStride: Int, loops: Im2ColLoops) {
        let outputWidth = g.outputWidth
        for channel in 0..<channels {
            let plane = output + channel * g.inputPlane
            for i in 0..<g.kernelHeight {
                let rowOffset = i * g.dilationHeight
                let validRows = g.validOutputRows(offset: rowOffset).clamped(to: band)
                guard !validRows.isEmpty else { continue }
                let kernelRow = columns + (channel * g.kernelHeight + i) * g.kernelWidth * rowStride
                var j = 0
                while j < g.kernelWidth {
                    let paired = j + 1 < g.kernelWidth
                    let first = g.validOutputColumns(offset: j)
                    let second = paired ? g.validOutputColumns(offset: j + 1) : first.lowerBound..<first.lowerBound
                    let line = plane + (validRows.lowerBound * g.strideHeight - g.padTop + rowOffset) * g.inputWidth
                        - g.padLeft + j
                    let firstSource = kernelRow + j * rowStride + (validRows.lowerBound - band.lowerBound) * outputWidth
                    loops.foldStride2(firstSource, paired ? firstSource + rowStride : firstSource, outputWidth, first,
                                      second, validRows.count, line, g.strideHeight * g.inputWidth)
                    j += 2
                }
            }
        }
    }
}
