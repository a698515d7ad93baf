import CPrefetch
/// The input and output transforms of Winograd's F(4×4, 3×3) (Lavin & Gray 2016): a 4×4 output
/// tile from a 6×6 input patch `d`. Tile `(ty, tx)` covers output rows `4ty …+3`, columns
/// `4tx …+3`, and reads input rows `4ty − padTop …+5`, columns `4tx − padLeft …+5`. Each padded
/// row is split into its 4 column phases (`x mod 4`), so tile `tx` reads phases 0–3 at `tx` and
/// phases 0–1 at `tx + 1`: contiguous vectors over tiles.
extension WinogradTransformKernels {
    /// `V[ξ][c][firstTile + (ty − lower)·Tw + tx] = (Bᵀ d B)[ξ]`, 36 positions `inputs·tiles`
    /// apart, for tile rows `tileRows` of one item and channels `channels`: per channel, each
    /// padded input row is split once into phases (a ring of six: a tile row reads the two its
    /// predecessor read and four new ones), each tile row's six are combined by `Bᵀ` along whole
    /// rows, then `B` is applied along columns. `rows` holds ``inputF4ScratchCount(tileColumns:)``
    /// floats.
    ///
    ///     Bᵀ = [4  0 −5  0 1 0;
    ///           0 −4 −4  1 1 0;
    ///           0  4 −4 −1 1 0;
    ///           0 −2 −1  2 1 0;
    ///           0  2 −1 −2 1 0;
    ///           0  4  0 −5 0 1]
    ///
    /// A row is copied into a zero-padded staging row first, so that it splits into phases by
    /// whole vectors; and every tile row but the last few writes its tiles 8 at a time, the last
    /// vector running on into the next tile row's positions, which that row then writes. Zeroing
    /// and splitting six rows per tile row, their ends column by column, and a row's last tiles
    /// one by one, the transform took 0.26 of the products' `perf` samples in resnet18's Jacobian
    /// VJPs; this way, 0.21.
    @inlinable @inline(__always)
    public static func inputF4(_ x: UnsafePointer<Float>, channels: Range<Int>, geometry g: WinogradTileGeometry,
                               inputs: Int, tileRows: Range<Int>, firstTile: Int, tiles: Int,
                               into v: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
        let tileColumns = g.tileColumns
        let length = quarterRowLength(tileColumns: tileColumns), rowLength = 4 * length
        let positionStride = inputs * tiles
        // Rows 0…5: padded row p in row p mod 6; 6…11: t0…t5 (Bᵀ d); 12: the staging row. Each
        // 4 phases of `length`.
        func row(_ index: Int) -> UnsafeMutablePointer<Float> { rows + index * rowLength }
        let staging = row(12)
        staging.update(repeating: 0, count: rowLength)
        for c in channels {
            let plane = x + c * g.inputHeight * g.inputWidth
            for ty in tileRows {
                for r in (ty == tileRows.lowerBound ? 0 : 2)..<6 {
                    loadPaddedRowF4(plane, geometry: g, paddedRow: 4 * ty + r, phaseLength: length, staging: staging,
                                    into: row((4 * ty + r) % 6))
                }
                let first = 4 * ty
                let r0 = row(first % 6), r1 = row((first + 1) % 6), r2 = row((first + 2) % 6)
                let r3 = row((first + 3) % 6), r4 = row((first + 4) % 6), r5 = row((first + 5) % 6)
                for i in stride(from: 0, to: rowLength, by: 16) {
                    let d0 = load(SIMD16<Float>.self, r0 + i), d1 = load(SIMD16<Float>.self, r1 + i)
                    let d2 = load(SIMD16<Float>.self, r2 + i), d3 = load(SIMD16<Float>.self, r3 + i)
                    let d4 = load(SIMD16<Float>.self, r4 + i), d5 = load(SIMD16<Float>.self, r5 + i)
                    let (t0, t1, t2, t3, t4, t5) = inputTransformF4(d0, d1, d2, d3, d4, d5)
                    store(t0, row(6) + i)
                    store(t1, row(7) + i)
                    store(t2, row(8) + i)
                    store(t3, row(9) + i)
                    store(t4, row(10) + i)
                    store(t5, row(11) + i)
                }
                let base = v + c * tiles + firstTile + (ty - tileRows.lowerBound) * tileColumns
                // The 36 position streams' next lines, to be written by the next tile rows: more
                // streams than the hardware prefetchers follow. (A hint: past the end it does
                // nothing.) In resnet18's Jacobian (2 threads, `perf`), this transform's samples
                // against the product kernel's: 0.119–0.124 → 0.104–0.115 (2 runs before, 4
                // after); in a model of 128-channel 28×28 layers (1 thread) 0.251–0.268 →
                // 0.172–0.201 (2 runs before, 6 after).
                for position in 0..<36 { saliencyd_prefetch_write(base + position * positionStride + 16) }
                // This channel's later tile rows in the call cover what a last 8-tile vector runs into.
                let runsOn = (tileRows.upperBound - ty - 1) * tileColumns >= 7
                for i in 0..<6 {
                    transformColumnsF4(row(6 + i), length: length, into: base + 6 * i * positionStride,
                                       positionStride: positionStride, tileColumns: tileColumns, runsOn: runsOn)
                }
            }
        }
    }

    /// Floats of `rows` scratch ``inputF4(_:channels:geometry:inputs:tileRows:firstTile:tiles:into:rows:)``
    /// needs for maps of `tileColumns` tile columns: 13 rows of 4 phases.
    public static func inputF4ScratchCount(tileColumns: Int) -> Int { 52 * quarterRowLength(tileColumns: tileColumns) }

    /// Padded row `paddedRow` (from the top of the padding) of one plane for F(4×4), split into 4
    /// column phases at `row` (`length` apart): copied into `staging` (a padded row whose
    /// columns outside `padLeft ..< padLeft + W` hold zeros) and split from there by whole
    /// vectors; rows outside the plane all zeros.
    @inlinable @inline(__always)
    static func loadPaddedRowF4(_ plane: UnsafePointer<Float>, geometry g: WinogradTileGeometry, paddedRow: Int,
                                phaseLength length: Int, staging: UnsafeMutablePointer<Float>,
                                into row: UnsafeMutablePointer<Float>) {
        let columns = g.pixelColumns
        guard let y = g.planeRow(paddedRow), !columns.isEmpty else {
            row.update(repeating: 0, count: 4 * length)
            return
        }
        copy(plane + y * g.inputWidth + columns.lowerBound - g.padLeft, count: columns.count, into: staging + columns.lowerBound)
        splitPhases(staging, columns: 0..<((g.paddedWidth + 15) / 16 * 16), into: row, length: length)
    }

    /// `Bᵀ` applied to six values (rows or columns of a patch).
    @inlinable @inline(__always)
    public static func inputTransformF4<S: SIMD>(_ d0: S, _ d1: S, _ d2: S, _ d3: S, _ d4: S, _ d5: S)
        -> (S, S, S, S, S, S) where S.Scalar == Float {
        let four = S(repeating: 4), five = S(repeating: 5), two = S(repeating: 2)
        let a = d4 - d2 * four, b = d3 - d1 * four      // t1 = a + b, t2 = a − b
        let c = d4 - d2, e = (d3 - d1) * two            // t3 = c + e, t4 = c − e
        return (d0 * four - d2 * five + d4, a + b, a - b, c + e, c - e, d1 * four - d3 * five + d5)
    }

    /// `B` along one row of `Bᵀ d` (given as its 4 phases): tile `tx` reads phases 0–3 at `tx`
    /// and 0–1 at `tx + 1`, and writes positions `ξ … ξ+5` (`positionStride` apart) at column `tx`.
    /// With `runsOn`, all 8 tiles at a time, the last vector writing past the row's last tile.
    @inlinable @inline(__always)
    static func transformColumnsF4(_ phases: UnsafePointer<Float>, length: Int, into o0: UnsafeMutablePointer<Float>,
                                   positionStride: Int, tileColumns: Int, runsOn: Bool) {
        var tx = 0
        if runsOn {
            while tx < tileColumns { transformColumnsF4(SIMD8<Float>.self, phases, length, o0, positionStride, tx); tx += 8 }
            return
        }
        while tx + 8 <= tileColumns { transformColumnsF4(SIMD8<Float>.self, phases, length, o0, positionStride, tx); tx += 8 }
        while tx + 4 <= tileColumns { transformColumnsF4(SIMD4<Float>.self, phases, length, o0, positionStride, tx); tx += 4 }
        while tx < tileColumns {
            transformColumnsF4(SIMD4<Float>.self, phases, length, o0, positionStride, tx, single: true)
            tx += 1
        }
    }

    @inlinable @inline(__always)
    static func transformColumnsF4<S: SIMD>(_: S.Type, _ phases: UnsafePointer<Float>, _ length: Int,
                                            _ o0: UnsafeMutablePointer<Float>, _ positionStride: Int, _ tx: Int,
                                            single: Bool = false) where S.Scalar == Float {
        let e0 = load(S.self, phases + tx, single: single), e1 = load(S.self, phases + length + tx, single: single)
        let e2 = load(S.self, phases + 2 * length + tx, single: single)
        let e3 = load(S.self, phases + 3 * length + tx, single: single)
        let e4 = load(S.self, phases + tx + 1, single: single), e5 = load(S.self, phases + length + tx + 1, single: single)
        let (u0, u1, u2, u3, u4, u5) = inputTransformF4(e0, e1, e2, e3, e4, e5)
        let o = o0 + tx
        store(u0, o, single: single)
        store(u1, o + positionStride, single: single)
        store(u2, o + 2 * positionStride, single: single)
        store(u3, o + 3 * positionStride, single: single)
        store(u4, o + 4 * positionStride, single: single)
        store(u5, o + 5 * positionStride, single: single)
    }

    /// `Y[k, 4ty + i, 4tx + j] (+)= (Aᵀ M A)[i][j]` for tile rows `tileRows` of one item and
    /// output channels `channels`, with bias and activation when writing. Per channel, `Aᵀ M A`
    /// runs over all the segment's tiles at once into `pixels`, 8 tiles at a time, whose four
    /// pixels of a row are interleaved in registers (pixel `(i, j)` of tile `t` at
    /// `i·4·count + 4t + j`; 16 floats per tile), then each tile row's 4 output rows are copied
    /// from it. Interleaving from memory instead (four phases per row, `evenHalf` and `oddHalf`
    /// assigned from loads) compiled to gathers (`vgatherqps`), a fifth of the transform's time.
    ///
    ///     Aᵀ = [1 1  1 1  1 0;
    ///           0 1 −1 2 −2 0;
    ///           0 1  1 4  4 0;
    ///           0 1 −1 8 −8 1]
    @inlinable @inline(__always)
    public static func outputF4(_ m: UnsafePointer<Float>, channels: Range<Int>, geometry g: WinogradTileGeometry,
                                outputs: Int, tileRows: Range<Int>, firstTile: Int, tiles: Int,
                                into y: UnsafeMutablePointer<Float>, accumulate: Bool, bias: UnsafePointer<Float>?,
                                activation: WinogradOutputActivation, rows pixels: UnsafeMutablePointer<Float>) {
        let tileColumns = g.tileColumns, width = g.outputWidth
        let positionStride = outputs * tiles
        let count = tileRows.count * tileColumns
        for k in channels {
            let plane = y + k * g.outputHeight * width
            let b = bias?[k] ?? 0
            let base = m + k * tiles + firstTile
            var t = 0
            while t + 8 <= count {
                // The 36 position streams two lines ahead (as in `inputF4`): resnet18's Jacobian
                // (2 threads, `perf`), this transform's samples against the product kernel's
                // 0.085–0.093 → 0.078–0.083 (2 runs each); the 128-channel model 0.157–0.163 →
                // 0.134–0.142.
                for position in 0..<36 { saliencyd_prefetch_l1(base + position * positionStride + t + 32) }
                outputTilesF4(SIMD8<Float>.self, base, positionStride, t, pixels, count)
                t += 8
            }
            while t < count {
                outputTilesF4(SIMD4<Float>.self, base, positionStride, t, pixels, count, single: true)
                t += 1
            }
            for ty in tileRows {
                let first = (ty - tileRows.lowerBound) * tileColumns
                for i in 0..<min(4, g.outputHeight - 4 * ty) {
                    let destination = plane + (4 * ty + i) * width
                    writeRow(pixels + 4 * (i * count + first), width: width, bias: b, accumulate: accumulate,
                             into: destination)
                    if !accumulate { apply(activation, destination, count: width) }
                }
            }
        }
    }

    /// `Aᵀ m A` for `S.scalarCount` tiles from tile `t` (8, or one with `single`): pixel `(i, j)`
    /// of tile `t` goes to `pixels[i·4·length + 4t + j]`.
    @inlinable @inline(__always)
    static func outputTilesF4<S: SIMD>(_: S.Type, _ base: UnsafePointer<Float>, _ positionStride: Int, _ t: Int,
                                       _ pixels: UnsafeMutablePointer<Float>, _ length: Int, single: Bool = false)
        where S.Scalar == Float {
        // s = Aᵀ m (4×6), one column of m at a time.
        var s = (S(), S(), S(), S(), S(), S(), S(), S(), S(), S(), S(), S(),
                 S(), S(), S(), S(), S(), S(), S(), S(), S(), S(), S(), S())
        withUnsafeMutableBytes(of: &s) { raw in
            let s = raw.baseAddress!.assumingMemoryBound(to: S.self)
            for column in 0..<6 {
                let p = base + column * positionStride + t
                let m0 = load(S.self, p, single: single), m1 = load(S.self, p + 6 * positionStride, single: single)
                let m2 = load(S.self, p + 12 * positionStride, single: single)
                let m3 = load(S.self, p + 18 * positionStride, single: single)
                let m4 = load(S.self, p + 24 * positionStride, single: single)
                let m5 = load(S.self, p + 30 * positionStride, single: single)
                let (r0, r1, r2, r3) = outputTransformF4(m0, m1, m2, m3, m4, m5)
                s[column] = r0
                s[6 + column] = r1
                s[12 + column] = r2
                s[18 + column] = r3
            }
            // Y = s A (4×4).
            for i in 0..<4 {
                let (y0, y1, y2, y3) = outputTransformF4(s[6 * i], s[6 * i + 1], s[6 * i + 2], s[6 * i + 3],
                                                         s[6 * i + 4], s[6 * i + 5])
                let row = pixels + 4 * (i * length + t)
                if single {
                    store(SIMD4(y0[0], y1[0], y2[0], y3[0]), row)
                } else {
                    precondition(S.scalarCount == 8, "8 tiles at a time")
                    store(interleaved(unsafeBitCast(y0, to: SIMD8<Float>.self), unsafeBitCast(y1, to: SIMD8<Float>.self),
                                      unsafeBitCast(y2, to: SIMD8<Float>.self), unsafeBitCast(y3, to: SIMD8<Float>.self)),
                          row)
                }
            }
        }
    }

    /// `Aᵀ` applied to six values.
    @inlinable @inline(__always)
    public static func outputTransformF4<S: SIMD>(_ m0: S, _ m1: S, _ m2: S, _ m3: S, _ m4: S, _ m5: S)
        -> (S, S, S, S) where S.Scalar == Float {
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
        let two = S(repeating: 2), four = S(repeating: 4), eight = S(repeating: 8)
        return (m0 + a + c, b + d * two, a + c * four, b + d * eight + m5)
    }

    /// The four pixels of a row of 8 tiles, pixel `j` of tile `t` at `4t + j`: `y0`…`y3` are
    /// pixels 0…3 of each tile.
    @inlinable @inline(__always)
    static func interleaved(_ y0: SIMD8<Float>, _ y1: SIMD8<Float>, _ y2: SIMD8<Float>, _ y3: SIMD8<Float>) -> SIMD32<Float> {
        var first = SIMD16<Float>(), second = SIMD16<Float>(), row = SIMD32<Float>()
        first.evenHalf = y0
        first.oddHalf = y2
        second.evenHalf = y1
        second.oddHalf = y3
        row.evenHalf = first
        row.oddHalf = second
        return row
    }

    /// `width` pixels of an output row from `source`, plus `bias`, written or added onto
    /// `destination`; 16 at a time, then one by one.
    @inlinable @inline(__always)
    static func writeRow(_ source: UnsafePointer<Float>, width: Int, bias: Float, accumulate: Bool,
                         into destination: UnsafeMutablePointer<Float>) {
        var x = 0
        let shift = SIMD16<Float>(repeating: bias)
        while x + 16 <= width {
            let row = load(SIMD16<Float>.self, source + x)
            store(accumulate ? load(SIMD16<Float>.self, destination + x) + row : row + shift, destination + x)
            x += 16
        }
        while x < width {
            destination[x] = accumulate ? destination[x] + source[x] : source[x] + bias
            x += 1
        }
    }
}
