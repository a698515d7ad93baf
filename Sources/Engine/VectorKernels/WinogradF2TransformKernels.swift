/// The input and output transforms of Winograd's F(2×2, 3×3) (Lavin & Gray 2016): a 2×2 output
/// tile from a 4×4 input patch `d`, `Y = Aᵀ [Σ_c (G g Gᵀ) ⊙ (Bᵀ d B)] A`. Each padded input row
/// is split into its even and odd columns, so that every tile's four columns are contiguous
/// vectors over tiles; rows that fit one vector are instead read whole at four column offsets.
extension WinogradTransformKernels {
    /// The input transform's contract, for both of its paths:
    /// `V[ξ][c][firstTile + (ty − lower)·Tw + tx] = (Bᵀ d B)[ξ]`, 16 positions `inputs·tiles`
    /// apart, for tile rows `tileRows` of one item (`C` planes of `H×W` at `x`) and channels
    /// `channels`. Per channel and tile row: the input rows under the tile row, zero-padded, are
    /// combined by `Bᵀ` along whole rows, then `B` is applied along columns.
    ///
    ///     Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
    ///
    /// Maps whose padded rows fit one 16-float vector (``takesNarrowF2(_:)``: up to 7 tile
    /// columns, 7×7 and 14×14 maps) take ``inputF2Narrow(_:channels:geometry:inputs:tileRows:firstTile:tiles:into:rows:)``,
    /// the others ``inputF2Rows(_:channels:geometry:inputs:tileRows:firstTile:tiles:into:rows:)``;
    /// both compute the same sums in the same order. `rows` holds ``inputF2ScratchCount(tileColumns:)``
    /// floats. `WinogradTransformLoops` chooses between each build's two entries.
    @inlinable
    public static func takesNarrowF2(_ g: WinogradTileGeometry) -> Bool { 2 * g.tileColumns + 2 <= narrowRowWidth }

    /// Floats of `rows` scratch the input transform needs (either path) for maps of `tileColumns`
    /// tile columns.
    public static func inputF2ScratchCount(tileColumns: Int) -> Int {
        max(16 * halfRowLength(tileColumns: tileColumns), narrowScratchCount)
    }

    /// The widest padded row (`2·Tw + 2` columns) that
    /// ``inputF2Narrow(_:channels:geometry:inputs:tileRows:firstTile:tiles:into:rows:)`` takes.
    public static let narrowRowWidth = 16
    /// Floats from one padded row to the next in the narrow path's scratch: a row and the three
    /// columns past it that its shifted loads read (zeros).
    @usableFromInline static let narrowRowStride = 32
    /// Tile rows whose padded rows the narrow path holds at once (their `2·4 + 2` rows).
    @usableFromInline static let narrowChunkTileRows = 4
    @usableFromInline static let narrowScratchCount = (2 * narrowChunkTileRows + 2) * narrowRowStride

    /// The input transform for maps of at most 7 tile columns, whose padded rows fit one 16-float
    /// vector: per channel, up to four tile rows' padded rows are copied once into `rows` (one
    /// per ``narrowRowStride``, zeros around the pixels), then each tile row's `Bᵀ` runs on whole
    /// rows loaded at column offsets 0…3 and `B` is those offsets' differences, read at the even
    /// columns `2tx`. Split into even and odd columns tile row by tile row instead, with short
    /// copies and fills, the transform of a 256-channel 7×7 layer took 0.28 of its products'
    /// `perf` samples; this way, 0.175. Same contract and sums as
    /// ``inputF2Rows(_:channels:geometry:inputs:tileRows:firstTile:tiles:into:rows:)``.
    @inlinable @inline(__always)
    public static func inputF2Narrow(_ x: UnsafePointer<Float>, channels: Range<Int>, geometry g: WinogradTileGeometry,
                                     inputs: Int, tileRows: Range<Int>, firstTile: Int, tiles: Int,
                                     into v: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
        let tileColumns = g.tileColumns, stride = narrowRowStride
        precondition(g.paddedWidth <= narrowRowWidth,
                     "a padded row of \(g.paddedWidth) columns is wider than the narrow path's \(narrowRowWidth)")
        let positionStride = inputs * tiles
        // Only the pixel columns are written; every other float of `rows` stays zero.
        let columns = g.pixelColumns
        rows.update(repeating: 0, count: narrowScratchCount)
        for c in channels {
            let plane = x + c * g.inputHeight * g.inputWidth
            var chunkStart = tileRows.lowerBound
            while chunkStart < tileRows.upperBound {
                let chunk = min(narrowChunkTileRows, tileRows.upperBound - chunkStart)
                for r in 0..<(2 * chunk + 2) where !columns.isEmpty {
                    let row = rows + r * stride
                    if let y = g.planeRow(2 * chunkStart + r) {
                        copy(plane + y * g.inputWidth + columns.lowerBound - g.padLeft, count: columns.count,
                             into: row + columns.lowerBound)
                    } else {
                        store(SIMD16<Float>(), row)
                    }
                }
                for t in 0..<chunk {
                    let ty = chunkStart + t, padded = rows + 2 * t * stride
                    let c0 = combinedRows(padded, stride: stride, offset: 0), c1 = combinedRows(padded, stride: stride, offset: 1)
                    let c2 = combinedRows(padded, stride: stride, offset: 2), c3 = combinedRows(padded, stride: stride, offset: 3)
                    let base = v + c * tiles + firstTile + (ty - tileRows.lowerBound) * tileColumns
                    // Whole 8-float stores where this channel's later tile rows are still to be written over them.
                    let whole = (tileRows.upperBound - ty) * tileColumns >= 8
                    let spacing = 4 * positionStride
                    evenColumnsF2(c0.0, c1.0, c2.0, c3.0, count: tileColumns, whole: whole, into: base, positionStride: positionStride)
                    evenColumnsF2(c0.1, c1.1, c2.1, c3.1, count: tileColumns, whole: whole, into: base + spacing,
                                  positionStride: positionStride)
                    evenColumnsF2(c0.2, c1.2, c2.2, c3.2, count: tileColumns, whole: whole, into: base + 2 * spacing,
                                  positionStride: positionStride)
                    evenColumnsF2(c0.3, c1.3, c2.3, c3.3, count: tileColumns, whole: whole, into: base + 3 * spacing,
                                  positionStride: positionStride)
                }
                chunkStart += chunk
            }
        }
    }

    /// `Bᵀ` along rows on the four padded rows at `padded` (`stride` apart) read from column
    /// `offset`: `(d0 − d2, d1 + d2, d2 − d1, d1 − d3)`.
    @inlinable @inline(__always)
    static func combinedRows(_ padded: UnsafeMutablePointer<Float>, stride: Int, offset: Int)
        -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        let d0 = load(SIMD16<Float>.self, padded + offset), d1 = load(SIMD16<Float>.self, padded + stride + offset)
        let d2 = load(SIMD16<Float>.self, padded + 2 * stride + offset)
        let d3 = load(SIMD16<Float>.self, padded + 3 * stride + offset)
        return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
    }

    /// `B` along columns for one row `t` of `Bᵀ d`, given read from column offsets 0…3
    /// (`t0`…`t3`): tile `tx` is column `2tx`, its four positions `positionStride` apart from `o`.
    @inlinable @inline(__always)
    static func evenColumnsF2(_ t0: SIMD16<Float>, _ t1: SIMD16<Float>, _ t2: SIMD16<Float>, _ t3: SIMD16<Float>,
                              count: Int, whole: Bool, into o: UnsafeMutablePointer<Float>, positionStride: Int) {
        storeEvenLanes(t0 - t2, count: count, whole: whole, into: o)
        storeEvenLanes(t1 + t2, count: count, whole: whole, into: o + positionStride)
        storeEvenLanes(t2 - t1, count: count, whole: whole, into: o + 2 * positionStride)
        storeEvenLanes(t1 - t3, count: count, whole: whole, into: o + 3 * positionStride)
    }

    /// `count` floats from `source` to `destination` (a row: 8, then 4, then 1 at a time).
    @inlinable @inline(__always)
    static func copy(_ source: UnsafePointer<Float>, count: Int, into destination: UnsafeMutablePointer<Float>) {
        var j = 0
        while j + 8 <= count { store(load(SIMD8<Float>.self, source + j), destination + j); j += 8 }
        if j + 4 <= count { store(load(SIMD4<Float>.self, source + j), destination + j); j += 4 }
        while j < count { destination[j] = source[j]; j += 1 }
    }

    /// Lanes `0, 2, …, 2(count − 1)` of `o` (`count` ≤ 8) to `destination[0 ..< count]`; with
    /// `whole`, all eight even lanes (the caller writes over the rest later).
    @inlinable @inline(__always)
    static func storeEvenLanes(_ o: SIMD16<Float>, count: Int, whole: Bool, into destination: UnsafeMutablePointer<Float>) {
        let even = o.evenHalf
        if whole { store(even, destination); return }
        var j = 0
        if count >= 4 { store(even.lowHalf, destination); j = 4 }
        while j < count { destination[j] = even[j]; j += 1 }
    }

    /// The per-row input transform (any width): per channel, each padded row is split once into
    /// its even and odd columns (a ring of four rows: a tile row reads the two its predecessor
    /// read and two new ones), and `Bᵀ` and `B` run together on vectors of tiles read from the
    /// four rows, not written out and read back between the two. Same contract as the narrow
    /// path. (Against loading every tile row's four rows afresh, each zeroed first, resnet18's
    /// 28×28 and 56×56 forwards measured the same on the noisy VM.)
    @inlinable @inline(__always)
    public static func inputF2Rows(_ x: UnsafePointer<Float>, channels: Range<Int>, geometry g: WinogradTileGeometry,
                                   inputs: Int, tileRows: Range<Int>, firstTile: Int, tiles: Int,
                                   into v: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
        let tileColumns = g.tileColumns, length = halfRowLength(tileColumns: tileColumns)
        let positionStride = inputs * tiles
        // Padded row r sits in slot r mod 4: its even columns, then its odd ones, `length` apart.
        func slot(_ paddedRow: Int) -> UnsafeMutablePointer<Float> { rows + (paddedRow % 4) * 2 * length }
        for c in channels {
            let plane = x + c * g.inputHeight * g.inputWidth
            for ty in tileRows {
                for r in (ty == tileRows.lowerBound ? 0 : 2)..<4 {
                    loadPaddedRowF2(plane, geometry: g, paddedRow: 2 * ty + r, phaseLength: length, into: slot(2 * ty + r))
                }
                let d = (slot(2 * ty), slot(2 * ty + 1), slot(2 * ty + 2), slot(2 * ty + 3))
                let base = v + c * tiles + firstTile + (ty - tileRows.lowerBound) * tileColumns
                var tx = 0
                while tx + 16 <= tileColumns {
                    transformTilesF2(SIMD16<Float>.self, d, length, base, positionStride, tx); tx += 16
                }
                while tx + 8 <= tileColumns { transformTilesF2(SIMD8<Float>.self, d, length, base, positionStride, tx); tx += 8 }
                while tx + 4 <= tileColumns { transformTilesF2(SIMD4<Float>.self, d, length, base, positionStride, tx); tx += 4 }
                while tx < tileColumns { transformTileF2(d, length, base, positionStride, tx); tx += 1 }
            }
        }
    }

    /// Padded row `paddedRow` (from the top of the padding) of one plane for F(2×2), split into
    /// its even columns at `row` and odd ones at `row + length`: columns `padLeft ..< padLeft + W`
    /// hold pixels, the others of the `2·Tw + 2` zeros (rows outside the plane all zeros).
    @inlinable @inline(__always)
    static func loadPaddedRowF2(_ plane: UnsafePointer<Float>, geometry g: WinogradTileGeometry, paddedRow: Int,
                                phaseLength length: Int, into row: UnsafeMutablePointer<Float>) {
        let columns = g.pixelColumns
        guard let y = g.planeRow(paddedRow), !columns.isEmpty else {
            row.update(repeating: 0, count: 2 * length)
            return
        }
        for column in 0..<columns.lowerBound { row[(column % 2) * length + column / 2] = 0 }
        for column in columns.upperBound..<g.paddedWidth { row[(column % 2) * length + column / 2] = 0 }
        deinterleave(plane + y * g.inputWidth - g.padLeft, columns: columns, even: row, odd: row + length)
    }

    /// `Bᵀ d B` for `S.scalarCount` tiles from column `tx` of one tile row, whose four padded
    /// rows are `d` (each even columns, then odd ones `length` on): row `i` of `Bᵀ d` at tile
    /// `tx` is read as its columns `2tx … 2tx+3` (`a`, `b`, `e`, `f`), and position `4i + j`
    /// written `positionStride` from the last: `Bᵀ` along the rows, then `B` along the columns,
    /// the sums of the narrow path in the same order.
    @inlinable @inline(__always)
    static func transformTilesF2<S: SIMD>(_: S.Type,
                                          _ d: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                                UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>),
                                          _ length: Int, _ o0: UnsafeMutablePointer<Float>, _ positionStride: Int, _ tx: Int)
        where S.Scalar == Float {
        func columns(_ row: UnsafeMutablePointer<Float>) -> (S, S, S, S) {
            (load(S.self, row + tx), load(S.self, row + length + tx), load(S.self, row + tx + 1),
             load(S.self, row + length + tx + 1))
        }
        let r0 = columns(d.0), r1 = columns(d.1), r2 = columns(d.2), r3 = columns(d.3)
        func write(_ t: (S, S, S, S), _ i: Int) {
            let o = o0 + 4 * i * positionStride + tx
            store(t.0 - t.2, o)
            store(t.1 + t.2, o + positionStride)
            store(t.2 - t.1, o + 2 * positionStride)
            store(t.1 - t.3, o + 3 * positionStride)
        }
        // Bᵀ: t0 = d0 − d2, t1 = d1 + d2, t2 = d2 − d1, t3 = d1 − d3, on each of the four columns.
        write((r0.0 - r2.0, r0.1 - r2.1, r0.2 - r2.2, r0.3 - r2.3), 0)
        write((r1.0 + r2.0, r1.1 + r2.1, r1.2 + r2.2, r1.3 + r2.3), 1)
        write((r2.0 - r1.0, r2.1 - r1.1, r2.2 - r1.2, r2.3 - r1.3), 2)
        write((r1.0 - r3.0, r1.1 - r3.1, r1.2 - r3.2, r1.3 - r3.3), 3)
    }

    /// ``transformTilesF2(_:_:_:_:_:_:)`` for the one tile at column `tx` (a tile row's last few).
    @inlinable @inline(__always)
    static func transformTileF2(_ d: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                      UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>),
                                _ length: Int, _ o0: UnsafeMutablePointer<Float>, _ positionStride: Int, _ tx: Int) {
        func columns(_ row: UnsafeMutablePointer<Float>) -> (Float, Float, Float, Float) {
            (row[tx], row[length + tx], row[tx + 1], row[length + tx + 1])
        }
        let r0 = columns(d.0), r1 = columns(d.1), r2 = columns(d.2), r3 = columns(d.3)
        func write(_ t: (Float, Float, Float, Float), _ i: Int) {
            let o = o0 + 4 * i * positionStride + tx
            o[0] = t.0 - t.2
            o[positionStride] = t.1 + t.2
            o[2 * positionStride] = t.2 - t.1
            o[3 * positionStride] = t.1 - t.3
        }
        write((r0.0 - r2.0, r0.1 - r2.1, r0.2 - r2.2, r0.3 - r2.3), 0)
        write((r1.0 + r2.0, r1.1 + r2.1, r1.2 + r2.2, r1.3 + r2.3), 1)
        write((r2.0 - r1.0, r2.1 - r1.1, r2.2 - r1.2, r2.3 - r1.3), 2)
        write((r1.0 - r3.0, r1.1 - r3.1, r1.2 - r3.2, r1.3 - r3.3), 3)
    }

    /// `Y[k, 2ty + i, 2tx + j] (+)= (Aᵀ M A)[i][j]` for tile rows `tileRows` of one item (`K`
    /// planes of `Ho×Wo` at `y`) and output channels `channels`, `M`'s 16 positions
    /// `outputs·tiles` apart; `bias` and `activation` applied when writing (not when
    /// `accumulate`). `rows` holds 4 half rows of ``halfRowLength(tileColumns:)``.
    ///
    ///     Aᵀ = [1 1 1 0; 0 1 −1 −1]
    @inlinable @inline(__always)
    public static func outputF2(_ m: UnsafePointer<Float>, channels: Range<Int>, geometry g: WinogradTileGeometry,
                                outputs: Int, tileRows: Range<Int>, firstTile: Int, tiles: Int,
                                into y: UnsafeMutablePointer<Float>, accumulate: Bool, bias: UnsafePointer<Float>?,
                                activation: WinogradOutputActivation, rows: UnsafeMutablePointer<Float>) {
        let tileColumns = g.tileColumns, width = g.outputWidth
        let positionStride = outputs * tiles
        // Output rows 0 and 1 of a tile row, even and odd columns each.
        let half = halfRowLength(tileColumns: tileColumns)
        let r0 = (even: rows, odd: rows + half), r1 = (even: rows + 2 * half, odd: rows + 3 * half)
        for k in channels {
            let plane = y + k * g.outputHeight * width
            let b = bias?[k] ?? 0
            for ty in tileRows {
                let base = m + k * tiles + firstTile + (ty - tileRows.lowerBound) * tileColumns
                var tx = 0
                while tx + 16 <= tileColumns { outputTilesF2(SIMD16<Float>.self, base, positionStride, tx, r0, r1); tx += 16 }
                while tx + 8 <= tileColumns { outputTilesF2(SIMD8<Float>.self, base, positionStride, tx, r0, r1); tx += 8 }
                while tx + 4 <= tileColumns { outputTilesF2(SIMD4<Float>.self, base, positionStride, tx, r0, r1); tx += 4 }
                while tx < tileColumns {
                    func p(_ position: Int) -> Float { base[position * positionStride + tx] }
                    let s00 = p(0) + p(4) + p(8), s10 = p(4) - p(8) - p(12)
                    let s01 = p(1) + p(5) + p(9), s11 = p(5) - p(9) - p(13)
                    let s02 = p(2) + p(6) + p(10), s12 = p(6) - p(10) - p(14)
                    let s03 = p(3) + p(7) + p(11), s13 = p(7) - p(11) - p(15)
                    r0.even[tx] = s00 + s01 + s02
                    r0.odd[tx] = s01 - s02 - s03
                    r1.even[tx] = s10 + s11 + s12
                    r1.odd[tx] = s11 - s12 - s13
                    tx += 1
                }
                for i in 0..<min(2, g.outputHeight - 2 * ty) {
                    let (even, odd) = i == 0 ? r0 : r1, destination = plane + (2 * ty + i) * width
                    let pairs = width / 2
                    if accumulate {
                        for j in 0..<pairs {
                            destination[2 * j] += even[j]
                            destination[2 * j + 1] += odd[j]
                        }
                        if width % 2 == 1 { destination[width - 1] += even[pairs] }
                    } else {
                        switch activation {
                        case .relu:
                            for j in 0..<pairs {
                                destination[2 * j] = max(even[j] + b, 0)
                                destination[2 * j + 1] = max(odd[j] + b, 0)
                            }
                            if width % 2 == 1 { destination[width - 1] = max(even[pairs] + b, 0) }
                        case .none, .clip:
                            for j in 0..<pairs {
                                destination[2 * j] = even[j] + b
                                destination[2 * j + 1] = odd[j] + b
                            }
                            if width % 2 == 1 { destination[width - 1] = even[pairs] + b }
                            apply(activation, destination, count: width)
                        }
                    }
                }
            }
        }
    }

    /// An output row's even and odd columns.
    public typealias OutputRow = (even: UnsafeMutablePointer<Float>, odd: UnsafeMutablePointer<Float>)

    /// `Aᵀ m A` for `S.scalarCount` tiles from column `tx` (position `ξ` of tile `tx` at
    /// `base[ξ·positionStride + tx]`): the two output rows' pixels `2tx …` into `r0` and `r1`
    /// (column `2tx + j` at `even[tx]` or `odd[tx]`).
    @inlinable @inline(__always)
    static func outputTilesF2<S: SIMD>(_: S.Type, _ base: UnsafePointer<Float>, _ positionStride: Int, _ tx: Int,
                                       _ r0: OutputRow, _ r1: OutputRow) where S.Scalar == Float {
        func m(_ position: Int) -> S { load(S.self, base + position * positionStride + tx) }
        let m0 = m(0), m1 = m(1), m2 = m(2), m3 = m(3), m4 = m(4), m5 = m(5), m6 = m(6), m7 = m(7)
        let m8 = m(8), m9 = m(9), m10 = m(10), m11 = m(11), m12 = m(12), m13 = m(13), m14 = m(14), m15 = m(15)
        // s = Aᵀ m (2×4), then s A (2×2).
        let s00 = m0 + m4 + m8, s10 = m4 - m8 - m12
        let s01 = m1 + m5 + m9, s11 = m5 - m9 - m13
        let s02 = m2 + m6 + m10, s12 = m6 - m10 - m14
        let s03 = m3 + m7 + m11, s13 = m7 - m11 - m15
        store(s00 + s01 + s02, r0.even + tx)
        store(s01 - s02 - s03, r0.odd + tx)
        store(s10 + s11 + s12, r1.even + tx)
        store(s11 - s12 - s13, r1.odd + tx)
    }
}
