/// Unfolding of image patches into GEMM columns and its adjoint.
///
/// `im2col` turns `channels` planes of one frame (`channels×H×W`) into the column matrix
/// `(channels·kH·kW)×(Ho·Wo)`, row `(c·kH + i)·kW + j` holding input pixel
/// `(oh·sH − padTop + i·dH, ow·sW − padLeft + j·dW)` for every output position (0 in the padding).
/// `col2im` is its transpose: it adds every column entry back onto the pixel it came from.
enum Im2Col {
    /// Fills `columns` (`(channels·kH·kW)×(Ho·Wo)`) from `input` (`channels×H×W`). Consecutive
    /// rows of `columns` start `rowStride` floats apart (default `Ho·Wo`; wider when several
    /// frames' columns sit side by side).
    static func unfold(_ input: UnsafePointer<Float>, channels: Int, geometry g: WindowGeometry,
                       into columns: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        let rowStride = rowStride ?? g.outputPlane
        let outputWidth = g.outputWidth
        var row = columns
        for channel in 0..<channels {
            let plane = input + channel * g.inputPlane
            for i in 0..<g.kernelHeight {
                let rowOffset = i * g.dilationHeight
                let validRows = g.validOutputRows(offset: rowOffset)
                for j in 0..<g.kernelWidth {
                    let columnOffset = j * g.dilationWidth
                    let validColumns = g.validOutputColumns(offset: columnOffset)
                    let firstInputColumn = validColumns.lowerBound * g.strideWidth - g.padLeft + columnOffset
                    for outputRow in 0..<g.outputHeight {
                        let destination = row + outputRow * outputWidth
                        guard validRows.contains(outputRow), !validColumns.isEmpty else {
                            destination.update(repeating: 0, count: outputWidth)
                            continue
                        }
                        let source = plane + (outputRow * g.strideHeight - g.padTop + rowOffset) * g.inputWidth
                        destination.update(repeating: 0, count: validColumns.lowerBound)
                        if g.strideWidth == 1 {
                            (destination + validColumns.lowerBound)
                                .update(from: source + firstInputColumn, count: validColumns.count)
                        } else {
                            var inputColumn = firstInputColumn
                            for outputColumn in validColumns {
                                destination[outputColumn] = source[inputColumn]
                                inputColumn += g.strideWidth
                            }
                        }
                        (destination + validColumns.upperBound)
                            .update(repeating: 0, count: outputWidth - validColumns.upperBound)
                    }
                    row += rowStride
                }
            }
        }
    }

    /// Adds `columns` (`(channels·kH·kW)×(Ho·Wo)`, rows `rowStride` apart) back onto `output`
    /// (`channels×H×W`); entries that fall in the padding are discarded.
    static func fold(_ columns: UnsafePointer<Float>, channels: Int, geometry g: WindowGeometry,
                     addingInto output: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        let rowStride = rowStride ?? g.outputPlane
        let outputWidth = g.outputWidth
        var row = columns
        for channel in 0..<channels {
            let plane = output + channel * g.inputPlane
            for i in 0..<g.kernelHeight {
                let rowOffset = i * g.dilationHeight
                let validRows = g.validOutputRows(offset: rowOffset)
                for j in 0..<g.kernelWidth {
                    let columnOffset = j * g.dilationWidth
                    let validColumns = g.validOutputColumns(offset: columnOffset)
                    let firstInputColumn = validColumns.lowerBound * g.strideWidth - g.padLeft + columnOffset
                    if !validColumns.isEmpty {
                        for outputRow in validRows {
                            let source = row + outputRow * outputWidth
                            let destination = plane + (outputRow * g.strideHeight - g.padTop + rowOffset) * g.inputWidth
                            var inputColumn = firstInputColumn
                            for outputColumn in validColumns {
                                destination[inputColumn] += source[outputColumn]
                                inputColumn += g.strideWidth
                            }
                        }
                    }
                    row += rowStride
                }
            }
        }
    }
}
