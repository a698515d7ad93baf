/// im2col (and the transposed convolution's gather) for small feature maps through a table of
/// source offsets.
///
/// On a small map the row-by-row copies of ``Im2Col`` and ``TransposedConvolution`` run loops of
/// 1–7 elements with per-row bookkeeping, which costs more than the GEMM they feed. The mapping
/// from a plane to its `taps×positions` block of columns is the same for every channel, frame
/// and cotangent row, so it is worked out once per call into a table of `Int32` offsets (−1 for
/// padding) and then applied to every plane with one flat loop.
enum PatchTable {
    /// Maps wider than this many output positions use the row-by-row copies instead.
    static let maximumPositions = 256

    /// Table entries (`Int32`, stored in `Float`-sized slots of the scratch) for `taps` taps over
    /// `positions` positions, rounded up to 16.
    static func count(taps: Int, positions: Int) -> Int { (taps * positions + 15) / 16 * 16 }

    /// The im2col table of `g`: entry `(i·kW + j)·(Ho·Wo) + oh·Wo + ow` is the offset in an input
    /// plane of pixel `(oh·sH − padTop + i·dH, ow·sW − padLeft + j·dW)`, or −1 in the padding.
    static func fillUnfold(_ table: UnsafeMutablePointer<Int32>, geometry g: WindowGeometry) {
        var entry = table
        for i in 0..<g.kernelHeight {
            for j in 0..<g.kernelWidth {
                for oh in 0..<g.outputHeight {
                    let h = oh * g.strideHeight - g.padTop + i * g.dilationHeight
                    for ow in 0..<g.outputWidth {
                        let w = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
                        entry.pointee = h >= 0 && h < g.inputHeight && w >= 0 && w < g.inputWidth
                            ? Int32(h * g.inputWidth + w) : -1
                        entry += 1
                    }
                }
            }
        }
    }

    /// The gather table of a transposed-convolution `phase`: entry `t·(Ha·Wa) + a·Wa + b`, for the
    /// phase's tap `t = ii·|J| + jj`, is the offset in an output-gradient plane (`Ho×Wo`) of
    /// `(a + δᵢ, b + δⱼ)`, or −1 outside it.
    static func fillGather(_ table: UnsafeMutablePointer<Int32>, transposed: TransposedConvolution,
                           phase: TransposedConvolution.Phase, geometry g: WindowGeometry) {
        var entry = table
        for i in transposed.rowClasses[phase.rowClass] {
            let rowShift = transposed.shift(row: i, phase: phase, geometry: g)
            for j in transposed.columnClasses[phase.columnClass] {
                let columnShift = transposed.shift(column: j, phase: phase, geometry: g)
                for a in 0..<phase.gridHeight {
                    let h = a + rowShift
                    for b in 0..<phase.gridWidth {
                        let w = b + columnShift
                        entry.pointee = h >= 0 && h < g.outputHeight && w >= 0 && w < g.outputWidth
                            ? Int32(h * g.outputWidth + w) : -1
                        entry += 1
                    }
                }
            }
        }
    }

    /// For each of `planes` planes of `source` (`planeStride` apart), fills `taps` rows of
    /// `columns` (`rowStride` apart; plane `c`'s rows start at row `c·taps`) with the `count`
    /// positions from `first`: `columns[c·taps + t][p − first] = source[c][table[t·positions + p]]`,
    /// 0 where the entry is −1.
    @inline(__always)
    static func apply(_ table: UnsafePointer<Int32>, taps: Int, positions: Int, first: Int = 0, count: Int? = nil,
                      source: UnsafePointer<Float>, planes: Int, planeStride: Int,
                      into columns: UnsafeMutablePointer<Float>, rowStride: Int) {
        let count = count ?? positions
        for c in 0..<planes {
            let plane = source + c * planeStride
            for t in 0..<taps {
                let destination = columns + (c * taps + t) * rowStride
                let offsets = table + t * positions + first
                for p in 0..<count {
                    let k = offsets[p]
                    destination[p] = k >= 0 ? plane[Int(k)] : 0
                }
            }
        }
    }
}
