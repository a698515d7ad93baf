/// The input and output transforms of Winograd's F(4×4, 3×3) (Lavin & Gray 2016): a 4×4 output
/// tile from a 6×6 input patch `d`. Tile `(ty, tx)` covers output rows `4ty …+3`, columns
/// `4tx …+3`, and reads input rows `4ty − padTop …+5`, columns `4tx − padLeft …+5`. Each padded
/// row is split into its 4 column phases (`x mod 4`), so tile `tx` reads phases 0–3 at `tx` and
/// phases 0–1 at `tx + 1`: contiguous vectors over tiles.
extension WinogradTransformKernels {
    /// `V[ξ][c][firstTile + (ty − lower)·Tw + tx] = (Bᵀ d B)[ξ]`, 36 positions `inputs·tiles`
    /// apart, for tile rows `tileRows` of one item and channels `channels`: per channel and tile
    /// row, the 6 padded input rows are split into phases, combined by `Bᵀ` along whole rows,
    /// then `B` is applied along columns. `rows` holds 48 quarter rows of
    /// ``quarterRowLength(tileColumns:)``.
    ///
    ///     Bᵀ = [4  0 −5  0 1 0;
    ///           0 −4 −4  1 1 0;
    ///           0  4 −4 −1 1 0;
    ///           0 −2 −1  2 1 0;
    ///           0  2 −1 −2 1 0;
    ///           0  4  0 −5 0 1]
    @inlinable @inline(__always)
    public static func inputF4(_ x: UnsafePointer<Float>, channels: Range<Int>, geometry g: WinogradTileGeometry,
                               inputs: Int, tileRows: Range<Int>, firstTile: Int, tiles: Int,
                               into v: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
        let tileColumns = g.tileColumns
        let length = quarterRowLength(tileColumns: tileColumns), rowLength = 4 * length
        let positionStride = inputs * tiles
        // Rows d0…d5 (padded input), then t0…t5 (Bᵀ d), each 4 phases of `length`.
        func row(_ index: Int) -> UnsafeMutablePointer<Float> { rows + index * rowLength }
        for c in channels {
            let plane = x + c * g.inputHeight * g.inputWidth
            for ty in tileRows {
                loadPaddedRows(plane, geometry: g, tileRow: ty, phaseLength: length, into: rows)
                for i in stride(from: 0, to: rowLength, by: 16) {
                    let d0 = load(SIMD16<Float>.self, row(0) + i), d1 = load(SIMD16<Float>.self, row(1) + i)
                    let d2 = load(SIMD16<Float>.self, row(2) + i), d3 = load(SIMD16<Float>.self, row(3) + i)
                    let d4 = load(SIMD16<Float>.self, row(4) + i), d5 = load(SIMD16<Float>.self, row(5) + i)
                    let (t0, t1, t2, t3, t4, t5) = inputTransformF4(d0, d1, d2, d3, d4, d5)
                    store(t0, row(6) + i)
                    store(t1, row(7) + i)
                    store(t2, row(8) + i)
                    store(t3, row(9) + i)
                    store(t4, row(10) + i)
                    store(t5, row(11) + i)
                }
                let base = v + c * tiles + firstTile + (ty - tileRows.lowerBound) * tileColumns
                for i in 0..<6 {
                    transformColumnsF4(row(6 + i), length: length, into: base + 6 * i * positionStride,
                                       positionStride: positionStride, tileColumns: tileColumns)
                }
            }
        }
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
    @inlinable @inline(__always)
    static func transformColumnsF4(_ phases: UnsafePointer<Float>, length: Int, into o0: UnsafeMutablePointer<Float>,
                                   positionStride: Int, tileColumns: Int) {
        var tx = 0
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
    /// runs over all the segment's tiles at once into `pixels` (pixel `(i, j)` of tile `t` at
    /// `(4i + j)·count + t`; 16 floats per tile), then each tile row's 4 output rows are
    /// interleaved from it.
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
                    interleavePhases(pixels + 4 * i * count + first, length: count, width: width, bias: b,
                                     accumulate: accumulate, into: destination)
                    if !accumulate { apply(activation, destination, count: width) }
                }
            }
        }
    }

    /// `Aᵀ m A` for `S.scalarCount` tiles from tile `t` (one with `single`): pixel `(i, j)` of
    /// tile `t` goes to `pixels[(4i + j)·length + t]`.
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
                store(y0, pixels + (4 * i) * length + t, single: single)
                store(y1, pixels + (4 * i + 1) * length + t, single: single)
                store(y2, pixels + (4 * i + 2) * length + t, single: single)
                store(y3, pixels + (4 * i + 3) * length + t, single: single)
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

    /// One output row from its 4 phases (`phases + j·length`, column `4t + j` at `t`), plus
    /// `bias`, written or added onto `destination` (`width` pixels); 32 pixels at a time inside.
    @inlinable @inline(__always)
    static func interleavePhases(_ phases: UnsafePointer<Float>, length: Int, width: Int, bias: Float, accumulate: Bool,
                                 into destination: UnsafeMutablePointer<Float>) {
        var x = 0
        let shift = SIMD16<Float>(repeating: bias)
        while x + 32 <= width {
            let t = x / 4
            var even = SIMD16<Float>(), odd = SIMD16<Float>()
            even.evenHalf = load(SIMD8<Float>.self, phases + t)
            even.oddHalf = load(SIMD8<Float>.self, phases + 2 * length + t)
            odd.evenHalf = load(SIMD8<Float>.self, phases + length + t)
            odd.oddHalf = load(SIMD8<Float>.self, phases + 3 * length + t)
            var low = SIMD16<Float>(), high = SIMD16<Float>()
            low.evenHalf = even.lowHalf
            low.oddHalf = odd.lowHalf
            high.evenHalf = even.highHalf
            high.oddHalf = odd.highHalf
            if accumulate {
                store(load(SIMD16<Float>.self, destination + x) + low, destination + x)
                store(load(SIMD16<Float>.self, destination + x + 16) + high, destination + x + 16)
            } else {
                store(low + shift, destination + x)
                store(high + shift, destination + x + 16)
            }
            x += 32
        }
        if x + 16 <= width {
            let t = x / 4
            var even = SIMD8<Float>(), odd = SIMD8<Float>(), row = SIMD16<Float>()
            even.evenHalf = load(SIMD4<Float>.self, phases + t)
            even.oddHalf = load(SIMD4<Float>.self, phases + 2 * length + t)
            odd.evenHalf = load(SIMD4<Float>.self, phases + length + t)
            odd.oddHalf = load(SIMD4<Float>.self, phases + 3 * length + t)
            row.evenHalf = even
            row.oddHalf = odd
            if accumulate {
                store(load(SIMD16<Float>.self, destination + x) + row, destination + x)
            } else {
                store(row + shift, destination + x)
            }
            x += 16
        }
        while x < width {
            let value = phases[(x % 4) * length + x / 4]
            destination[x] = accumulate ? destination[x] + value : value + bias
            x += 1
        }
    }
}
