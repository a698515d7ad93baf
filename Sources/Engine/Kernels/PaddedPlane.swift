/// A padded copy of one `height×width` plane with its rows split into column phases, so that a
/// window sliding with column stride `phases` reads contiguous runs: padded element `(r, x)` is
/// at `(r·phases + x mod phases)·phaseWidth + x / phases`, and source element `(h, w)` is padded
/// element `(h + top, w + left)`. `top` and `left` may be negative (the source is then cropped).
/// Used by ``DepthwiseConvolution`` (zero padding) and ``MaxPoolOperator`` (−∞ padding).
struct PaddedPlane {
    var rows: Int, phases: Int, phaseWidth: Int, top: Int, left: Int

    var rowStride: Int { phases * phaseWidth }
    var count: Int { rows * rowStride }

    /// The layout a window of `g` slides over, `lanes` output columns at a time: `strideWidth`
    /// phases, and room for the last (partial) block of lanes at the widest tap.
    init(window g: WindowGeometry, lanes: Int) {
        self.init(rows: (g.outputHeight - 1) * g.strideHeight + (g.kernelHeight - 1) * g.dilationHeight + 1,
                  phases: g.strideWidth,
                  phaseWidth: (g.outputWidth + lanes - 1) / lanes * lanes + (g.kernelWidth - 1) * g.dilationWidth / g.strideWidth,
                  top: g.padTop, left: g.padLeft)
    }

    init(rows: Int, phases: Int, phaseWidth: Int, top: Int, left: Int) {
        (self.rows, self.phases, self.phaseWidth, self.top, self.left) = (rows, phases, phaseWidth, top, left)
    }

    /// Where padded element `(row, column)` is, from the plane's start.
    func offset(row: Int, column: Int) -> Int {
        row * rowStride + (column % phases) * phaseWidth + column / phases
    }

    /// Writes `source` (`height×width`) into `plane`, with `padding` everywhere else. With
    /// `paddingWritten`, `plane` already holds this layout's padding for a source of this size
    /// (an earlier fill of the same scratch, as a depthwise convolution's channels after its
    /// first): only the cells that hold source elements are written (with two phases or more,
    /// whole rows that hold one).
    ///
    /// The padding rows and each row's column ranges are worked out once per call, and a
    /// two-phase row's staging buffer gets its padding once: per row, resnet18's max pooling and
    /// mobilenet_v2's depthwise layers spent as long on integer divisions and re-padding as on
    /// the copy.
    func fill(_ plane: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, height: Int, width: Int,
              padding: Float = 0, paddingWritten: Bool = false) {
        let sourceRows = sourceRows(height: height)
        if !paddingWritten {
            plane.update(repeating: padding, count: sourceRows.lowerBound * rowStride)
            (plane + sourceRows.upperBound * rowStride).update(repeating: padding, count: (rows - sourceRows.upperBound) * rowStride)
        }
        switch phases {
        case 1:
            let columns = sourceColumns(phase: 0, width: width)
            for r in sourceRows {
                let row = plane + r * rowStride, sourceRow = source + (r - top) * width
                if !paddingWritten {
                    row.update(repeating: padding, count: columns.lowerBound)
                    (row + columns.upperBound).update(repeating: padding, count: phaseWidth - columns.upperBound)
                }
                (row + columns.lowerBound).update(from: sourceRow + (columns.lowerBound - left), count: columns.count)
            }
        case 2:
            withUnsafeTemporaryAllocation(of: Float.self, capacity: rowStride) { staging in
                let buffer = staging.baseAddress!
                buffer.update(repeating: padding, count: rowStride)
                let first = max(0, left), end = max(first, min(rowStride, width + left))
                for r in sourceRows {
                    (buffer + first).update(from: source + (r - top) * width + (first - left), count: end - first)
                    splitTwoPhaseRow(buffer, into: plane + r * rowStride)
                }
            }
        default:
            withPhaseColumns(width: width) { phaseColumns in
                for r in sourceRows {
                    fillRow(plane + r * rowStride, from: source + (r - top) * width, phaseColumns: phaseColumns,
                            padding: padding)
                }
            }
        }
    }

    /// The padded rows that hold a source row: `0 ≤ r − top < height`.
    func sourceRows(height: Int) -> Range<Int> {
        let first = min(max(0, top), rows)
        return first..<max(first, min(rows, height + top))
    }

    /// One two-phase row from its padded copy `buffer` (``rowStride`` floats, source at its
    /// padded place, padding around it), split into the even and odd phases eight columns at a
    /// time. (Splitting the source in place, sixteen columns at a time where they all exist and
    /// one by one at the edges, left resnet18's max pooling spending a fifth of its time copying
    /// the edge columns.)
    private func splitTwoPhaseRow(_ buffer: UnsafePointer<Float>, into row: UnsafeMutablePointer<Float>) {
        var t = 0
        while t + 8 <= phaseWidth {
            let pair = load(SIMD16<Float>.self, buffer + 2 * t)
            store(pair.evenHalf, row + t)
            store(pair.oddHalf, row + phaseWidth + t)
            t += 8
        }
        while t < phaseWidth {
            row[t] = buffer[2 * t]
            row[phaseWidth + t] = buffer[2 * t + 1]
            t += 1
        }
    }

    /// One row of a plane of more than two phases, phase by phase, column by column;
    /// `phaseColumns[q]` is ``sourceColumns(phase:width:)`` of phase `q`.
    private func fillRow(_ row: UnsafeMutablePointer<Float>, from sourceRow: UnsafePointer<Float>,
                         phaseColumns: UnsafeMutableBufferPointer<Range<Int>>, padding: Float) {
        for q in 0..<phases {
            let phase = row + q * phaseWidth
            let columns = phaseColumns[q]
            phase.update(repeating: padding, count: columns.lowerBound)
            for t in columns { phase[t] = sourceRow[t * phases + q - left] }
            (phase + columns.upperBound).update(repeating: padding, count: phaseWidth - columns.upperBound)
        }
    }

    /// Calls `body` for the columns of `columns` before and after `paired` (``fold(_:onto:height:width:)``;
    /// a loop over all of `columns` testing each against `paired` cost as much as copying them one
    /// by one).
    @inline(__always)
    private static func forEach(_ columns: Range<Int>, outside paired: Range<Int>, _ body: (Int) -> Void) {
        guard !paired.isEmpty else {
            for t in columns { body(t) }
            return
        }
        for t in columns.lowerBound..<max(columns.lowerBound, min(columns.upperBound, paired.lowerBound)) { body(t) }
        for t in min(columns.upperBound, max(columns.lowerBound, paired.upperBound))..<columns.upperBound { body(t) }
    }

    /// For two phases, the phase columns `t` (a multiple of eight long) for which source columns
    /// `2t − left ..< 2t − left + 16` all exist; empty otherwise.
    private func pairedColumns(width: Int) -> Range<Int> {
        guard phases == 2 else { return 0..<0 }
        let first = max(0, (left + 1) / 2)
        let end = min(phaseWidth, (width + left) / 2)
        guard end > first else { return 0..<0 }
        return first..<(first + (end - first) / 8 * 8)
    }

    /// The adjoint of ``fill(_:from:height:width:padding:paddingWritten:)``: adds the padded
    /// elements that are source elements onto `destination` (`height×width`). Each phase's
    /// column ranges are worked out once per call, not once per row.
    func fold(_ plane: UnsafePointer<Float>, onto destination: UnsafeMutablePointer<Float>, height: Int, width: Int) {
        let paired = pairedColumns(width: width)
        withPhaseColumns(width: width) { phaseColumns in
            for r in sourceRows(height: height) {
                let row = plane + r * rowStride, destinationRow = destination + (r - top) * width
                for q in 0..<phases {
                    let phase = row + q * phaseWidth
                    Self.forEach(phaseColumns[q], outside: paired) { t in
                        destinationRow[t * phases + q - left] += phase[t]
                    }
                }
                for t in stride(from: paired.lowerBound, to: paired.upperBound, by: 8) {
                    let target = destinationRow + (2 * t - left)
                    var pair = SIMD16<Float>()
                    pair.evenHalf = load(SIMD8<Float>.self, row + t)
                    pair.oddHalf = load(SIMD8<Float>.self, row + phaseWidth + t)
                    store(load(SIMD16<Float>.self, target) + pair, target)
                }
            }
        }
    }

    /// Calls `body` with every phase's ``sourceColumns(phase:width:)``, worked out once.
    private func withPhaseColumns(width: Int, _ body: (UnsafeMutableBufferPointer<Range<Int>>) -> Void) {
        withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: phases) { phaseColumns in
            for q in 0..<phases { phaseColumns[q] = sourceColumns(phase: q, width: width) }
            body(phaseColumns)
        }
    }

    /// The phase columns `t` of phase `q` that hold a source column: `0 ≤ t·phases + q − left < width`.
    func sourceColumns(phase q: Int, width: Int) -> Range<Int> {
        func ceilingDivide(_ a: Int) -> Int { a <= 0 ? 0 : (a + phases - 1) / phases }
        let first = min(ceilingDivide(left - q), phaseWidth)
        return first..<max(first, min(ceilingDivide(width + left - q), phaseWidth))
    }
}
