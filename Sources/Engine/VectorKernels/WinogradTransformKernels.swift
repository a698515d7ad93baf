// The input and output transforms of the engine's Winograd convolutions (`WinogradConvolution`),
// `@inlinable`, so that each kernel target (`AVX512WinogradTransforms`, `AVX2WinogradTransforms`)
// compiles them for its own instruction set, and their portable build
// (`PortableWinogradTransforms`). Built for baseline x86-64 inside the engine, their 16-float
// vectors were four SSE operations each: resnet18's transforms took 12 % of a gradient pass.

/// Where one correlation's tiles sit: an `H×W` input plane, an `Ho×Wo` output plane, the
/// padding before the first row and column, and `m×m` output tiles (`m` = 2 or 4).
public struct WinogradTileGeometry: Sendable {
    public var inputHeight: Int, inputWidth: Int
    public var outputHeight: Int, outputWidth: Int
    public var padTop: Int, padLeft: Int
    /// `m`, output pixels per tile side.
    public var tileSize: Int
    public var tileRows: Int { (outputHeight + tileSize - 1) / tileSize }
    public var tileColumns: Int { (outputWidth + tileSize - 1) / tileSize }

    public init(inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int, padTop: Int, padLeft: Int,
                tileSize: Int) {
        (self.inputHeight, self.inputWidth, self.outputHeight, self.outputWidth) = (inputHeight, inputWidth, outputHeight, outputWidth)
        (self.padTop, self.padLeft, self.tileSize) = (padTop, padLeft, tileSize)
    }
}

/// The activation an output transform applies to what it writes (the engine's
/// `FusedActivation`): `max(x, 0)`, or `min(max(x, a), b)`, as `Swift.max` and `Swift.min` take them.
public enum WinogradOutputActivation: Sendable, Equatable {
    case none
    case relu
    case clip(minimum: Float, maximum: Float)
}

/// One build's transforms, as `WinogradConvolution` calls them (each build's entry points have
/// these signatures).
public enum WinogradTransformKernels {
    /// The even (or odd) columns of a padded row for F(2×2), `tiles + 1`, rounded up to whole
    /// 16-float vectors.
    public static func halfRowLength(tileColumns: Int) -> Int { (tileColumns + 1 + 15) / 16 * 16 }

    /// The length of one column phase of a padded row for F(4×4): `tiles + 1`, rounded up to 16 floats.
    public static func quarterRowLength(tileColumns: Int) -> Int { (tileColumns + 1 + 15) / 16 * 16 }

    // MARK: F(2×2, 3×3)

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

    // MARK: F(4×4, 3×3)

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

    // MARK: Shared

    /// The `m + 2` zero-padded input rows under tile row `ty` of one plane (`m` the tile side),
    /// each split into `m` column phases (column `x` of the padded row in phase `x mod m` at
    /// `x / m`), phase `q` of row `r` at `rows + (r·m + q)·phaseLength`: the padded row is
    /// `m·Tw + 2` columns, of which `padLeft ..< padLeft + W` hold pixels.
    @inlinable @inline(__always)
    static func loadPaddedRows(_ plane: UnsafePointer<Float>, geometry g: WinogradTileGeometry, tileRow ty: Int,
                               phaseLength length: Int, into rows: UnsafeMutablePointer<Float>) {
        let m = g.tileSize, used = m * g.tileColumns + 2
        let lower = min(g.padLeft, used), upper = max(lower, min(used, g.inputWidth + g.padLeft))
        let top = m * ty - g.padTop
        for r in 0..<(m + 2) {
            let row = rows + r * m * length, y = top + r
            row.update(repeating: 0, count: m * length)
            guard y >= 0, y < g.inputHeight, lower < upper else { continue }
            let source = plane + y * g.inputWidth - g.padLeft
            if m == 2 {
                deinterleave(source, columns: lower..<upper, even: row, odd: row + length)
            } else {
                splitPhases(source, columns: lower..<upper, into: row, length: length)
            }
        }
    }

    /// `even[j] = source[2j]` and `odd[j] = source[2j + 1]` for the columns `2j`, `2j + 1` in
    /// `columns` (the others are left as they are); 8 pairs at a time where all are inside.
    @inlinable @inline(__always)
    static func deinterleave(_ source: UnsafePointer<Float>, columns: Range<Int>, even: UnsafeMutablePointer<Float>,
                             odd: UnsafeMutablePointer<Float>) {
        let lower = columns.lowerBound, upper = columns.upperBound
        // Whole pairs (2j, 2j + 1) inside: j in ⌈lower/2⌉ ..< ⌊upper/2⌋.
        let first = (lower + 1) / 2, end = max(first, upper / 2)
        if lower % 2 == 1 { odd[lower / 2] = source[lower] }
        var j = first
        while j + 8 <= end {
            let pairs = load(SIMD16<Float>.self, source + 2 * j)
            store(pairs.evenHalf, even + j)
            store(pairs.oddHalf, odd + j)
            j += 8
        }
        while j < end {
            even[j] = source[2 * j]
            odd[j] = source[2 * j + 1]
            j += 1
        }
        if upper % 2 == 1, upper - 1 >= lower { even[upper / 2] = source[upper - 1] }
    }

    /// `phases + q·length` gets the padded row's columns `x ≡ q (mod 4)` at `x / 4`, for the
    /// columns `x` in `columns` (the others are left as they are); 32 columns at a time inside.
    @inlinable @inline(__always)
    static func splitPhases(_ source: UnsafePointer<Float>, columns: Range<Int>, into phases: UnsafeMutablePointer<Float>,
                            length: Int) {
        var x = columns.lowerBound
        while x < columns.upperBound, x % 4 != 0 {
            phases[(x % 4) * length + x / 4] = source[x]
            x += 1
        }
        while x + 32 <= columns.upperBound {
            let a = load(SIMD16<Float>.self, source + x), b = load(SIMD16<Float>.self, source + x + 16)
            let even = SIMD16(lowHalf: a.evenHalf, highHalf: b.evenHalf)
            let odd = SIMD16(lowHalf: a.oddHalf, highHalf: b.oddHalf)
            let t = x / 4
            store(even.evenHalf, phases + t)
            store(odd.evenHalf, phases + length + t)
            store(even.oddHalf, phases + 2 * length + t)
            store(odd.oddHalf, phases + 3 * length + t)
            x += 32
        }
        if x + 16 <= columns.upperBound {
            let a = load(SIMD16<Float>.self, source + x)
            let even = a.evenHalf, odd = a.oddHalf, t = x / 4
            store(even.evenHalf, phases + t)
            store(odd.evenHalf, phases + length + t)
            store(even.oddHalf, phases + 2 * length + t)
            store(odd.oddHalf, phases + 3 * length + t)
            x += 16
        }
        while x < columns.upperBound {
            phases[(x % 4) * length + x / 4] = source[x]
            x += 1
        }
    }

    /// The activation over `count` written values in place (`.none`: nothing).
    @inlinable @inline(__always)
    static func apply(_ activation: WinogradOutputActivation, _ values: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .none: break
        case .relu: for i in 0..<count { values[i] = Swift.max(values[i], 0) }
        case let .clip(minimum, maximum):
            for i in 0..<count { values[i] = Swift.min(Swift.max(values[i], minimum), maximum) }
        }
    }

    @inlinable @inline(__always)
    static func load<S: SIMD>(_: S.Type, _ p: UnsafePointer<Float>) -> S where S.Scalar == Float {
        UnsafeRawPointer(p).loadUnaligned(as: S.self)
    }

    @inlinable @inline(__always)
    static func load<S: SIMD>(_: S.Type, _ p: UnsafeMutablePointer<Float>) -> S where S.Scalar == Float {
        UnsafeRawPointer(p).loadUnaligned(as: S.self)
    }

    /// A vector load, or (`single`, for a loop's scalar tail) one float in every lane.
    @inlinable @inline(__always)
    static func load<S: SIMD>(_: S.Type, _ p: UnsafePointer<Float>, single: Bool) -> S where S.Scalar == Float {
        single ? S(repeating: p.pointee) : load(S.self, p)
    }

    @inlinable @inline(__always)
    static func load<S: SIMD>(_: S.Type, _ p: UnsafeMutablePointer<Float>, single: Bool) -> S where S.Scalar == Float {
        load(S.self, UnsafePointer(p), single: single)
    }

    @inlinable @inline(__always)
    static func store<S: SIMD>(_ v: S, _ p: UnsafeMutablePointer<Float>) where S.Scalar == Float {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: S.self)
    }

    /// A vector store, or (`single`) lane 0 only.
    @inlinable @inline(__always)
    static func store<S: SIMD>(_ v: S, _ p: UnsafeMutablePointer<Float>, single: Bool) where S.Scalar == Float {
        if single { p.pointee = v[0] } else { store(v, p) }
    }
}

/// The transforms built for baseline x86-64 (or whatever this target is compiled for): the
/// engine's fallback when the CPU has neither AVX-512 nor AVX2.
public enum PortableWinogradTransforms {
    @inline(never)
    public static func inputF2(_ x: UnsafePointer<Float>, channels: Range<Int>, geometry: WinogradTileGeometry, inputs: Int,
                               tileRows: Range<Int>, firstTile: Int, tiles: Int, into v: UnsafeMutablePointer<Float>,
                               rows: UnsafeMutablePointer<Float>) {
        WinogradTransformKernels.inputF2(x, channels: channels, geometry: geometry, inputs: inputs, tileRows: tileRows,
                                         firstTile: firstTile, tiles: tiles, into: v, rows: rows)
    }

    @inline(never)
    public static func inputF4(_ x: UnsafePointer<Float>, channels: Range<Int>, geometry: WinogradTileGeometry, inputs: Int,
                               tileRows: Range<Int>, firstTile: Int, tiles: Int, into v: UnsafeMutablePointer<Float>,
                               rows: UnsafeMutablePointer<Float>) {
        WinogradTransformKernels.inputF4(x, channels: channels, geometry: geometry, inputs: inputs, tileRows: tileRows,
                                         firstTile: firstTile, tiles: tiles, into: v, rows: rows)
    }

    @inline(never)
    public static func outputF2(_ m: UnsafePointer<Float>, channels: Range<Int>, geometry: WinogradTileGeometry, outputs: Int,
                                tileRows: Range<Int>, firstTile: Int, tiles: Int, into y: UnsafeMutablePointer<Float>,
                                accumulate: Bool, bias: UnsafePointer<Float>?, activation: WinogradOutputActivation,
                                rows: UnsafeMutablePointer<Float>) {
        WinogradTransformKernels.outputF2(m, channels: channels, geometry: geometry, outputs: outputs, tileRows: tileRows,
                                          firstTile: firstTile, tiles: tiles, into: y, accumulate: accumulate, bias: bias,
                                          activation: activation, rows: rows)
    }

    @inline(never)
    public static func outputF4(_ m: UnsafePointer<Float>, channels: Range<Int>, geometry: WinogradTileGeometry, outputs: Int,
                                tileRows: Range<Int>, firstTile: Int, tiles: Int, into y: UnsafeMutablePointer<Float>,
                                accumulate: Bool, bias: UnsafePointer<Float>?, activation: WinogradOutputActivation,
                                rows: UnsafeMutablePointer<Float>) {
        WinogradTransformKernels.outputF4(m, channels: channels, geometry: geometry, outputs: outputs, tileRows: tileRows,
                                          firstTile: firstTile, tiles: tiles, into: y, accumulate: accumulate, bias: bias,
                                          activation: activation, rows: rows)
    }
}
