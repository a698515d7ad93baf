/// How a convolution's GEMMs cut their N dimension (output positions of frames or cotangent rows).
///
/// Every item (a frame, or a cotangent row) has a grid of `gridHeight×gridWidth` output
/// positions. A GEMM takes about `width` columns: when an item's grid is at least that wide, a
/// band of its grid rows (written in place, no copies); otherwise several whole items side by
/// side, split evenly over as few GEMMs as the width allows. Small grids thus still make wide
/// GEMMs (frames and cotangents batched into N), and large ones keep their im2col columns small
/// enough to stay in the L2 cache between being written and being multiplied.
struct ColumnBlocking {
    /// Floats of im2col columns one GEMM aims at (1 MiB: half a core's L2 on the target machine).
    static let columnBudget = 1 << 18
    /// Fewest columns a GEMM aims at; narrower products lose OpenBLAS efficiency.
    static let minimumWidth = 256
    static let maximumWidth = 4096

    /// Target columns per GEMM for columns of `depth` rows (`override`, if given, for tests).
    static func targetWidth(depth: Int, override: Int? = nil) -> Int {
        if let override { return max(1, override) }
        return min(maximumWidth, max(minimumWidth, columnBudget / max(depth, 1)))
    }

    /// The widest GEMM ``forEach(items:gridHeight:gridWidth:width:_:)`` makes, for scratch sizing.
    static func maximumColumns(width: Int, gridWidth: Int) -> Int { max(2 * width, gridWidth) }

    enum Block {
        /// Grid rows `rows` of one item: the GEMM reads and writes the item's own planes.
        case band(item: Int, rows: Range<Int>)
        /// Whole items `items`, their columns side by side (`items.count·gridHeight·gridWidth`).
        case items(Range<Int>)
    }

    /// Calls `body` for every block covering `items` items of `gridHeight×gridWidth` positions.
    @inline(__always)
    static func forEach(items: Int, gridHeight: Int, gridWidth: Int, width: Int, _ body: (Block) -> Void) {
        let plane = gridHeight * gridWidth
        guard items > 0, plane > 0 else { return }
        if plane >= width || items == 1 {
            let rowsPerBand = max(1, width / max(gridWidth, 1))
            for item in 0..<items {
                var row = 0
                while row < gridHeight {
                    let end = min(gridHeight, row + rowsPerBand)
                    body(.band(item: item, rows: row..<end))
                    row = end
                }
            }
            return
        }
        let blocks = (items * plane + width - 1) / width
        let perBlock = (items + blocks - 1) / blocks
        var start = 0
        while start < items {
            let end = min(items, start + perBlock)
            if end - start == 1 {
                body(.band(item: start, rows: 0..<gridHeight))
            } else {
                body(.items(start..<end))
            }
            start = end
        }
    }
}
