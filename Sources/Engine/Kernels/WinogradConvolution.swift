/// A 3×3, stride-1 correlation by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast
/// Algorithms for Convolutional Neural Networks", 2016): each 2×2 output tile is
///
///     Y = Aᵀ [ Σ_c (G g_{k,c} Gᵀ) ⊙ (Bᵀ d_c B) ] A
///
/// with `d_c` the 4×4 input patch of channel `c` under the tile and `g_{k,c}` the 3×3 kernel.
/// The sum over channels at each of the 16 transform positions `ξ` is a GEMM
/// `M_ξ (K × P) = U_ξ (K × C) · V_ξ (C × P)` over `P` tiles, so a convolution costs 16 GEMMs of
/// depth `C` instead of one of depth `9·C`: 4/9 of the direct method's multiply-adds (2.25×
/// fewer), plus the input and output transforms, which are additions only.
///
///     Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
///     G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
///     Aᵀ = [1 1 1 0; 0 1 −1 −1]
///
/// Used for a convolution's forward pass and, with the kernel flipped and its channel axes
/// swapped, for its VJP (a stride-1 convolution's input gradient is the correlation of `dY`
/// with the transposed kernel padded by `2 − pad`).
///
/// The same with 4×4 output tiles, F(4×4, 3×3): 36 positions over 6×6 patches, 1/4 of the
/// direct method's multiply-adds; its transforms are in `WinogradF4Transforms.swift`
/// (``WinogradVariant``).
///
/// Layouts: the input is `C` planes of `H×W` per item, the output `K` planes of `Ho×Wo`; with
/// 2×2 tiles the output tile `(ty, tx)` covers output rows `2ty, 2ty+1` and columns `2tx, 2tx+1`
/// and reads input rows `2ty − padTop …+3` and columns `2tx − padLeft …+3` (zeros outside).
/// Within a block of `P` tiles, `V` is `positions×C×P` (`V[ξ][c][p]`) and `M` is `positions×K×P`.
struct WinogradConvolution: Sendable {
    let variant: WinogradVariant
    /// `U[ξ][k][c] = (G g_{k,c} Gᵀ)[ξ]`, `positions×K×C`; for a VJP that reads its forward's
    /// weights (``readsForwardWeights``), the forward's `U`, `positions×C×K`. Empty once
    /// ``droppingUnpackedWeights()`` has left only ``packedWeights``.
    private(set) var weights: [Float]
    /// `C`: channels read.
    let inputs: Int
    /// `K`: channels written.
    let outputs: Int
    /// `true` for an F(2×2, 3×3) VJP built by ``init(inputGradientSharing:)``: `weights` is the
    /// forward's array (the same storage, not a copy) and `U'_ξ` is read as `U_{mirrored(ξ)}ᵀ`.
    let readsForwardWeights: Bool
    /// `U'_ξ` (`outputs×inputs`, as ``multiply(_:_:_:positions:tiles:)`` reads it) for each
    /// position, packed once for the AVX-512 or AVX2 kernels' products; empty with OpenBLAS.
    let packedWeights: [PackedGEMMOperand]

    /// This convolution without the plain `weights` when the packed ones serve every product (the
    /// packed kernels then run even while OpenBLAS threads its calls), so that a model holds one
    /// copy of its transformed weights, not two. A forward whose weights an F(2×2) VJP is still to
    /// share (``init(inputGradientSharing:)``) must keep them until that VJP is built.
    func droppingUnpackedWeights() -> WinogradConvolution {
        guard !packedWeights.isEmpty else { return self }
        var result = self
        result.weights = []
        return result
    }

    /// The transform of the 3×3 kernels `kernel(k, c, tap)` (taps row-major) for `K` outputs and
    /// `C` inputs. Computed in double precision, rounded once.
    private init(_ variant: WinogradVariant, outputs: Int, inputs: Int, kernel: (Int, Int, Int) -> Float) {
        let n = variant.inputSize, positions = variant.positions
        let transform = variant.kernelTransform
        var u = [Float](repeating: 0, count: positions * outputs * inputs)
        var gg = [Double](repeating: 0, count: 3 * n), taps = [Double](repeating: 0, count: 9)
        for k in 0..<outputs {
            for c in 0..<inputs {
                for tap in 0..<9 { taps[tap] = Double(kernel(k, c, tap)) }
                // G g (n×3), then (G g) Gᵀ (n×n).
                for a in 0..<n {
                    for j in 0..<3 {
                        gg[3 * a + j] = transform[3 * a] * taps[j] + transform[3 * a + 1] * taps[3 + j]
                            + transform[3 * a + 2] * taps[6 + j]
                    }
                }
                for a in 0..<n {
                    for b in 0..<n {
                        let value = gg[3 * a] * transform[3 * b] + gg[3 * a + 1] * transform[3 * b + 1]
                            + gg[3 * a + 2] * transform[3 * b + 2]
                        u[((n * a + b) * outputs + k) * inputs + c] = Float(value)
                    }
                }
            }
        }
        self.variant = variant
        weights = u
        self.inputs = inputs
        self.outputs = outputs
        readsForwardWeights = false
        packedWeights = Self.pack(u, positions: positions, outputs: outputs, inputs: inputs, readsForwardWeights: false)
    }

    /// Each position's `U'_ξ` of `u` packed for the selected kernels, or none.
    private static func pack(_ u: [Float], positions: Int, outputs: Int, inputs: Int,
                             readsForwardWeights: Bool) -> [PackedGEMMOperand] {
        u.withUnsafeBufferPointer { u in
            var packed: [PackedGEMMOperand] = []
            for position in 0..<positions {
                let stored = readsForwardWeights ? mirrored(position: position) : position
                guard let operand = PackedGEMMOperand(
                    transposeA: readsForwardWeights, m: outputs, k: inputs, a: u.baseAddress! + stored * outputs * inputs,
                    lda: readsForwardWeights ? outputs : inputs) else { return [] }
                packed.append(operand)
            }
            return packed
        }
    }

    /// For the forward pass of a convolution with weights `K×C×3×3`.
    init(forward weights: Tensor, variant: WinogradVariant) {
        let channels = weights.shape[1]
        self.init(variant, outputs: weights.shape[0], inputs: channels) { k, c, tap in
            weights.values[(k * channels + c) * 9 + tap]
        }
    }

    /// For the VJP of a convolution with weights `K×C×3×3`: `C` outputs, `K` inputs, kernel
    /// `g'[c][k][i][j] = W[k][c][2−i][2−j]`.
    init(inputGradientOf weights: Tensor, variant: WinogradVariant) {
        let channels = weights.shape[1]
        self.init(variant, outputs: channels, inputs: weights.shape[0]) { c, k, tap in
            weights.values[(k * channels + c) * 9 + 8 - tap]
        }
    }

    /// For the VJP of a convolution whose forward runs by F(2×2, 3×3), reading the forward's
    /// transformed weights instead of holding its own. The VJP's kernel is the forward's turned by
    /// 180° (`g' = J g J`, `J` the 3×3 reversal) with its channel axes swapped, and `G J = P G`
    /// for the permutation `P` that swaps rows 0 and 3 of `G` (rows 1 and 2 of `G` are
    /// palindromes; F(2×2, 3×3)'s points 0, 1, −1, ∞ map onto themselves under `x → 1/x`). So
    /// `G g' Gᵀ = P (G g Gᵀ) Pᵀ`: `U'_{(a,b)}[c][k] = U_{(P a, P b)}[k][c]`, the forward's
    /// matrix at the mirrored position, transposed — which the GEMM reads as it is (transposed `A`).
    /// (F(4×4, 3×3)'s points 0, ±1, ±2, ∞ are not closed under `x → 1/x`; its VJP has its own.)
    init(inputGradientSharing forward: WinogradConvolution) {
        precondition(forward.variant == .f2x2 && !forward.readsForwardWeights,
                     "only an F(2×2, 3×3) forward's weights serve its VJP")
        precondition(!forward.weights.isEmpty, "the forward's plain weights were dropped before its VJP shared them")
        variant = .f2x2
        weights = forward.weights
        inputs = forward.outputs
        outputs = forward.inputs
        readsForwardWeights = true
        packedWeights = Self.pack(forward.weights, positions: forward.variant.positions, outputs: forward.inputs,
                                  inputs: forward.outputs, readsForwardWeights: true)
    }

    /// The forward position `(P a, P b)` that holds VJP position `ξ = 4a + b`'s matrix
    /// (``init(inputGradientSharing:)``).
    static func mirrored(position: Int) -> Int {
        func swapEnds(_ index: Int) -> Int { index == 0 ? 3 : index == 3 ? 0 : index }
        return 4 * swapEnds(position / 4) + swapEnds(position % 4)
    }

    /// `U_ξ[output][input]`, wherever it is stored (the plain weights, not dropped).
    func transformedWeight(position: Int, output: Int, input: Int) -> Float {
        precondition(!weights.isEmpty, "the plain transformed weights were dropped")
        return readsForwardWeights ? weights[(Self.mirrored(position: position) * inputs + input) * outputs + output]
            : weights[(position * outputs + output) * inputs + input]
    }

    /// Target tiles per block for `C` inputs and `K` outputs (`override` for tests): `V` and `M`
    /// of about 1 MiB (half a core's L2), but at least 128 tiles so that each `U_ξ` read from
    /// memory serves enough columns.
    static func targetTiles(inputs: Int, outputs: Int, override: Int? = nil) -> Int {
        if let override { return max(1, override) }
        return min(1024, max(128, (1 << 14) / max(inputs + outputs, 1)))
    }

    /// Floats of scratch one thread needs for an `Ho×Wo` output.
    static func scratchCount(_ variant: WinogradVariant, inputs: Int, outputs: Int, outputHeight: Int, outputWidth: Int,
                             override: Int? = nil) -> Int {
        let width = targetTiles(inputs: inputs, outputs: outputs, override: override)
        let tileColumns = variant.tiles(outputHeight: outputHeight, outputWidth: outputWidth).columns
        return rowScratch(variant, tileColumns: tileColumns, blockTiles: ColumnBlocking.maximumColumns(width: width, gridWidth: tileColumns))
            + variant.positions * (inputs + outputs) * ColumnBlocking.maximumColumns(width: width, gridWidth: tileColumns)
    }

    /// Floats for one tile row's rows. F(2×2): on the input side the 4 padded input rows and
    /// their `Bᵀ` combinations, each split into even and odd columns (16 half rows of
    /// ``halfRowLength(tileColumns:)``); on the output side 2 output rows, split the same way.
    /// F(4×4): the 6 padded rows and their 6 `Bᵀ` combinations, each split into 4 column phases
    /// (48 quarter rows of ``quarterRowLength(tileColumns:)``); on the output side the 16 pixels
    /// of every tile of a block (`16×blockTiles`).
    private static func rowScratch(_ variant: WinogradVariant, tileColumns: Int, blockTiles: Int) -> Int {
        variant == .f2x2 ? 16 * halfRowLength(tileColumns: tileColumns)
            : max(48 * quarterRowLength(tileColumns: tileColumns), 16 * blockTiles)
    }

    /// The even (or odd) columns of a padded row, `tiles + 1`, rounded up to whole 16-float vectors.
    private static func halfRowLength(tileColumns: Int) -> Int { (tileColumns + 1 + 15) / 16 * 16 }

    /// The geometry of one correlation; ``run(items:geometry:input:output:accumulate:bias:activation:team:threads:scratch:scratchStride:widthOverride:)``
    /// sets the tile size.
    struct Geometry {
        var inputHeight: Int, inputWidth: Int
        var outputHeight: Int, outputWidth: Int
        var padTop: Int, padLeft: Int
        var tileSize = 2
        var tileRows: Int { (outputHeight + tileSize - 1) / tileSize }
        var tileColumns: Int { (outputWidth + tileSize - 1) / tileSize }
    }

    /// Runs the correlation for `items` items.
    ///
    /// - Parameters:
    ///   - input: item `i`'s `C` input planes.
    ///   - output: item `i`'s `K` output planes.
    ///   - accumulate: add onto the output instead of writing it.
    ///   - bias, activation: applied to each written output (forward; not with `accumulate`).
    ///   - scratch: `threads` slices of ``scratchCount(_:inputs:outputs:outputHeight:outputWidth:override:)``
    ///     floats, `scratchStride` apart.
    func run(items: Int, geometry g: Geometry, input: (Int) -> UnsafePointer<Float>,
             output: (Int) -> UnsafeMutablePointer<Float>, accumulate: Bool, bias: UnsafePointer<Float>?,
             activation: FusedActivation, team: ThreadTeam, threads: Int, scratch: UnsafeMutablePointer<Float>,
             scratchStride: Int, widthOverride: Int?) {
        var g = g
        g.tileSize = variant.outputSize
        let positions = variant.positions
        let width = Self.targetTiles(inputs: inputs, outputs: outputs, override: widthOverride)
        let plan = ColumnBlocking.Plan(items: items, gridHeight: g.tileRows, gridWidth: g.tileColumns, width: width)
        let rowScratch = Self.rowScratch(variant, tileColumns: g.tileColumns,
                                         blockTiles: ColumnBlocking.maximumColumns(width: width, gridWidth: g.tileColumns))
        weights.withUnsafeBufferPointer { u in
            // nil once only the packed weights are kept (an empty array's base address need not be).
            let u = u.isEmpty ? nil : u.baseAddress
            /// The block's segments: (item, tile rows, first tile column of the block).
            func segments(_ block: ColumnBlocking.Block, _ body: (Int, Range<Int>, Int) -> Void) {
                switch block {
                case let .band(item, rows): body(item, rows, 0)
                case let .items(range):
                    for (slot, item) in range.enumerated() {
                        body(item, 0..<g.tileRows, slot * g.tileRows * g.tileColumns)
                    }
                }
            }
            func tileCount(_ block: ColumnBlocking.Block) -> Int {
                switch block {
                case let .band(_, rows): rows.count * g.tileColumns
                case let .items(range): range.count * g.tileRows * g.tileColumns
                }
            }
            if threads <= 1 || plan.count >= 2 * threads {
                // Whole blocks per thread, each in its own scratch.
                team.forEach(items: plan.count, threads: threads) { index, thread in
                    let slice = scratch + thread * scratchStride
                    let block = plan[index], count = tileCount(block)
                    let v = slice + rowScratch, m = v + positions * inputs * count
                    segments(block) { item, rows, first in
                        transformInput(input(item), channels: 0..<inputs, geometry: g, tileRows: rows, firstTile: first,
                                       tiles: count, into: v, rows: slice)
                    }
                    multiply(u, v, m, positions: 0..<positions, tiles: count)
                    segments(block) { item, rows, first in
                        transformOutput(m, channels: 0..<outputs, geometry: g, tileRows: rows, firstTile: first,
                                        tiles: count, into: output(item), accumulate: accumulate, bias: bias,
                                        activation: activation, rows: slice)
                    }
                }
            } else {
                // Fewer blocks than threads: every stage of a block is shared by all threads.
                let v = scratch + rowScratch
                for index in 0..<plan.count {
                    let block = plan[index], count = tileCount(block)
                    let m = v + positions * inputs * count
                    let inputSlices = min(inputs, 4 * threads), outputSlices = min(outputs, 4 * threads)
                    team.forEach(items: inputSlices, threads: threads) { slice, thread in
                        let channels = (slice * inputs / inputSlices)..<((slice + 1) * inputs / inputSlices)
                        segments(block) { item, rows, first in
                            transformInput(input(item), channels: channels, geometry: g, tileRows: rows, firstTile: first,
                                           tiles: count, into: v, rows: scratch + thread * scratchStride)
                        }
                    }
                    team.forEach(items: positions, threads: threads) { position, _ in
                        multiply(u, v, m, positions: position..<(position + 1), tiles: count)
                    }
                    team.forEach(items: outputSlices, threads: threads) { slice, thread in
                        let channels = (slice * outputs / outputSlices)..<((slice + 1) * outputs / outputSlices)
                        segments(block) { item, rows, first in
                            transformOutput(m, channels: channels, geometry: g, tileRows: rows, firstTile: first,
                                            tiles: count, into: output(item), accumulate: accumulate, bias: bias,
                                            activation: activation, rows: scratch + thread * scratchStride)
                        }
                    }
                }
            }
        }
    }

    /// `M_ξ = U_ξ · V_ξ` for the transform positions `positions`.
    @inline(__always)
    private func multiply(_ u: UnsafePointer<Float>?, _ v: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                          positions: Range<Int>, tiles: Int) {
        for position in positions {
            // The forward's `U` is `inputs × outputs` here: read it transposed at the mirrored position.
            let stored = readsForwardWeights ? Self.mirrored(position: position) : position
            GEMM.multiply(packedA: packedWeights.isEmpty ? nil : packedWeights[position],
                          transposeA: readsForwardWeights, m: outputs, n: tiles, k: inputs,
                          a: u.map { $0 + stored * outputs * inputs }, lda: readsForwardWeights ? outputs : inputs,
                          b: v + position * inputs * tiles, ldb: tiles, c: m + position * outputs * tiles, ldc: tiles)
        }
    }

    /// `V[ξ][c][firstTile + (ty − lower)·Tw + tx] = (Bᵀ d B)[ξ]` for tile rows `tileRows` of one
    /// item and channels `channels`. Per channel and tile row: the input rows under the tile row,
    /// zero-padded, are combined by `Bᵀ` along whole rows, then `B` is applied along columns.
    private func transformInput(_ x: UnsafePointer<Float>, channels: Range<Int>, geometry g: Geometry,
                                tileRows: Range<Int>, firstTile: Int, tiles: Int, into v: UnsafeMutablePointer<Float>,
                                rows: UnsafeMutablePointer<Float>) {
        switch variant {
        case .f2x2: transformInputF2(x, channels: channels, geometry: g, tileRows: tileRows, firstTile: firstTile,
                                     tiles: tiles, into: v, rows: rows)
        case .f4x4: transformInputF4(x, channels: channels, geometry: g, tileRows: tileRows, firstTile: firstTile,
                                     tiles: tiles, into: v, rows: rows)
        }
    }

    /// `Y[k, m·ty + i, m·tx + j] (+)= (Aᵀ M A)[i][j]` for tile rows `tileRows` of one item and
    /// output channels `channels`, with bias and activation when writing.
    private func transformOutput(_ m: UnsafePointer<Float>, channels: Range<Int>, geometry g: Geometry,
                                 tileRows: Range<Int>, firstTile: Int, tiles: Int, into y: UnsafeMutablePointer<Float>,
                                 accumulate: Bool, bias: UnsafePointer<Float>?, activation: FusedActivation,
                                 rows: UnsafeMutablePointer<Float>) {
        switch variant {
        case .f2x2: transformOutputF2(m, channels: channels, geometry: g, tileRows: tileRows, firstTile: firstTile,
                                      tiles: tiles, into: y, accumulate: accumulate, bias: bias, activation: activation,
                                      rows: rows)
        case .f4x4: transformOutputF4(m, channels: channels, geometry: g, tileRows: tileRows, firstTile: firstTile,
                                      tiles: tiles, into: y, accumulate: accumulate, bias: bias, activation: activation,
                                      rows: rows)
        }
    }

    /// The input transform of F(2×2, 3×3).
    private func transformInputF2(_ x: UnsafePointer<Float>, channels: Range<Int>, geometry g: Geometry,
                                  tileRows: Range<Int>, firstTile: Int, tiles: Int, into v: UnsafeMutablePointer<Float>,
                                  rows: UnsafeMutablePointer<Float>) {
        let tileColumns = g.tileColumns, length = Self.halfRowLength(tileColumns: tileColumns)
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
                    transformColumns(even: half(8 + 2 * i), odd: half(9 + 2 * i), into: base + 4 * i * positionStride,
                                     positionStride: positionStride, tileColumns: tileColumns)
                }
            }
        }
    }

    /// The `m + 2` zero-padded input rows under tile row `ty` of one plane (`m` the tile side),
    /// each split into `m` column phases (column `x` of the padded row in phase `x mod m` at
    /// `x / m`), phase `q` of row `r` at `rows + (r·m + q)·phaseLength`: the padded row is
    /// `m·Tw + 2` columns, of which `padLeft ..< padLeft + W` hold pixels.
    @inline(__always)
    func loadPaddedRows(_ plane: UnsafePointer<Float>, geometry g: Geometry, tileRow ty: Int, phaseLength length: Int,
                        into rows: UnsafeMutablePointer<Float>) {
        let m = variant.outputSize, used = m * g.tileColumns + 2
        let lower = min(g.padLeft, used), upper = max(lower, min(used, g.inputWidth + g.padLeft))
        let top = m * ty - g.padTop
        for r in 0..<(m + 2) {
            let row = rows + r * m * length, y = top + r
            row.update(repeating: 0, count: m * length)
            guard y >= 0, y < g.inputHeight, lower < upper else { continue }
            let source = plane + y * g.inputWidth - g.padLeft
            switch variant {
            case .f2x2: deinterleave(source, columns: lower..<upper, even: row, odd: row + length)
            case .f4x4: splitPhases(source, columns: lower..<upper, into: row, length: length)
            }
        }
    }

    /// `even[j] = source[2j]` and `odd[j] = source[2j + 1]` for the columns `2j`, `2j + 1` in
    /// `columns` (the others are left as they are); 8 pairs at a time where all are inside.
    @inline(__always)
    private func deinterleave(_ source: UnsafePointer<Float>, columns: Range<Int>, even: UnsafeMutablePointer<Float>,
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

    /// `B` along one row `t` of `Bᵀ d`, given as its even and odd columns: tile `tx` reads
    /// `t[2tx …+3]` = `even[tx], odd[tx], even[tx+1], odd[tx+1]` and writes positions `ξ … ξ+3`
    /// (`positionStride` apart) at column `tx`; 16, 8 or 4 tiles at a time, then one by one.
    @inline(__always)
    private func transformColumns(even: UnsafePointer<Float>, odd: UnsafePointer<Float>,
                                  into o0: UnsafeMutablePointer<Float>, positionStride: Int, tileColumns: Int) {
        var tx = 0
        while tx + 16 <= tileColumns { transformColumns(SIMD16<Float>.self, even, odd, o0, positionStride, tx); tx += 16 }
        while tx + 8 <= tileColumns { transformColumns(SIMD8<Float>.self, even, odd, o0, positionStride, tx); tx += 8 }
        while tx + 4 <= tileColumns { transformColumns(SIMD4<Float>.self, even, odd, o0, positionStride, tx); tx += 4 }
        while tx < tileColumns {
            let a = even[tx], b = odd[tx], e = even[tx + 1], f = odd[tx + 1], o = o0 + tx
            o[0] = a - e
            o[positionStride] = b + e
            o[2 * positionStride] = e - b
            o[3 * positionStride] = b - f
            tx += 1
        }
    }

    @inline(__always)
    private func transformColumns<S: SIMD>(_: S.Type, _ even: UnsafePointer<Float>, _ odd: UnsafePointer<Float>,
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

    /// `Y[k, 2ty + i, 2tx + j] (+)= (Aᵀ M A)[i][j]` for tile rows `tileRows` of one item and
    /// output channels `channels`, with bias and activation when writing.
    private func transformOutputF2(_ m: UnsafePointer<Float>, channels: Range<Int>, geometry g: Geometry,
                                   tileRows: Range<Int>, firstTile: Int, tiles: Int, into y: UnsafeMutablePointer<Float>,
                                   accumulate: Bool, bias: UnsafePointer<Float>?, activation: FusedActivation,
                                   rows: UnsafeMutablePointer<Float>) {
        let tileColumns = g.tileColumns, width = g.outputWidth
        let positionStride = outputs * tiles
        // Output rows 0 and 1 of a tile row, even and odd columns each.
        let half = Self.halfRowLength(tileColumns: tileColumns)
        let r0 = (even: rows, odd: rows + half), r1 = (even: rows + 2 * half, odd: rows + 3 * half)
        for k in channels {
            let plane = y + k * g.outputHeight * width
            let b = bias?[k] ?? 0
            for ty in tileRows {
                let base = m + k * tiles + firstTile + (ty - tileRows.lowerBound) * tileColumns
                let p0 = base, p1 = p0 + positionStride, p2 = p1 + positionStride, p3 = p2 + positionStride
                let p4 = p3 + positionStride, p5 = p4 + positionStride, p6 = p5 + positionStride, p7 = p6 + positionStride
                let p8 = p7 + positionStride, p9 = p8 + positionStride, p10 = p9 + positionStride, p11 = p10 + positionStride
                let p12 = p11 + positionStride, p13 = p12 + positionStride, p14 = p13 + positionStride
                let p15 = p14 + positionStride
                let p = (p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15)
                var tx = 0
                while tx + 16 <= tileColumns { transformTiles(SIMD16<Float>.self, p, tx, r0, r1); tx += 16 }
                while tx + 8 <= tileColumns { transformTiles(SIMD8<Float>.self, p, tx, r0, r1); tx += 8 }
                while tx + 4 <= tileColumns { transformTiles(SIMD4<Float>.self, p, tx, r0, r1); tx += 4 }
                while tx < tileColumns {
                    let s00 = p0[tx] + p4[tx] + p8[tx], s10 = p4[tx] - p8[tx] - p12[tx]
                    let s01 = p1[tx] + p5[tx] + p9[tx], s11 = p5[tx] - p9[tx] - p13[tx]
                    let s02 = p2[tx] + p6[tx] + p10[tx], s12 = p6[tx] - p10[tx] - p14[tx]
                    let s03 = p3[tx] + p7[tx] + p11[tx], s13 = p7[tx] - p11[tx] - p15[tx]
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
                        case .none:
                            for j in 0..<pairs {
                                destination[2 * j] = even[j] + b
                                destination[2 * j + 1] = odd[j] + b
                            }
                            if width % 2 == 1 { destination[width - 1] = even[pairs] + b }
                        case .relu:
                            for j in 0..<pairs {
                                destination[2 * j] = max(even[j] + b, 0)
                                destination[2 * j + 1] = max(odd[j] + b, 0)
                            }
                            if width % 2 == 1 { destination[width - 1] = max(even[pairs] + b, 0) }
                        case .clip:
                            for j in 0..<pairs {
                                destination[2 * j] = even[j] + b
                                destination[2 * j + 1] = odd[j] + b
                            }
                            if width % 2 == 1 { destination[width - 1] = even[pairs] + b }
                            activation.apply(destination, count: width)
                        }
                    }
                }
            }
        }
    }

    typealias Positions = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                           UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                           UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                           UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>)

    /// An output row's even and odd columns.
    typealias OutputRow = (even: UnsafeMutablePointer<Float>, odd: UnsafeMutablePointer<Float>)

    /// `Aᵀ m A` for `S.scalarCount` tiles from column `tx`: the two output rows' pixels
    /// `2tx …` into `r0` and `r1` (column `2tx + j` at `even[tx]` or `odd[tx]`).
    @inline(__always)
    private func transformTiles<S: SIMD>(_: S.Type, _ p: Positions, _ tx: Int, _ r0: OutputRow, _ r1: OutputRow)
        where S.Scalar == Float {
        let m0 = load(S.self, p.0 + tx), m1 = load(S.self, p.1 + tx), m2 = load(S.self, p.2 + tx), m3 = load(S.self, p.3 + tx)
        let m4 = load(S.self, p.4 + tx), m5 = load(S.self, p.5 + tx), m6 = load(S.self, p.6 + tx), m7 = load(S.self, p.7 + tx)
        let m8 = load(S.self, p.8 + tx), m9 = load(S.self, p.9 + tx), m10 = load(S.self, p.10 + tx)
        let m11 = load(S.self, p.11 + tx), m12 = load(S.self, p.12 + tx), m13 = load(S.self, p.13 + tx)
        let m14 = load(S.self, p.14 + tx), m15 = load(S.self, p.15 + tx)
        // s = Aᵀ m (2×4), then s A (2×2).
        let s00 = m0 + m4 + m8, s10 = m4 - m8 - m12
        let s01 = m1 + m5 + m9, s11 = m5 - m9 - m13
        let s02 = m2 + m6 + m10, s12 = m6 - m10 - m14
        let s03 = m3 + m7 + m11, s13 = m7 - m11 - m15
        let y00 = s00 + s01 + s02, y01 = s01 - s02 - s03
        let y10 = s10 + s11 + s12, y11 = s11 - s12 - s13
        store(y00, r0.even + tx)
        store(y01, r0.odd + tx)
        store(y10, r1.even + tx)
        store(y11, r1.odd + tx)
    }
}

/// Winograd's minimal filtering for a 3×3 kernel, by output tile: F(2×2, 3×3) (16 transform
/// positions, 16/36 of the direct method's multiply-adds; ``WinogradConvolution``) or
/// F(4×4, 3×3) (36 positions, 36/144 = 1/4; transforms in `WinogradF4Transforms.swift`).
public enum WinogradVariant: Sendable, Equatable {
    case f2x2, f4x4

    /// Output pixels per tile side, `m`.
    var outputSize: Int { self == .f2x2 ? 2 : 4 }
    /// Input pixels per tile side, `m + 2`.
    var inputSize: Int { outputSize + 2 }
    /// Transform positions, `(m + 2)²`.
    var positions: Int { inputSize * inputSize }

    /// `G` (`(m + 2)×3`), row-major.
    var kernelTransform: [Double] {
        switch self {
        case .f2x2: [1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1]
        case .f4x4: [1.0 / 4, 0, 0, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
                     1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 24, -1.0 / 12, 1.0 / 6, 0, 0, 1]
        }
    }

    /// Tiles covering an `Ho×Wo` output: `⌈Ho/m⌉ × ⌈Wo/m⌉`.
    func tiles(outputHeight: Int, outputWidth: Int) -> (rows: Int, columns: Int) {
        ((outputHeight + outputSize - 1) / outputSize, (outputWidth + outputSize - 1) / outputSize)
    }
}
