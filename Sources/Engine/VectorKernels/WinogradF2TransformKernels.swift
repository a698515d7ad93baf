/// The input and output transforms of Winograd's F(2×2, 3×3) (Lavin & Gray 2016): a 2×2 output
/// tile from a 4×4 input patch `d`, `Y = Aᵀ [Σ_c (G g Gᵀ) ⊙ (Bᵀ d B)] A`. Each padded input row
/// is split into its even and odd columns, so that every tile's four columns are contiguous
/// vectors over tiles.
extension WinogradTransformKernels {
    /// `V[ξ][c][firstTile + (ty − lower)·Tw + tx] = (Bᵀ d B)[ξ]`, 16 positions `inputs·tiles`
    /// apart, for tile rows `tileRows` of one item (`C` planes of `H×W` at `x`) and channels
    /// `channels`. Per channel and tile row: the input rows under the tile row, zero-padded, are
    /// combined by `Bᵀ` along whole rows, then `B` is applied along columns. `rows` holds 16 half
    /// rows of ``halfRowLength(tileColumns:)``.
    ///
    ///     Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
    @inlinable @inline(__always)
    public static func inputF2(_ x: UnsafePointer<Float>, channels: Range<Int>, geometry g: WinogradTileGeometry,
                               inputs: Int, tileRows: Range<Int>, firstTile: Int, tiles: Int,
                               into v: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
        let tileColumns = g.tileColumns, length = halfRowLength(tileColumns: tileColumns)
        let positionStride = inputs * tiles
        // Half rows: d (padded input rows) then t (Bᵀ d), even columns then odd, `length` apart.
        func half(_ index: Int) -> UnsafeMutablePointer<Float> { rows + index * length }
        for c in channels {
            let plane = x + c * g.inputHeight * g.inputWidth
            for ty in tileRows {
                loadPaddedRows(plane, geometry: g, tileRow: ty, phaseLength: length, into: rows)
                // Bᵀ along rows (t0 = d0 − d2, t1 = d1 + d2, t2 = d2 − d1, t3 = d1 − d3), 16 columns at a time.
                for i in stride(from: 0, to: 2 * length, by: 16) {
                    let d0 = load(SIMD16<Float>.self, half(0) + i), d1 = load(SIMD16<Float>.self, half(2) + i)
                    let d2 = load(SIMD16<Float>.self, half(4) + i), d3 = load(SIMD16<Float>.self, half(6) + i)
                    store(d0 - d2, half(8) + i)
                    store(d1 + d2, half(10) + i)
                    store(d2 - d1, half(12) + i)
                    store(d1 - d3, half(14) + i)
                }
                let base = v + c * tiles + firstTile + (ty - tileRows.lowerBound) * tileColumns
                for i in 0..<4 {
                    transformColumnsF2(even: half(8 + 2 * i), odd: half(9 + 2 * i), into: base + 4 * i * positionStride,
                                       positionStride: positionStride, tileColumns: tileColumns)
                }
            }
        }
    }

    /// `B` along one row `t` of `Bᵀ d`, given as its even and odd columns: tile `tx` reads
    /// `t[2tx …+3]` = `even[tx], odd[tx], even[tx+1], odd[tx+1]` and writes positions `ξ … ξ+3`
    /// (`positionStride` apart) at column `tx`; 16, 8 or 4 tiles at a time, then one by one.
    @inlinable @inline(__always)
    static func transformColumnsF2(even: UnsafePointer<Float>, odd: UnsafePointer<Float>,
                                   into o0: UnsafeMutablePointer<Float>, positionStride: Int, tileColumns: Int) {
        var tx = 0
        while tx + 16 <= tileColumns { transformColumnsF2(SIMD16<Float>.self, even, odd, o0, positionStride, tx); tx += 16 }
        while tx + 8 <= tileColumns { transformColumnsF2(SIMD8<Float>.self, even, odd, o0, positionStride, tx); tx += 8 }
        while tx + 4 <= tileColumns { transformColumnsF2(SIMD4<Float>.self, even, odd, o0, positionStride, tx); tx += 4 }
        while tx < tileColumns {
            let a = even[tx], b = odd[tx], e = even[tx + 1], f = odd[tx + 1], o = o0 + tx
            o[0] = a - e
            o[positionStride] = b + e
            o[2 * positionStride] = e - b
            o[3 * positionStride] = b - f
            tx += 1
        }
    }

    @inlinable @inline(__always)
    static func transformColumnsF2<S: SIMD>(_: S.Type, _ even: UnsafePointer<Float>, _ odd: UnsafePointer<Float>,
                                            _ o0: UnsafeMutablePointer<Float>, _ positionStride: Int, _ tx: Int)
        where S.Scalar == Float {
        let a = load(S.self, even + tx), b = load(S.self, odd + tx)
        let e = load(S.self, even + tx + 1), f = load(S.self, odd + tx + 1)
        let o = o0 + tx
        store(a - e, o)
        store(b + e, o + positionStride)
        store(e - b, o + 2 * positionStride)
        store(b - f, o + 3 * positionStride)
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
