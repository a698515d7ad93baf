import VectorKernels

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
/// direct method's multiply-adds (``WinogradVariant``). Both tiles' input and output transforms
/// are `VectorKernels`' `WinogradTransformKernels`, run in the build for this CPU
/// (``WinogradTransformLoops``).
///
/// Layouts: the input is `C` planes of `H×W` per item, the output `K` planes of `Ho×Wo`; with
/// 2×2 tiles the output tile `(ty, tx)` covers output rows `2ty, 2ty+1` and columns `2tx, 2tx+1`
/// and reads input rows `2ty − padTop …+3` and columns `2tx − padLeft …+3` (zeros outside).
/// Within a block of `P` tiles, `V` is `positions×C×P` (`V[ξ][c][p]`) and `M` is `positions×K×P`,
/// their rows ``rowStride(tiles:)`` floats apart (`P` rounded up to an odd number of cache lines)
/// from a line boundary.
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
    /// With ``readsPackedTransposed``, the forward's packed `U_{mirrored(ξ)}` instead.
    let packedWeights: [PackedGEMMOperand]
    /// `true` for a VJP built by ``init(inputGradientSharing:)`` whose forward's packed operands
    /// are ``PackedGEMMOperand/readableTransposed``: `packedWeights` are the forward's (the same
    /// storage), read as their transposes, so that a model holds its F(2×2) weights once, not
    /// twice, and a gradient pass streams them once per layer from one copy.
    let readsPackedTransposed: Bool

    /// Entries of `U_ξ` (`K·C`) from which an F(2×2) VJP reads its forward's packed weights
    /// transposed: 512×512 (1 MiB a position, 16.8 MB a layer, half the L2 per position). On the
    /// Emerald Rapids VM (2 MiB L2), resnet18's 512-channel layers' single-gradient VJPs took
    /// 0.90–1.10 ms reading the forward's copy, which the forward had just streamed, against
    /// 1.27–1.49 from their own. 256×256 stays on its own copy: a 256-channel 14×14 model's
    /// single-gradient VJP (49 tiles: 48 read transposed, the 49th through a repacked panel)
    /// took 1.18–1.21 ms a layer against 0.98–1.01 on its own copy (one thread, three alternating
    /// runs); its weights are read from cache either way.
    static let transposedPackedMinimum = 1 << 18

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
        readsPackedTransposed = false
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
    ///
    /// With the AVX-512 kernels, a VJP whose `U'_ξ` have at least `transposedPackedMinimum`
    /// entries reads the forward's packed operands as their transposes (``readsPackedTransposed``)
    /// instead of packing its own.
    init(inputGradientSharing forward: WinogradConvolution,
         transposedPackedMinimum: Int = WinogradConvolution.transposedPackedMinimum) {
        precondition(forward.variant == .f2x2 && !forward.readsForwardWeights,
                     "only an F(2×2, 3×3) forward's weights serve its VJP")
        precondition(!forward.weights.isEmpty, "the forward's plain weights were dropped before its VJP shared them")
        variant = .f2x2
        weights = forward.weights
        inputs = forward.outputs
        outputs = forward.inputs
        readsForwardWeights = true
        if forward.inputs * forward.outputs >= transposedPackedMinimum, !forward.packedWeights.isEmpty,
           forward.packedWeights.allSatisfy(\.readableTransposed) {
            packedWeights = (0..<forward.variant.positions).map { forward.packedWeights[Self.mirrored(position: $0)] }
            readsPackedTransposed = true
        } else {
            packedWeights = Self.pack(forward.weights, positions: forward.variant.positions, outputs: forward.inputs,
                                      inputs: forward.outputs, readsForwardWeights: true)
            readsPackedTransposed = false
        }
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

    /// Unused rows after each position's `V_ξ` (`C` rows) and `M_ξ` (`K` rows), so that the
    /// positions are not a power of two floats apart. At 64 channels and 128 tiles (32 KiB) the
    /// transforms' 16 or 36 streams, one per position, all fell in the same L1 sets.
    static let spareRows = 1

    /// Floats of scratch one thread needs for an `Ho×Wo` output.
    static func scratchCount(_ variant: WinogradVariant, inputs: Int, outputs: Int, outputHeight: Int, outputWidth: Int,
                             override: Int? = nil) -> Int {
        let width = targetTiles(inputs: inputs, outputs: outputs, override: override)
        let tileColumns = variant.tiles(outputHeight: outputHeight, outputWidth: outputWidth).columns
        let blockTiles = ColumnBlocking.maximumColumns(width: width, gridWidth: tileColumns)
        return rowScratch(variant, tileColumns: tileColumns, blockTiles: blockTiles) + BufferPlanner.alignment - 1
            + variant.positions * (inputs + outputs + 2 * spareRows) * rowStride(tiles: blockTiles)
    }

    /// The row stride of a block's `V` and `M` for `tiles` tiles: whole cache lines
    /// (`BufferPlanner.alignment` floats), an odd number of them. The products read `V_ξ` in place as `B`, 16 columns per step of depth: one
    /// line, not two, and rows an even number of lines apart fall in fewer L1 sets (128 tiles,
    /// 8 lines: 8 of the 64). resnet18-like layers on the Zen 3 VM (one thread, CPU time, four
    /// 3×3/1 models of 64 to 512 channels, three rounds): the Jacobian VJPs 562 → 510 ms summed,
    /// forward 68 → 59, one gradient 64 → 53 (whole lines without the odd count: 525, 56, 51).
    static func rowStride(tiles: Int) -> Int {
        let line = BufferPlanner.alignment
        let lines = (tiles + line - 1) / line
        return (lines % 2 == 0 ? lines + 1 : lines) * line
    }

    /// `pointer` rounded up to a cache line.
    private static func aligned(_ pointer: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        let bytes = BufferPlanner.alignment * MemoryLayout<Float>.stride
        let address = (Int(bitPattern: pointer) + bytes - 1) / bytes * bytes
        return UnsafeMutablePointer(bitPattern: address)!
    }

    /// Floats for one tile row's rows. F(2×2): on the input side the 4 padded input rows and
    /// their `Bᵀ` combinations, each split into even and odd columns (16 half rows of
    /// `WinogradTransformKernels.halfRowLength`), or on maps of at most 7 tile columns up to 10
    /// padded rows (`WinogradTransformKernels.inputF2ScratchCount`); on the output side 2 output
    /// rows, split the same way.
    /// F(4×4): the 6 padded rows, their 6 `Bᵀ` combinations and a staging row, each split into 4
    /// column phases (`WinogradTransformKernels.inputF4ScratchCount`); on the output side the 16 pixels
    /// of every tile of a block (`16×blockTiles`).
    private static func rowScratch(_ variant: WinogradVariant, tileColumns: Int, blockTiles: Int) -> Int {
        variant == .f2x2 ? WinogradTransformKernels.inputF2ScratchCount(tileColumns: tileColumns)
            : max(WinogradTransformKernels.inputF4ScratchCount(tileColumns: tileColumns), 16 * blockTiles)
    }

    /// The geometry of one correlation (the transforms' own type);
    /// ``run(items:geometry:input:output:accumulate:bias:activation:team:threads:scratch:scratchStride:widthOverride:)``
    /// sets the tile size.
    typealias Geometry = WinogradTileGeometry

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
        let activation = activation.winogradOutputActivation
        let positions = variant.positions
        let width = Self.targetTiles(inputs: inputs, outputs: outputs, override: widthOverride)
        let plan = ColumnBlocking.Plan(items: items, gridHeight: g.tileRows, gridWidth: g.tileColumns, width: width,
                                       threads: threads)
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
                    let block = plan[index], count = tileCount(block), stride = Self.rowStride(tiles: count)
                    let v = Self.aligned(slice + rowScratch), m = v + positions * (inputs + Self.spareRows) * stride
                    segments(block) { item, rows, first in
                        transformInput(input(item), channels: 0..<inputs, geometry: g, tileRows: rows, firstTile: first,
                                       stride: stride, into: v, rows: slice)
                    }
                    multiply(u, v, m, positions: 0..<positions, tiles: count, stride: stride)
                    segments(block) { item, rows, first in
                        transformOutput(m, channels: 0..<outputs, geometry: g, tileRows: rows, firstTile: first,
                                        stride: stride, into: output(item), accumulate: accumulate, bias: bias,
                                        activation: activation, rows: slice)
                    }
                }
            } else {
                // Fewer blocks than threads: every stage of a block is shared by all threads.
                let v = Self.aligned(scratch + rowScratch)
                for index in 0..<plan.count {
                    let block = plan[index], count = tileCount(block), stride = Self.rowStride(tiles: count)
                    let m = v + positions * (inputs + Self.spareRows) * stride
                    let inputSlices = min(inputs, 4 * threads), outputSlices = min(outputs, 4 * threads)
                    team.forEach(items: inputSlices, threads: threads) { slice, thread in
                        let channels = (slice * inputs / inputSlices)..<((slice + 1) * inputs / inputSlices)
                        segments(block) { item, rows, first in
                            transformInput(input(item), channels: channels, geometry: g, tileRows: rows, firstTile: first,
                                           stride: stride, into: v, rows: scratch + thread * scratchStride)
                        }
                    }
                    team.forEach(items: positions, threads: threads) { position, _ in
                        multiply(u, v, m, positions: position..<(position + 1), tiles: count, stride: stride)
                    }
                    team.forEach(items: outputSlices, threads: threads) { slice, thread in
                        let channels = (slice * outputs / outputSlices)..<((slice + 1) * outputs / outputSlices)
                        segments(block) { item, rows, first in
                            transformOutput(m, channels: channels, geometry: g, tileRows: rows, firstTile: first,
                                            stride: stride, into: output(item), accumulate: accumulate, bias: bias,
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
                          positions: Range<Int>, tiles: Int, stride: Int) {
        for position in positions {
            if readsPackedTransposed {
                GEMM.multiply(transposedPackedA: packedWeights[position], m: outputs, n: tiles, k: inputs,
                              b: v + position * (inputs + Self.spareRows) * stride, ldb: stride,
                              c: m + position * (outputs + Self.spareRows) * stride, ldc: stride)
                continue
            }
            // The forward's `U` is `inputs × outputs` here: read it transposed at the mirrored position.
            let stored = readsForwardWeights ? Self.mirrored(position: position) : position
            GEMM.multiply(packedA: packedWeights.isEmpty ? nil : packedWeights[position],
                          transposeA: readsForwardWeights, m: outputs, n: tiles, k: inputs,
                          a: u.map { $0 + stored * outputs * inputs }, lda: readsForwardWeights ? outputs : inputs,
                          b: v + position * (inputs + Self.spareRows) * stride, ldb: stride,
                          c: m + position * (outputs + Self.spareRows) * stride, ldc: stride)
        }
    }

    /// `V[ξ][c][firstTile + (ty − lower)·Tw + tx] = (Bᵀ d B)[ξ]` for tile rows `tileRows` of one
    /// item and channels `channels`. Per channel and tile row: the input rows under the tile row,
    /// zero-padded, are combined by `Bᵀ` along whole rows, then `B` is applied along columns.
    @inline(__always)
    private func transformInput(_ x: UnsafePointer<Float>, channels: Range<Int>, geometry g: WinogradTileGeometry,
                                tileRows: Range<Int>, firstTile: Int, stride: Int, into v: UnsafeMutablePointer<Float>,
                                rows: UnsafeMutablePointer<Float>) {
        let loops = WinogradTransformLoops.selected
        (variant == .f2x2 ? loops.inputF2 : loops.inputF4)(x, channels, g, inputs + Self.spareRows, tileRows, firstTile, stride, v,
                                                           rows)
    }

    /// `Y[k, m·ty + i, m·tx + j] (+)= (Aᵀ M A)[i][j]` for tile rows `tileRows` of one item and
    /// output channels `channels`, with bias and activation when writing.
    @inline(__always)
    private func transformOutput(_ m: UnsafePointer<Float>, channels: Range<Int>, geometry g: WinogradTileGeometry,
                                 tileRows: Range<Int>, firstTile: Int, stride: Int, into y: UnsafeMutablePointer<Float>,
                                 accumulate: Bool, bias: UnsafePointer<Float>?, activation: WinogradOutputActivation,
                                 rows: UnsafeMutablePointer<Float>) {
        let loops = WinogradTransformLoops.selected
        (variant == .f2x2 ? loops.outputF2 : loops.outputF4)(m, channels, g, outputs + Self.spareRows, tileRows, firstTile, stride, y,
                                                             accumulate, bias, activation, rows)
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
