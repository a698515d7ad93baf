import Testing
@testable import Engine

/// `ColumnBlocking.Plan`: its blocks cover every grid row of every item exactly once; in band
/// mode no band is wider than `width` allows (the scratch is sized by it), an item's bands differ
/// by at most one row, and with at least `threads` bands their count is a multiple of `threads`
/// (unless the grid has too few rows); in items mode whole items go side by side, in blocks at
/// most one item apart, the larger first, and more than one block is a multiple of `threads`.
struct ColumnBlockingTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var items: Int, gridHeight: Int, gridWidth: Int, width: Int, threads: Int
        var testDescription: String { "\(items)×\(gridHeight)×\(gridWidth), width \(width), \(threads) threads" }
    }

    static let shapes: [Shape] = [
        // resnet18's stem at batch 1 (112×112 outputs, 147-row columns): 7 bands of 15 rows and one of 7 before.
        Shape(items: 1, gridHeight: 112, gridWidth: 112, width: 1783, threads: 2),
        // Its 56×56 F(2×2) forward: 28×28 tiles, 128 per block: 7 bands of 4 rows before.
        Shape(items: 1, gridHeight: 28, gridWidth: 28, width: 128, threads: 2),
        Shape(items: 1, gridHeight: 28, gridWidth: 28, width: 128, threads: 3),
        // Ten cotangent rows of 14×14 tiles: 2 bands each (9 and 5 rows before).
        Shape(items: 10, gridHeight: 14, gridWidth: 14, width: 128, threads: 2),
        Shape(items: 3, gridHeight: 14, gridWidth: 14, width: 128, threads: 2),
        // One band only (fewer bands than threads: left as it is).
        Shape(items: 1, gridHeight: 14, gridWidth: 14, width: 256, threads: 2),
        // Too few rows for a multiple of the threads: one row per band.
        Shape(items: 1, gridHeight: 5, gridWidth: 40, width: 40, threads: 3),
        Shape(items: 1, gridHeight: 7, gridWidth: 100, width: 100, threads: 1),
        // Items side by side (small grids).
        Shape(items: 9, gridHeight: 7, gridWidth: 7, width: 256, threads: 2),
        // resnet18's 28×28 F(4×4) Jacobian VJPs: ten rows of 7×7 tiles, 128 per block: 3, 3, 3, 1 before.
        Shape(items: 10, gridHeight: 7, gridWidth: 7, width: 128, threads: 2),
        // Three blocks' worth on two threads: four blocks.
        Shape(items: 11, gridHeight: 4, gridWidth: 4, width: 64, threads: 2),
        // One block: left whole.
        Shape(items: 3, gridHeight: 4, gridWidth: 4, width: 64, threads: 2),
        // Five items of 100 columns, 128 per block, one thread: 2, 2, 1 (not 2, 1, 1, 1).
        Shape(items: 5, gridHeight: 10, gridWidth: 10, width: 128, threads: 1),
    ]

    @Test(arguments: shapes)
    func blocksCoverEveryRowOnceInEvenBands(_ shape: Shape) {
        let plan = ColumnBlocking.Plan(items: shape.items, gridHeight: shape.gridHeight, gridWidth: shape.gridWidth,
                                       width: shape.width, threads: shape.threads)
        var covered = [Int](repeating: 0, count: shape.items * shape.gridHeight)
        var bandRows: [Int: [Int]] = [:]
        var blockItems: [Int] = []
        for index in 0..<plan.count {
            switch plan[index] {
            case let .band(item, rows):
                #expect(!rows.isEmpty, "block \(index) is empty")
                for row in rows { covered[item * shape.gridHeight + row] += 1 }
                bandRows[item, default: []].append(rows.count)
            case let .items(range):
                #expect(!plan.bands && range.count > 1 && range.count <= plan.itemsPerBlock)
                for item in range { for row in 0..<shape.gridHeight { covered[item * shape.gridHeight + row] += 1 } }
                blockItems.append(range.count)
            }
            if !plan.bands, case let .band(_, rows) = plan[index] {
                #expect(rows == 0..<shape.gridHeight, "items mode: block \(index) is a part of an item")
                blockItems.append(1)
            }
        }
        #expect(covered.allSatisfy { $0 == 1 }, "rows covered \(Set(covered)) times")
        guard plan.bands else {
            // Items mode: at most one item apart, larger blocks first, whole multiples of the threads.
            let plane = shape.gridHeight * shape.gridWidth
            #expect(blockItems.max()! * plane <= 2 * shape.width, "blocks of \(blockItems) items of \(plane) columns")
            #expect(blockItems.max()! - blockItems.min()! <= 1, "blocks of \(blockItems) items")
            #expect(blockItems == blockItems.sorted(by: >), "blocks of \(blockItems) items")
            if plan.count > 1 && shape.items >= shape.threads {
                #expect(plan.count % shape.threads == 0, "\(plan.count) blocks on \(shape.threads) threads")
            }
            if shape.threads == 1 {
                // One thread: no more blocks than the largest one's size needs.
                #expect(plan.count == (shape.items + blockItems.max()! - 1) / blockItems.max()!, "blocks of \(blockItems) items")
            }
            return
        }
        let widest = max(1, shape.width / shape.gridWidth)
        let unbalanced = (shape.gridHeight + widest - 1) / widest
        for (item, rows) in bandRows {
            #expect(rows.count == plan.bandsPerItem)
            #expect(rows.max()! <= widest, "item \(item): a band of \(rows.max()!) rows, at most \(widest) fit")
            #expect(rows.max()! - rows.min()! <= 1, "item \(item): bands of \(rows)")
            #expect(rows.max()! == plan.rowsPerBand && rows.min()! == plan.shortestBand)
        }
        if shape.items * unbalanced >= shape.threads && plan.bandsPerItem < shape.gridHeight {
            #expect(plan.count % shape.threads == 0, "\(plan.count) bands on \(shape.threads) threads")
        }
        if shape.items * unbalanced < shape.threads { #expect(plan.bandsPerItem == unbalanced) }
    }
}
