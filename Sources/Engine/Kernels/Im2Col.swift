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
                       rowStride: Int? = nil) {
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
                        } else if stride == 2 {
                            copyEvenElements(source, count: upper - lower, into: inside)
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

    /// `destination[k] = source[2k]` for `k < count`, eight at a time from sixteen consecutive
    /// source values (a column stride of 2: resnet18's stem and strided layers). Reads no
    /// further than `source[2·(count − 1)]`, the last value it copies.
    @inline(__always)
    static func copyEvenElements(_ source: UnsafePointer<Float>, count: Int, into destination: UnsafeMutablePointer<Float>) {
        var k = 0
        // Sixteen source values end at source[2k + 15] ≤ source[2·(count − 1)] while k + 9 ≤ count.
        while k + 9 <= count {
            store(load(SIMD16<Float>.self, source + 2 * k).evenHalf, destination + k)
            k += 8
        }
        while k < count {
            destination[k] = source[2 * k]
            k += 1
        }
    }

    /// Adds `columns` (`(channels·kH·kW)×(rows·Wo)` for the output rows `outputRows`, rows of
    /// `columns` `rowStride` apart) back onto `output` (`channels×H×W`); entries that fall in the
    /// padding are discarded.
    ///
    /// At column stride 2 without column dilation, taps `j` and `j + 1` of a kernel row write the
    /// even and the odd pixels of one run of the output row: they are added as pairs
    /// (``foldTapPair(_:_:into:count:)``), 8 positions of each at a time, instead of one strided
    /// pixel at a time. Every pixel still receives its terms in the same order (by channel, kernel
    /// row, tap, output row), so the sums are the same as the plain loop's.
    static func fold(_ columns: UnsafePointer<Float>, channels: Int, geometry g: WindowGeometry,
                     outputRows: Range<Int>? = nil, addingInto output: UnsafeMutablePointer<Float>,
                     rowStride: Int? = nil) {
        let band = outputRows ?? 0..<g.outputHeight
        let outputWidth = g.outputWidth
        let rowStride = rowStride ?? band.count * outputWidth
        let stride = g.strideWidth
        if stride == 2 && g.dilationWidth == 1 {
            foldColumnStride2(columns, channels: channels, geometry: g, band: band, addingInto: output,
                              rowStride: rowStride)
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

    /// ``fold(_:channels:geometry:outputRows:addingInto:rowStride:)`` at column stride 2 and
    /// column dilation 1: taps `(0, 1), (2, 3), …` of each kernel row in pairs, a last odd tap alone.
    private static func foldColumnStride2(_ columns: UnsafePointer<Float>, channels: Int, geometry g: WindowGeometry,
                                          band: Range<Int>, addingInto output: UnsafeMutablePointer<Float>,
                                          rowStride: Int) {
        let outputWidth = g.outputWidth
        for channel in 0..<channels {
            let plane = output + channel * g.inputPlane
            for i in 0..<g.kernelHeight {
                let rowOffset = i * g.dilationHeight
                let validRows = g.validOutputRows(offset: rowOffset).clamped(to: band)
                let kernelRow = columns + (channel * g.kernelHeight + i) * g.kernelWidth * rowStride
                var j = 0
                while j < g.kernelWidth {
                    let paired = j + 1 < g.kernelWidth
                    let first = g.validOutputColumns(offset: j)
                    let second = paired ? g.validOutputColumns(offset: j + 1) : first.lowerBound..<first.lowerBound
                    // Tap j + 1 reads one pixel further right than tap j: it starts no later and
                    // ends no later, so the positions both reach are `first.lowerBound ..<
                    // second.upperBound`, with only tap j + 1 left of them and only tap j right of them.
                    let both = first.lowerBound..<max(first.lowerBound, second.upperBound)
                    for outputRow in validRows {
                        let line = plane + (outputRow * g.strideHeight - g.padTop + rowOffset) * g.inputWidth - g.padLeft + j
                        let firstSource = kernelRow + j * rowStride + (outputRow - band.lowerBound) * outputWidth
                        let secondSource = firstSource + rowStride
                        // Tap j writes line[2k], tap j + 1 writes line[2k + 1].
                        for k in second.lowerBound..<min(second.upperBound, first.lowerBound) {
                            line[2 * k + 1] += secondSource[k]
                        }
                        foldTapPair(firstSource + both.lowerBound, secondSource + both.lowerBound,
                                    into: line + 2 * both.lowerBound, count: both.count)
                        for k in both.upperBound..<first.upperBound { line[2 * k] += firstSource[k] }
                    }
                    j += 2
                }
            }
        }
    }

    /// `destination[2k] += even[k]`, `destination[2k + 1] += odd[k]` for `k < count`.
    @inline(__always)
    private static func foldTapPair(_ even: UnsafePointer<Float>, _ odd: UnsafePointer<Float>,
                                    into destination: UnsafeMutablePointer<Float>, count: Int) {
        var k = 0
        while k + 8 <= count {
            let a = load(SIMD8<Float>.self, even + k), b = load(SIMD8<Float>.self, odd + k)
            let pairs = SIMD16<Float>(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3],
                                      a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
            store(load(SIMD16<Float>.self, destination + 2 * k) + pairs, destination + 2 * k)
            k += 8
        }
        while k < count {
            destination[2 * k] += even[k]
            destination[2 * k + 1] += odd[k]
            k += 1
        }
    }
}
