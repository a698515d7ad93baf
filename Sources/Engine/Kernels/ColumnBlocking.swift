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

    /// The blocks covering `items` items of `gridHeight×gridWidth` positions, by index (so
    /// threads can take them in any order).
    ///
    /// In band mode an item's bands differ by at most one grid row, and when there are at least
    /// `threads` bands their count is a multiple of `threads` where the grid has rows enough:
    /// threads that take whole bands then finish together. (resnet18's 56×56 F(2×2) forward made
    /// 7 bands of 4 tile rows, 4 on one thread and 3 on the other; its stem 7 bands of 15 output
    /// rows and one of 7.) In items mode likewise: blocks differ by at most one item, the larger
    /// first (the team's threads claim blocks in order), and more than one block is a multiple of
    /// `threads` blocks where there are items enough. (resnet18's 28×28 F(4×4) Jacobian VJPs, ten
    /// cotangent rows of 49 tiles, made blocks of 3, 3, 3 and 1 rows: 6 on one thread, 4 on the
    /// other.)
    struct Plan {
        let gridHeight: Int
        /// Band mode: bands per item (1 in items mode); items mode: items per block.
        let bandsPerItem: Int
        let itemsPerBlock: Int
        let items: Int
        let count: Int
        let bands: Bool

        init(items: Int, gridHeight: Int, gridWidth: Int, width: Int, threads: Int = 1) {
            let plane = gridHeight * gridWidth
            self.items = items
            self.gridHeight = gridHeight
            guard items > 0, plane > 0 else {
                (bandsPerItem, itemsPerBlock, count, bands) = (0, 1, 0, true)
                return
            }
            if plane >= width || items == 1 {
                let widest = max(1, width / max(gridWidth, 1))
                var bandsPerItem = (gridHeight + widest - 1) / widest
                if threads > 1, items * bandsPerItem >= threads {
                    while (items * bandsPerItem) % threads != 0, bandsPerItem < gridHeight { bandsPerItem += 1 }
                }
                self.bandsPerItem = bandsPerItem
                (itemsPerBlock, count, bands) = (1, items * bandsPerItem, true)
            } else {
                var blocks = (items * plane + width - 1) / width
                // As few blocks as this many allow at their largest (5 items, 4 blocks: 3 of 2).
                let largest = (items + blocks - 1) / blocks
                blocks = (items + largest - 1) / largest
                if threads > 1, blocks > 1, blocks % threads != 0 {
                    blocks = min(items, (blocks + threads - 1) / threads * threads)
                }
                itemsPerBlock = (items + blocks - 1) / blocks
                bandsPerItem = 1
                (count, bands) = (blocks, false)
            }
        }

        /// Grid rows of the widest and of the narrowest band (all of them in items mode).
        var rowsPerBand: Int { (gridHeight + max(bandsPerItem, 1) - 1) / max(bandsPerItem, 1) }
        var shortestBand: Int { gridHeight / max(bandsPerItem, 1) }

        subscript(index: Int) -> Block {
            if bands {
                let item = index / bandsPerItem, band = index % bandsPerItem
                return .band(item: item, rows: (band * gridHeight / bandsPerItem)..<((band + 1) * gridHeight / bandsPerItem))
            }
            // Items mode: the first `items % count` blocks hold one item more than the others.
            let smaller = items / count, larger = items % count
            let start = index * smaller + min(index, larger)
            let end = start + smaller + (index < larger ? 1 : 0)
            return end - start == 1 ? .band(item: start, rows: 0..<gridHeight) : .items(start..<end)
        }
    }

    /// Calls `body` for every block covering `items` items of `gridHeight×gridWidth` positions.
    @inline(__always)
    static func forEach(items: Int, gridHeight: Int, gridWidth: Int, width: Int, _ body: (Block) -> Void) {
        let plan = Plan(items: items, gridHeight: gridHeight, gridWidth: gridWidth, width: width)
        for index in 0..<plan.count { body(plan[index]) }
    }
}
