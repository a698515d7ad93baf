/// 2-D convolution (ONNX `Conv`, PyTorch `Conv2d`), optionally with a fused activation.
///
/// - Input: `N×C×H×W`. Output: `N×M×Ho×Wo`.
/// - Weights: `M×(C/groups)×kH×kW`; bias: `M` (optional).
/// - Attributes: strides, dilations, padding (explicit, asymmetric or `SAME_*`), groups;
///   ``activation`` (a `Relu` folded into the convolution by ``ActivationFusion``).
///
/// Forward, per group: `Y_g (M/g × positions) = W_g (M/g × C/g·kH·kW) · im2col(X_g)` in
/// `GEMM.multiply` calls cut by ``ColumnBlocking``: a band of output rows of one frame at a time
/// when the frame is large (the GEMM writes the output in place; the columns stay in cache), or
/// several whole frames side by side when frames are small (then scattered). Bias and activation
/// are applied to each block right after its GEMM, while it is in cache. A 1×1/stride-1
/// convolution multiplies the input directly. Depthwise convolution (`groups = C`) runs direct
/// vectorised loops (``DepthwiseConvolution``). A 3×3/stride-1 convolution with enough channels
/// and pixels runs by Winograd's minimal filtering instead (``WinogradConvolution``): forward by
/// F(2×2, 3×3) (16 GEMMs of depth `C`, 4/9 of the multiply-adds) on maps of at least 7×7,
/// VJP by F(4×4, 3×3) on maps of at least ``largeTileMinimumSide`` (36 GEMMs, 1/4) and by
/// F(2×2, 3×3) on smaller ones down to 7×7 (under 64 pixels with at least 256 channels)
/// (``winogradMinimum``); an F(2×2) VJP whose forward is F(2×2) reads the
/// forward's transformed weights. On the smallest maps (a CNN's 1×1 and 2×2 ones) both passes,
/// and on slightly larger ones the VJP of many rows, run as one dense matrix product over the
/// whole batch instead (``DenseConvolution``, ``denseUse(channels:geometry:)``).
///
/// VJP, for `N·K` cotangent rows: the fused activation masks `dY` in place, then either
/// - **transposed** (the default at stride 1 unless `M/g > 2·C/g`): per sub-pixel phase
///   (``TransposedConvolution``), `dX_phase (C/g × positions) = W_T · gather(dY)` — for stride 1
///   written straight into `dX`, for larger strides scattered onto the phase's pixels; or
/// - **columns**: `dcols = W_gᵀ · dY` then `col2im` adds each row's columns onto its `dX` — cheaper
///   when the input has far fewer channels than the output (a network's stem), and at strides
///   above 1, whose sub-pixel phases have few taps each.
/// Rows are batched into the GEMMs' N dimension the same way frames are forward. A columns VJP
/// whose `dY`, masked, is mostly zeros (a stem before a max pooling) works from its nonzeros
/// instead (``SparseColumnsGradient``). The weights are constants; there is no weight gradient.
public struct ConvolutionOperator: Operator {
    public var weights: Tensor {
        didSet { dropDerivedWeights() }
    }
    public var bias: [Float]?
    public var window: SpatialWindow {
        didSet { dropDerivedWeights() }
    }
    public var groups: Int {
        didSet { dropDerivedWeights() }
    }
    /// Applied to every output element (see ``FusedActivation``): a `Relu` or `Clip` folded in
    /// by ``ActivationFusion``.
    public var activation: FusedActivation = .none

    /// The ways the VJP can run (see the type's documentation).
    public enum BackwardMethod: Sendable { case transposed, columns, winograd }
    /// Forces a VJP method (tests); `nil` chooses by the channel counts.
    public var backwardMethodOverride: BackwardMethod?
    /// Multiply-adds below which a call runs on one thread (default ``parallelThreshold``; tests
    /// set 0 to run tiny convolutions on every thread of the team).
    public var minimumParallelWork = ConvolutionOperator.parallelThreshold
    /// Forces the number of columns per GEMM (tests: 1 makes one output row per GEMM); `nil`
    /// lets ``ColumnBlocking`` choose.
    public var gemmWidthOverride: Int?
    /// Forces a columns VJP from `dY`'s nonzeros (``SparseColumnsGradient``) on (`true`: every
    /// call of a convolution of that form, whatever `dY`'s density) or off (`false`); `nil`
    /// decides per call by the density.
    public var sparseGradientOverride: Bool?

    /// Channels (input and output) from which a 3×3/stride-1 convolution runs by Winograd's
    /// minimal filtering (``WinogradConvolution``), forward and VJP; below it the transforms cost
    /// more than they save. Tests set 1 to run small cases through it, `Int.max` to turn it off.
    public var winogradMinimumChannels = ConvolutionOperator.winogradThreshold
    /// Sizes from which each pass runs by Winograd. Tests set `.always`.
    public var winogradMinimum = WinogradMinimum()
    /// Entries of a position's transformed weights (`K·C`) from which an F(2×2) VJP reads its
    /// forward's packed weights as their transposes instead of packing its own
    /// (``WinogradConvolution/transposedPackedMinimum``). Tests set 1 to run small cases through it.
    public var winogradTransposedPackedMinimum = WinogradConvolution.transposedPackedMinimum

    /// A pass of the convolution.
    public enum Pass: Sendable { case forward, inputGradient }

    /// Forces the dense form (``DenseConvolution``) on (`true`: both passes, any rows) or off
    /// (`false`) for every shape (tests); `nil` lets ``denseUse(channels:geometry:)`` decide.
    /// Set before ``prepared(inputShapes:)``: changing it drops prepared weights.
    public var denseOverride: Bool? {
        didSet { if denseOverride != oldValue { dense = nil } }
    }

    /// Forces the Winograd output tile (tests); `nil` chooses by the map's size
    /// (``winogradVariant(geometry:)``). Set before ``prepared(inputShapes:)``: changing it
    /// drops prepared weights.
    public var winogradVariantOverride: WinogradVariant? {
        didSet {
            if winogradVariantOverride != oldValue {
                (winogradForward, winogradInputGradient, winogradInputGradientFewTiles) = (nil, nil, nil)
            }
        }
    }
    /// Output sides from which the VJP uses F(4×4, 3×3) instead of F(2×2, 3×3). On resnet18 the
    /// 4×4 tiles were faster on its 56×56 and 28×28 maps. On its 14×14 ones, where they cover
    /// 16×16 (31 % more pixels than the map) with rows of only 4 tiles, they were no faster on the
    /// Xeon VM with OpenBLAS's products; on the Zen 1 VM with the engine's AVX2 products (and
    /// the transformed weights packed at load) they took the 256-channel layers' Jacobian VJP from
    /// 37–54 to 31–39 ms and the single gradient's from 3.7–5.4 to 3.0–3.6 (one thread, CPU
    /// time), and three C → C layers on 14×14 maps their Jacobian from 36.4–39.0 to 33.0–34.5 ms
    /// at 128 channels and the same at 32 and 64 (on 20×20 at 64 channels: 21.2–21.6 → 16.8).
    /// On 7×7 maps (2×2 tiles of 4×4 per frame) a single gradient took 1.4–2× as long: below 14,
    /// 2×2 tiles. On the Xeon VM with the engine's AVX-512 products a single gradient on 14×14
    /// maps is faster by 2×2 tiles again: calls of too few rows take them
    /// (``WinogradMinimum/largeTileTiles``).
    public static let largeTileMinimumSide = 14

    /// The Winograd output tile of the VJP for a geometry: 4×4 on maps of at least
    /// ``largeTileMinimumSide`` on each side, else 2×2.
    func winogradVariant(geometry g: WindowGeometry) -> WinogradVariant {
        winogradVariantOverride
            ?? (min(g.outputHeight, g.outputWidth) >= Self.largeTileMinimumSide ? .f4x4 : .f2x2)
    }

    /// `true` when a VJP call of one row on this geometry takes 2×2 tiles although the map's VJP
    /// takes 4×4 ones: its 4×4 tiles are fewer than ``WinogradMinimum/largeTileTiles`` (and no
    /// tile is forced).
    func takesFewTilesVariant(geometry g: WindowGeometry) -> Bool {
        guard winogradVariantOverride == nil, winogradVariant(geometry: g) == .f4x4 else { return false }
        return Self.largeTilesPerRow(g) < winogradMinimum.largeTileTiles
    }

    /// The VJP's Winograd weights for a call of `rows` cotangent rows: the 2×2-tile ones when
    /// there are some and the rows' 4×4 tiles are fewer than ``WinogradMinimum/largeTileTiles``.
    func winogradInputGradient(rows: Int, geometry g: WindowGeometry) -> WinogradConvolution? {
        if let fewTiles = winogradInputGradientFewTiles, rows * Self.largeTilesPerRow(g) < winogradMinimum.largeTileTiles {
            return fewTiles
        }
        return winogradInputGradient
    }

    /// The 4×4 tiles of one cotangent row's VJP (its output is the forward's input map).
    private static func largeTilesPerRow(_ g: WindowGeometry) -> Int {
        let tiles = WinogradVariant.f4x4.tiles(outputHeight: g.inputHeight, outputWidth: g.inputWidth)
        return tiles.rows * tiles.columns
    }

    /// The Winograd output tile of the forward pass: 2×2 unless overridden. The forward's
    /// rounding decides which ReLUs are on; with 4×4 tiles resnet18's full-size Jacobian moved
    /// past 1e-3 of PyTorch's in 14.9 % of entries (ReLU units near 0 switched), with 2×2 in none.
    /// The VJP's rounding only perturbs values, so it may take the faster tile.
    var forwardWinogradVariant: WinogradVariant { winogradVariantOverride ?? .f2x2 }

    /// The weights regrouped per sub-pixel phase for the transposed VJP, set by
    /// ``prepared(inputShapes:)`` when that is the VJP's method for the shape.
    private var transposed: TransposedConvolution?
    /// The Winograd-transformed weights of each pass, set by ``prepared(inputShapes:)`` when
    /// ``usesWinograd(_:channels:geometry:)`` holds for the shape.
    private(set) var winogradForward: WinogradConvolution?
    private(set) var winogradInputGradient: WinogradConvolution?
    /// The VJP's 2×2-tile weights for calls of too few rows for its 4×4 tiles
    /// (``WinogradMinimum/largeTileTiles``), set by ``prepared(inputShapes:)`` when one row on
    /// the shape's map is too few (``takesFewTilesVariant(geometry:)``).
    private(set) var winogradInputGradientFewTiles: WinogradConvolution?
    /// Each group's `(M/groups)×(C/groups·kH·kW)` weights packed for the selected kernels' products,
    /// set by ``prepared(inputShapes:)`` when the forward runs by im2col and a product (the
    /// direct method), so that no forward call packs them again; empty otherwise (and with
    /// OpenBLAS, which packs its own).
    private(set) var packedDirectWeights: [PackedGEMMOperand] = []
    /// Each group's transposed weights, `(C/groups·kH·kW)×(M/groups)`, packed the same way for
    /// the columns VJP (``BackwardMethod/columns``), set by ``prepared(inputShapes:)`` when that
    /// method may run; empty otherwise. A call whose threads split the input channels where a
    /// part does not start on a whole panel packs the plain weights instead.
    private(set) var packedColumnsWeights: [PackedGEMMOperand] = []
    /// The weights laid out for the columns VJP from `dY`'s nonzeros, set by
    /// ``prepared(inputShapes:)`` when the columns method may run and the convolution has that
    /// form (``SparseColumnsGradient/applies(channels:groups:geometry:)``).
    private(set) var sparseColumns: SparseColumnsGradient?
    /// The convolution as a dense matrix, set by ``prepared(inputShapes:)`` when
    /// ``denseUse(channels:geometry:)`` allows it for the shape.
    private(set) var dense: DenseConvolution?

    /// - Parameters:
    ///   - weights: `M×(C/groups)×kH×kW`.
    ///   - bias: `M` values, or `nil`.
    public init(weights: Tensor, bias: [Float]? = nil, strides: (Int, Int) = (1, 1),
                padding: WindowPadding = .valid, dilations: (Int, Int) = (1, 1), groups: Int = 1,
                activation: FusedActivation = .none) {
        self.weights = weights
        self.bias = bias
        self.groups = groups
        self.activation = activation
        let kernelHeight = weights.shape.rank == 4 ? weights.shape[2] : 0
        let kernelWidth = weights.shape.rank == 4 ? weights.shape[3] : 0
        self.window = SpatialWindow(kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                                    strideHeight: strides.0, strideWidth: strides.1,
                                    dilationHeight: dilations.0, dilationWidth: dilations.1,
                                    padding: padding)
    }

    /// Drops the weights derived by ``prepared(inputShapes:)``, which no longer match.
    private mutating func dropDerivedWeights() {
        transposed = nil
        winogradForward = nil
        winogradInputGradient = nil
        winogradInputGradientFewTiles = nil
        dense = nil
        packedDirectWeights = []
        packedColumnsWeights = []
        sparseColumns = nil
    }

    /// With the derived weights the passes use on an input of this shape: the dense matrix when a
    /// pass may run dense (``denseUse(channels:geometry:)``; nothing else when both always do),
    /// Winograd-transformed weights for each pass that runs by Winograd (16/9 or 4 times the
    /// weights' memory each: packed for the engine's kernels, which is then the only copy, or
    /// plain for OpenBLAS, where an F(2×2) VJP shares its forward's), the weights regrouped per sub-pixel
    /// phase when the VJP is transposed. Built here, not at init, because only the shape decides
    /// which are used.
    public func prepared(inputShapes: [TensorShape]) -> any Operator {
        guard let (channels, height, width) = inputShapes[0].channelsHeightWidth,
              let g = try? window.geometry(inputHeight: height, inputWidth: width) else { return self }
        var result = self
        let denseUse = denseUse(channels: channels, geometry: g)
        if denseUse != .never {
            result.dense = DenseConvolution(weights: weights, channels: channels, groups: groups, geometry: g)
            // Both passes dense, whatever the rows: no other derived weights are read.
            if denseUse == .always { return result }
        }
        if usesWinograd(.forward, channels: channels, geometry: g) {
            result.winogradForward = WinogradConvolution(forward: weights, variant: forwardWinogradVariant)
        } else if !isDepthwise(channels: channels) {
            result.packedDirectWeights = packedGroupWeights(channels: channels, geometry: g, transposed: false)
        }
        if usesWinograd(.inputGradient, channels: channels, geometry: g) {
            let variant = winogradVariant(geometry: g)
            func inputGradientWeights(_ variant: WinogradVariant) -> WinogradConvolution {
                if variant == .f2x2, let forward = result.winogradForward, forward.variant == .f2x2 {
                    WinogradConvolution(inputGradientSharing: forward, transposedPackedMinimum: winogradTransposedPackedMinimum)
                } else {
                    WinogradConvolution(inputGradientOf: weights, variant: variant)
                }
            }
            result.winogradInputGradient = inputGradientWeights(variant)
            if takesFewTilesVariant(geometry: g) { result.winogradInputGradientFewTiles = inputGradientWeights(.f2x2) }
        }
        // All built (a sharing VJP packs from its forward's plain weights): keep the packed only.
        result.winogradForward = result.winogradForward?.droppingUnpackedWeights()
        result.winogradInputGradient = result.winogradInputGradient?.droppingUnpackedWeights()
        result.winogradInputGradientFewTiles = result.winogradInputGradientFewTiles?.droppingUnpackedWeights()
        let backwardMethods = result.possibleBackwardMethods(channels: channels, geometry: g)
        if !isDepthwise(channels: channels), backwardMethods.contains(.transposed) {
            result.transposed = Self.transposedWeights(weights, groups: groups, window: window)
        }
        if !isDepthwise(channels: channels), backwardMethods.contains(.columns) {
            result.packedColumnsWeights = packedGroupWeights(channels: channels, geometry: g, transposed: true)
            if sparseGradientOverride != false {
                result.sparseColumns = SparseColumnsGradient(weights: weights, channels: channels, groups: groups, geometry: g)
            }
        }
        return result
    }

    /// Each group's weights `W_g` (`(M/groups)×(C/groups·kH·kW)`), or `W_gᵀ`, packed for the
    /// selected kernels' products; empty with OpenBLAS.
    private func packedGroupWeights(channels: Int, geometry g: WindowGeometry, transposed: Bool) -> [PackedGEMMOperand] {
        let groupOutputs = outputChannels / groups, depth = channels / groups * g.kernelArea
        return weights.values.withUnsafeBufferPointer { w in
            (0..<groups).compactMap { group in
                PackedGEMMOperand(transposeA: transposed, m: transposed ? depth : groupOutputs,
                                  k: transposed ? groupOutputs : depth,
                                  a: w.baseAddress! + group * groupOutputs * depth, lda: depth)
            }
        }
    }

    /// The per-phase weights of the transposed VJP: prepared ones, or (an operator run without
    /// ``prepared(inputShapes:)``) built now.
    private func transposedWeights() -> TransposedConvolution? {
        transposed ?? Self.transposedWeights(weights, groups: groups, window: window)
    }

    private static func transposedWeights(_ weights: Tensor, groups: Int, window: SpatialWindow) -> TransposedConvolution? {
        guard weights.shape.rank == 4, groups > 0, weights.shape[0] % groups == 0,
              window.strideHeight > 0, window.strideWidth > 0 else { return nil }
        return TransposedConvolution(weights: weights, groups: groups,
                                     strides: (window.strideHeight, window.strideWidth),
                                     dilations: (window.dilationHeight, window.dilationWidth))
    }

    public var typeName: String { "Conv" }
    public var outputChannels: Int { weights.shape[0] }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        guard weights.shape.rank == 4 else {
            throw OperatorError("weights must be M×C/g×kH×kW, got \(weights.shape)")
        }
        guard let (channels, height, width) = inputShapes[0].channelsHeightWidth else {
            throw OperatorError("input must be N×C×H×W, got frame shape \(inputShapes[0])")
        }
        guard groups > 0, channels % groups == 0, outputChannels % groups == 0 else {
            throw OperatorError("groups \(groups) must divide input channels \(channels) and output channels \(outputChannels)")
        }
        guard weights.shape[1] * groups == channels else {
            throw OperatorError("weights \(weights.shape) expect \(weights.shape[1] * groups) input channels, input has \(channels)")
        }
        if let bias, bias.count != outputChannels {
            throw OperatorError("bias has \(bias.count) values for \(outputChannels) output channels")
        }
        let g = try window.geometry(inputHeight: height, inputWidth: width)
        return [outputChannels, g.outputHeight, g.outputWidth]
    }

    /// `true` for one filter group per input channel, which runs direct kernels.
    func isDepthwise(channels: Int) -> Bool { groups == channels && groups > 1 }

    /// `true` once ``prepared(inputShapes:)`` built the Winograd weights of `pass`.
    func hasWinogradWeights(_ pass: Pass) -> Bool {
        pass == .forward ? winogradForward != nil : winogradInputGradient != nil
    }

    /// `true` when the VJP reads the forward's Winograd weights instead of its own.
    var sharesWinogradWeights: Bool { winogradInputGradient?.readsForwardWeights ?? false }

    /// `true` once ``prepared(inputShapes:)`` built the per-phase weights of the transposed VJP.
    var hasTransposedWeights: Bool { transposed != nil }

    /// Channels below which Winograd is not used by default.
    public static let winogradThreshold = 16

    /// `true` when `pass` is to run by Winograd's minimal filtering on this geometry (it does once
    /// ``prepared(inputShapes:)`` built the weights): a 3×3 kernel at stride 1, dilation 1, one
    /// group, top and left padding at most 2 (the VJP pads by `2 − pad`), at least
    /// ``winogradMinimumChannels`` input and output channels (for a VJP on a map smaller than
    /// ``WinogradMinimum/largeMapPixels``, ``WinogradMinimum/smallMapChannels``) and the pass's minimum of input
    /// and output pixels (``winogradMinimum``).
    func usesWinograd(_ pass: Pass, channels: Int, geometry g: WindowGeometry) -> Bool {
        let pixels = min(g.inputPlane, g.outputPlane)
        let minimumPixels = pass == .forward ? winogradMinimum.forwardPixels : winogradMinimum.inputGradientPixels
        let minimumChannels = pass == .inputGradient && pixels < winogradMinimum.largeMapPixels
            ? max(winogradMinimumChannels, winogradMinimum.smallMapChannels) : winogradMinimumChannels
        return weights.shape.rank == 4 && g.kernelHeight == 3 && g.kernelWidth == 3 && groups == 1
            && g.strideHeight == 1 && g.strideWidth == 1 && g.dilationHeight == 1 && g.dilationWidth == 1
            && g.padTop <= 2 && g.padLeft <= 2
            && min(channels, outputChannels) >= minimumChannels
            && pixels >= minimumPixels
    }

    /// The VJP method for an input of `channels` channels and `rows` cotangent rows per call.
    func backwardMethod(channels: Int, geometry g: WindowGeometry, rows: Int) -> BackwardMethod {
        if g.isPointwise { return .transposed }
        let winograd = hasWinogradWeights(.inputGradient) && usesWinograd(.inputGradient, channels: channels, geometry: g)
        if let backwardMethodOverride, backwardMethodOverride != .winograd || winograd { return backwardMethodOverride }
        if winograd {
            let tiles = winogradVariant(geometry: g).tiles(outputHeight: g.inputHeight, outputWidth: g.inputWidth)
            return rows * tiles.rows * tiles.columns >= winogradMinimum.inputGradientTiles ? .winograd : .columns
        }
        // Strided: the transposed method's sub-pixel phases have few taps each (shallow GEMMs);
        // one deep GEMM and col2im measured faster (resnet18's 3×3/2 and 1×1/2 VJPs: 34 → 27 ms
        // and 8.7 → 6.5 ms for the Jacobian).
        if g.strideHeight > 1 || g.strideWidth > 1 { return .columns }
        return outputChannels / groups > 2 * (channels / groups) ? .columns : .transposed
    }

    /// The VJP methods for any number of rows per call: the method with one row and with many.
    func possibleBackwardMethods(channels: Int, geometry g: WindowGeometry) -> Set<BackwardMethod> {
        Set([1, 1 << 20].map { backwardMethod(channels: channels, geometry: g, rows: $0) })
    }

    public func scratchCount(inputShapes: [TensorShape], outputShape: TensorShape) -> Int {
        guard let (channels, height, width) = inputShapes[0].channelsHeightWidth,
              let g = try? window.geometry(inputHeight: height, inputWidth: width) else { return 0 }
        if isDepthwise(channels: channels) { return DepthwiseConvolution.scratchCount(g) }
        guard weights.shape.rank == 4, groups > 0, channels % groups == 0 else { return 0 }
        let groupInputs = channels / groups, groupOutputs = outputChannels / groups
        let depth = groupInputs * g.kernelArea
        func need(depth: Int, gridWidth: Int, productRows: Int, table: Int) -> Int {
            let width = ColumnBlocking.targetWidth(depth: depth, override: gemmWidthOverride)
            return table + (depth + productRows) * ColumnBlocking.maximumColumns(width: width, gridWidth: gridWidth)
        }
        var result = need(depth: depth, gridWidth: g.outputWidth, productRows: groupOutputs,
                          table: forwardTableCount(g))
        if usesWinograd(.forward, channels: channels, geometry: g) {
            result = max(result, WinogradConvolution.scratchCount(
                forwardWinogradVariant, inputs: channels, outputs: outputChannels, outputHeight: g.outputHeight,
                outputWidth: g.outputWidth, override: gemmWidthOverride))
        }
        for method in possibleBackwardMethods(channels: channels, geometry: g) {
            switch method {
            case .winograd:
                let variants = takesFewTilesVariant(geometry: g) ? [winogradVariant(geometry: g), .f2x2] : [winogradVariant(geometry: g)]
                for variant in variants {
                    result = max(result, WinogradConvolution.scratchCount(
                        variant, inputs: outputChannels, outputs: channels, outputHeight: g.inputHeight,
                        outputWidth: g.inputWidth, override: gemmWidthOverride))
                }
            case .columns:
                result = max(result, need(depth: depth, gridWidth: g.outputWidth, productRows: groupOutputs, table: 0))
                if SparseColumnsGradient.applies(channels: channels, groups: groups, geometry: g) {
                    result = max(result, SparseColumnsGradient.scratchCount(channels: channels, outputChannels: outputChannels,
                                                                            geometry: g))
                }
            case .transposed:
                transposedWeights()?.forEachPhase(g) { phase in
                    result = max(result, need(depth: groupOutputs * phase.taps, gridWidth: phase.gridWidth,
                                              productRows: groupInputs, table: gatherTableCount(phase)))
                }
            }
        }
        return result
    }

    /// Scratch floats for the forward ``PatchTable`` (0 when the map is large or pointwise).
    private func forwardTableCount(_ g: WindowGeometry) -> Int {
        g.isPointwise || g.outputPlane > PatchTable.maximumPositions ? 0
            : PatchTable.count(taps: g.kernelArea, positions: g.outputPlane)
    }

    /// Scratch floats for a phase's gather ``PatchTable`` (0 when its grid is large).
    private func gatherTableCount(_ phase: TransposedConvolution.Phase) -> Int {
        let positions = phase.gridHeight * phase.gridWidth
        return positions > PatchTable.maximumPositions ? 0 : PatchTable.count(taps: phase.taps, positions: positions)
    }

    private func geometry(_ shape: TensorShape) -> WindowGeometry {
        // Shapes were validated by outputShape(inputShapes:) when the graph was compiled.
        try! window.geometry(inputHeight: shape[1], inputWidth: shape[2])
    }

    /// Multiply-adds below which a call runs on one thread by default (waking a second one costs
    /// more than it saves).
    public static let parallelThreshold = 1 << 21

    /// How a call's GEMM blocks are spread over `team`: the threads to use, and into how many
    /// parts each block's GEMM rows are split (more than 1 only when there are fewer blocks
    /// than threads, e.g. the one small frame of batch 1).
    private func threading(team: ThreadTeam, blocks: Int, multiplyAdds: Int) -> (threads: Int, parts: Int) {
        guard team.count > 1, multiplyAdds >= minimumParallelWork else { return (1, 1) }
        return (team.count, blocks < team.count ? team.count : 1)
    }

    // MARK: Forward

    public func forward(_ invocation: ForwardInvocation) {
        let channels = invocation.inputShapes[0][0]
        let g = geometry(invocation.inputShapes[0])
        if let dense = denseForm(.forward, inputShape: invocation.inputShapes[0], outputShape: invocation.outputShape,
                                 geometry: g, rows: invocation.batch) {
            forwardDense(invocation, dense: dense)
            return
        }
        let groupInputs = channels / groups, groupOutputs = outputChannels / groups
        let depth = groupInputs * g.kernelArea
        let outputFrame = invocation.outputShape.elementCount
        let plane = g.outputPlane, outputWidth = g.outputWidth
        weights.values.withUnsafeBufferPointer { w in
            if isDepthwise(channels: channels) {
                let threads = invocation.batch * outputFrame * g.kernelArea >= minimumParallelWork / 4 ? invocation.team.count : 1
                let multiplier = groupOutputs
                // Work items: frames × slices of input channels.
                let slices = threads > 1 ? min(channels, 4 * threads) : 1
                invocation.team.forEach(items: invocation.batch * slices, threads: threads) { item, thread in
                    let frame = item / slices, slice = item % slices
                    let first = slice * channels / slices, end = (slice + 1) * channels / slices
                    DepthwiseConvolution.forward(
                        input: invocation.input(0, frame: frame), weights: w.baseAddress!, bias: bias, channels: first..<end,
                        multiplier: multiplier, geometry: g, activation: activation,
                        scratch: invocation.scratch + thread * invocation.scratchStride,
                        output: invocation.output + frame * outputFrame)
                }
                return
            }
            if usesWinograd(.forward, channels: channels, geometry: g), let winogradForward {
                let threads = invocation.batch * plane * depth * outputChannels >= minimumParallelWork ? invocation.team.count : 1
                withBias { bias in
                    winogradForward.run(
                        items: invocation.batch,
                        geometry: .init(inputHeight: g.inputHeight, inputWidth: g.inputWidth, outputHeight: g.outputHeight,
                                        outputWidth: g.outputWidth, padTop: g.padTop, padLeft: g.padLeft),
                        input: { UnsafePointer(invocation.input(0, frame: $0)) }, output: { invocation.output + $0 * outputFrame },
                        accumulate: false, bias: bias, activation: activation, team: invocation.team, threads: threads,
                        scratch: invocation.scratch, scratchStride: invocation.scratchStride, widthOverride: gemmWidthOverride)
                }
                return
            }
            let width = ColumnBlocking.targetWidth(depth: depth, override: gemmWidthOverride)
            let plan = ColumnBlocking.Plan(items: invocation.batch, gridHeight: g.outputHeight, gridWidth: outputWidth, width: width,
                                           threads: invocation.team.count)
            let (threads, parts) = threading(team: invocation.team, blocks: plan.count,
                                             multiplyAdds: invocation.batch * plane * depth * groupOutputs)
            // Small maps: im2col through a table of offsets, at the start of thread 0's scratch.
            let tableCount = forwardTableCount(g)
            let table = UnsafeMutableRawPointer(invocation.scratch).assumingMemoryBound(to: Int32.self)
            if tableCount > 0 { PatchTable.fillUnfold(table, geometry: g) }
            func unfold(_ x: UnsafePointer<Float>, rows: Range<Int>, into columns: UnsafeMutablePointer<Float>, rowStride: Int) {
                if tableCount > 0 {
                    PatchTable.apply(table, taps: g.kernelArea, positions: plane, first: rows.lowerBound * outputWidth,
                                     count: rows.count * outputWidth, source: x, planes: groupInputs,
                                     planeStride: g.inputPlane, into: columns, rowStride: rowStride)
                } else {
                    Im2Col.unfold(x, channels: groupInputs, geometry: g, outputRows: rows, into: columns, rowStride: rowStride)
                }
            }
            for group in 0..<groups {
                func frameInput(_ frame: Int) -> UnsafeMutablePointer<Float> {
                    invocation.input(0, frame: frame) + group * groupInputs * g.inputPlane
                }
                func frameOutput(_ frame: Int) -> UnsafeMutablePointer<Float> {
                    invocation.output + frame * outputFrame + group * groupOutputs * plane
                }
                let packed = packedDirectWeights.isEmpty ? nil : packedDirectWeights[group]
                // Parts of the filters start on whole panels of the packed weights.
                let panelRows = packed?.panelRows ?? 1
                invocation.team.forEach(items: plan.count * parts, threads: threads) { item, thread in
                    // This item's filters: part `item % parts` of the group's.
                    let part = item % parts
                    func boundary(_ part: Int) -> Int {
                        part == parts ? groupOutputs : part * groupOutputs / parts / panelRows * panelRows
                    }
                    let firstFilter = boundary(part), filters = boundary(part + 1) - firstFilter
                    guard filters > 0 else { return }
                    let groupWeights = w.baseAddress! + group * groupOutputs * depth
                    let filterRange = firstFilter..<(firstFilter + filters)
                    let biasIndex = group * groupOutputs + firstFilter
                    let scratch = invocation.scratch + thread * invocation.scratchStride + tableCount
                    switch plan[item / parts] {
                    case let .band(frame, rows):
                        // One frame's band of output rows: the GEMM writes the output in place.
                        let count = rows.count * outputWidth
                        let x = frameInput(frame)
                        let y = frameOutput(frame) + firstFilter * plane + rows.lowerBound * outputWidth
                        let columns: UnsafePointer<Float>, columnStride: Int
                        if g.isPointwise {
                            (columns, columnStride) = (UnsafePointer(x + rows.lowerBound * outputWidth), plane)
                        } else {
                            unfold(x, rows: rows, into: scratch, rowStride: count)
                            (columns, columnStride) = (UnsafePointer(scratch), count)
                        }
                        GEMM.multiply(packedA: packed, transposeA: false, m: groupOutputs, rows: filterRange, n: count, k: depth,
                                      a: groupWeights, lda: depth, b: columns, ldb: columnStride, c: y, ldc: plane)
                        epilogue(y, rowStride: plane, from: y, sourceStride: plane, filters: biasIndex, count: filters,
                                 length: count)
                    case let .items(frames):
                        // Several small frames side by side in one GEMM, then scattered.
                        let columnCount = frames.count * plane
                        let columns = scratch, product = scratch + depth * columnCount
                        for (slot, frame) in frames.enumerated() {
                            let x = frameInput(frame)
                            if g.isPointwise {
                                for c in 0..<groupInputs {
                                    (columns + c * columnCount + slot * plane).update(from: x + c * plane, count: plane)
                                }
                            } else {
                                unfold(x, rows: 0..<g.outputHeight, into: columns + slot * plane, rowStride: columnCount)
                            }
                        }
                        GEMM.multiply(packedA: packed, transposeA: false, m: groupOutputs, rows: filterRange, n: columnCount,
                                      k: depth, a: groupWeights, lda: depth, b: columns, ldb: columnCount, c: product,
                                      ldc: columnCount)
                        for (slot, frame) in frames.enumerated() {
                            epilogue(frameOutput(frame) + firstFilter * plane, rowStride: plane, from: product + slot * plane,
                                     sourceStride: columnCount, filters: biasIndex, count: filters, length: plane)
                        }
                    }
                }
            }
        }
    }

    /// Calls `body` with the bias values (`nil` without bias).
    private func withBias<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let bias else { return body(nil) }
        return bias.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// `destination[m][i] = activation(source[m][i] + bias[firstFilter + m])` for `count` filter
    /// rows of `length` values (in place when `source == destination`).
    @inline(__always)
    func epilogue(_ destination: UnsafeMutablePointer<Float>, rowStride: Int, from source: UnsafePointer<Float>,
                  sourceStride: Int, filters firstFilter: Int, count: Int, length: Int) {
        for m in 0..<count {
            let d = destination + m * rowStride, s = source + m * sourceStride
            let b = bias?[firstFilter + m] ?? 0
            switch activation {
            case .none: for i in 0..<length { d[i] = s[i] + b }
            case .relu: for i in 0..<length { d[i] = max(s[i] + b, 0) }
            case let .clip(minimum, maximum): for i in 0..<length { d[i] = min(max(s[i] + b, minimum), maximum) }
            }
        }
    }

    // MARK: VJP

    public func backward(_ invocation: BackwardInvocation) {
        let channels = invocation.inputShapes[0][0]
        let g = geometry(invocation.inputShapes[0])
        let dense = denseForm(.inputGradient, inputShape: invocation.inputShapes[0], outputShape: invocation.outputShape,
                              geometry: g, rows: invocation.rows)
        let depthwise = isDepthwise(channels: channels)
        let method = dense == nil && !depthwise ? backwardMethod(channels: channels, geometry: g, rows: invocation.rows) : nil
        // The columns method from `dY`'s nonzeros masks `dY` as it reads it: before the mask pass.
        if method == .columns, backwardSparse(invocation, channels: channels, geometry: g) { return }
        activation.maskGradient(invocation.outputGradient, output: invocation.output,
                                frame: invocation.outputShape.elementCount, batch: invocation.batch,
                                cotangentsPerFrame: invocation.cotangentsPerFrame, team: invocation.team)
        if let dense {
            backwardDense(invocation, dense: dense)
            return
        }
        if depthwise {
            guard let dx = invocation.inputGradients[0] else { return }
            let accumulate = invocation.accumulate[0]
            let outputFrame = invocation.outputShape.elementCount, inputFrame = invocation.inputShapes[0].elementCount
            let threads = invocation.rows * outputFrame * g.kernelArea >= minimumParallelWork / 4 ? invocation.team.count : 1
            let slices = threads > 1 ? min(channels, 4 * threads) : 1
            let multiplier = outputChannels / groups
            weights.values.withUnsafeBufferPointer { w in
                invocation.team.forEach(items: invocation.rows * slices, threads: threads) { item, thread in
                    let row = item / slices, slice = item % slices
                    DepthwiseConvolution.backward(
                        outputGradient: invocation.outputGradient + row * outputFrame, weights: w.baseAddress!,
                        channels: (slice * channels / slices)..<((slice + 1) * channels / slices), multiplier: multiplier,
                        geometry: g, scratch: invocation.scratch + thread * invocation.scratchStride,
                        accumulate: accumulate, inputGradient: dx + row * inputFrame)
                }
            }
            return
        }
        switch method {
        case .transposed?: backwardTransposed(invocation, geometry: g)
        case .columns?: backwardColumns(invocation, geometry: g)
        case .winograd?: backwardWinograd(invocation, geometry: g)
        case nil: break
        }
    }

    /// The Winograd VJP: `dX` is the correlation of `dY` with the flipped, channel-transposed
    /// kernel, padded by `2 − pad` (stride 1, so one pass writes every pixel of `dX`).
    private func backwardWinograd(_ invocation: BackwardInvocation, geometry g: WindowGeometry) {
        guard let dx = invocation.inputGradients[0],
              let winogradInputGradient = winogradInputGradient(rows: invocation.rows, geometry: g) else { return }
        let channels = invocation.inputShapes[0][0]
        let inputFrame = invocation.inputShapes[0].elementCount, outputFrame = invocation.outputShape.elementCount
        let multiplyAdds = invocation.rows * g.inputPlane * channels * outputChannels * g.kernelArea
        winogradInputGradient.run(
            items: invocation.rows,
            geometry: .init(inputHeight: g.outputHeight, inputWidth: g.outputWidth, outputHeight: g.inputHeight,
                            outputWidth: g.inputWidth, padTop: 2 - g.padTop, padLeft: 2 - g.padLeft),
            input: { UnsafePointer(invocation.outputGradient + $0 * outputFrame) }, output: { dx + $0 * inputFrame },
            accumulate: invocation.accumulate[0], bias: nil, activation: .none, team: invocation.team,
            threads: multiplyAdds >= minimumParallelWork ? invocation.team.count : 1,
            scratch: invocation.scratch, scratchStride: invocation.scratchStride, widthOverride: gemmWidthOverride)
    }

    /// The transposed VJP: per group and sub-pixel phase, `W_T · gather(dY)` onto the phase's pixels.
    private func backwardTransposed(_ invocation: BackwardInvocation, geometry g: WindowGeometry) {
        guard let dx = invocation.inputGradients[0], let transposed = transposedWeights() else { return }
        let accumulate = invocation.accumulate[0]
        let channels = invocation.inputShapes[0][0]
        let groupInputs = channels / groups, groupOutputs = outputChannels / groups
        let inputFrame = invocation.inputShapes[0].elementCount, outputFrame = invocation.outputShape.elementCount
        let plane = g.outputPlane, inputPlane = g.inputPlane, inputWidth = g.inputWidth
        let direct = g.strideHeight == 1 && g.strideWidth == 1
        transposed.weights.withUnsafeBufferPointer { w in
            for group in 0..<groups {
                func rowGradient(_ row: Int) -> UnsafeMutablePointer<Float> {
                    invocation.outputGradient + row * outputFrame + group * groupOutputs * plane
                }
                func rowInputGradient(_ row: Int) -> UnsafeMutablePointer<Float> {
                    dx + row * inputFrame + group * groupInputs * inputPlane
                }
                transposed.forEachPhase(g) { phase in
                    let gridWidth = phase.gridWidth, gridPlane = phase.gridHeight * phase.gridWidth
                    guard gridPlane > 0 else { return }
                    guard phase.taps > 0 else {
                        // No kernel tap reaches these pixels: their gradient is 0.
                        if !accumulate {
                            for row in 0..<invocation.rows {
                                scatter(zerosTo: rowInputGradient(row), channels: groupInputs, phase: phase, geometry: g)
                            }
                        }
                        return
                    }
                    let depth = groupOutputs * phase.taps
                    let matrix = transposed.matrix(phase, group: group, strideWidth: g.strideWidth, in: w.baseAddress!)
                    // A 1×1 kernel at stride 1 without padding gathers dY unchanged: use it in place.
                    let identity = direct && phase.taps == 1 && gridPlane == plane
                        && transposed.shift(row: transposed.rowClasses[phase.rowClass][0], phase: phase, geometry: g) == 0
                        && transposed.shift(column: transposed.columnClasses[phase.columnClass][0], phase: phase, geometry: g) == 0
                    let width = ColumnBlocking.targetWidth(depth: depth, override: gemmWidthOverride)
                    let plan = ColumnBlocking.Plan(items: invocation.rows, gridHeight: phase.gridHeight, gridWidth: gridWidth,
                                                   width: width, threads: invocation.team.count)
                    let (threads, parts) = threading(team: invocation.team, blocks: plan.count,
                                                     multiplyAdds: invocation.rows * gridPlane * depth * groupInputs)
                    // Small grids: gather through a table of offsets, at the start of thread 0's scratch.
                    let tableCount = identity ? 0 : gatherTableCount(phase)
                    let table = UnsafeMutableRawPointer(invocation.scratch).assumingMemoryBound(to: Int32.self)
                    if tableCount > 0 { PatchTable.fillGather(table, transposed: transposed, phase: phase, geometry: g) }
                    func gather(_ row: Int, gridRows: Range<Int>, into columns: UnsafeMutablePointer<Float>, rowStride: Int) {
                        if tableCount > 0 {
                            PatchTable.apply(table, taps: phase.taps, positions: gridPlane, first: gridRows.lowerBound * gridWidth,
                                             count: gridRows.count * gridWidth, source: rowGradient(row), planes: groupOutputs,
                                             planeStride: plane, into: columns, rowStride: rowStride)
                        } else {
                            transposed.gather(rowGradient(row), planes: groupOutputs, height: g.outputHeight,
                                              width: g.outputWidth, phase: phase, geometry: g, gridRows: gridRows,
                                              into: columns, rowStride: rowStride)
                        }
                    }
                    invocation.team.forEach(items: plan.count * parts, threads: threads) { item, thread in
                        // This item's input channels: part `item % parts` of the group's.
                        let part = item % parts
                        let firstChannel = part * groupInputs / parts
                        let channelCount = (part + 1) * groupInputs / parts - firstChannel
                        guard channelCount > 0 else { return }
                        let a = matrix + firstChannel * depth
                        let scratch = invocation.scratch + thread * invocation.scratchStride + tableCount
                        switch plan[item / parts] {
                        case let .band(row, gridRows):
                            let count = gridRows.count * gridWidth
                            let columns: UnsafePointer<Float>, columnStride: Int
                            if identity {
                                (columns, columnStride) = (UnsafePointer(rowGradient(row) + gridRows.lowerBound * gridWidth), plane)
                            } else {
                                gather(row, gridRows: gridRows, into: scratch, rowStride: count)
                                (columns, columnStride) = (UnsafePointer(scratch), count)
                            }
                            let target = rowInputGradient(row) + firstChannel * inputPlane
                            if direct {
                                GEMM.multiply(m: channelCount, n: count, k: depth,
                                              a: a, lda: depth,
                                              b: columns, ldb: columnStride,
                                              beta: accumulate ? 1 : 0, c: target + gridRows.lowerBound * inputWidth, ldc: inputPlane)
                            } else {
                                let product = scratch + depth * count
                                GEMM.multiply(m: channelCount, n: count, k: depth,
                                              a: a, lda: depth,
                                              b: columns, ldb: columnStride, c: product, ldc: count)
                                scatter(product, rowStride: count, to: target, channels: channelCount,
                                        phase: phase, gridRows: gridRows, geometry: g, accumulate: accumulate)
                            }
                        case let .items(rows):
                            let columnCount = rows.count * gridPlane
                            let columns = scratch, product = scratch + depth * columnCount
                            for (slot, row) in rows.enumerated() {
                                if identity {
                                    let dy = rowGradient(row)
                                    for m in 0..<groupOutputs {
                                        (columns + m * columnCount + slot * plane).update(from: dy + m * plane, count: plane)
                                    }
                                } else {
                                    gather(row, gridRows: 0..<phase.gridHeight, into: columns + slot * gridPlane,
                                           rowStride: columnCount)
                                }
                            }
                            GEMM.multiply(m: channelCount, n: columnCount, k: depth,
                                          a: a, lda: depth,
                                          b: columns, ldb: columnCount, c: product, ldc: columnCount)
                            for (slot, row) in rows.enumerated() {
                                scatter(product + slot * gridPlane, rowStride: columnCount,
                                        to: rowInputGradient(row) + firstChannel * inputPlane, channels: channelCount,
                                        phase: phase, gridRows: 0..<phase.gridHeight, geometry: g, accumulate: accumulate)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Writes (or adds) `source` (`channels` rows `rowStride` apart, each `gridRows.count·Wa`
    /// values) onto the pixels `(ph + sH·a, pw + sW·b)` of `channels` planes of `inputGradient`.
    @inline(__always)
    private func scatter(_ source: UnsafePointer<Float>, rowStride: Int, to inputGradient: UnsafeMutablePointer<Float>,
                         channels: Int, phase: TransposedConvolution.Phase, gridRows: Range<Int>,
                         geometry g: WindowGeometry, accumulate: Bool) {
        let gridWidth = phase.gridWidth, step = g.strideWidth
        for c in 0..<channels {
            for a in gridRows {
                let s = source + c * rowStride + (a - gridRows.lowerBound) * gridWidth
                let d = inputGradient + c * g.inputPlane + (phase.row + g.strideHeight * a) * g.inputWidth + phase.column
                if accumulate {
                    for b in 0..<gridWidth { d[b * step] += s[b] }
                } else {
                    for b in 0..<gridWidth { d[b * step] = s[b] }
                }
            }
        }
    }

    /// Sets the pixels of `phase` in `channels` planes of `inputGradient` to 0.
    private func scatter(zerosTo inputGradient: UnsafeMutablePointer<Float>, channels: Int,
                         phase: TransposedConvolution.Phase, geometry g: WindowGeometry) {
        for c in 0..<channels {
            for a in 0..<phase.gridHeight {
                let d = inputGradient + c * g.inputPlane + (phase.row + g.strideHeight * a) * g.inputWidth + phase.column
                for b in 0..<phase.gridWidth { d[b * g.strideWidth] = 0 }
            }
        }
    }

    /// For a VJP that runs by the columns method: from `dY`'s nonzeros instead
    /// (``SparseColumnsGradient``), with the fused activation's mask applied as `dY` is read,
    /// when `dY` (masked) is sparse enough or the test forces it; `false` when it does not run.
    private func backwardSparse(_ invocation: BackwardInvocation, channels: Int, geometry g: WindowGeometry) -> Bool {
        guard invocation.inputGradients[0] != nil,
              let sparse = sparseColumnsGradient(channels: channels, geometry: g) else { return false }
        guard sparseGradientOverride == true
            || sparse.sampledDensity(invocation.outputGradient, output: invocation.output, activation: activation)
                <= SparseColumnsGradient.densityMaximum else { return false }
        guard let dx = invocation.zeroedGradient(0) else { return false }
        // About the multiply-adds it does at the densities it takes (an eighth of the columns method's).
        let work = invocation.rows * g.outputPlane * outputChannels * channels * g.kernelArea / 8
        sparse.run(outputGradient: invocation.outputGradient, rows: invocation.rows,
                   outputFrame: invocation.outputShape.elementCount, output: invocation.output,
                   cotangentsPerFrame: invocation.cotangentsPerFrame, activation: activation, inputGradient: dx,
                   inputFrame: invocation.inputShapes[0].elementCount, team: invocation.team,
                   threads: work >= minimumParallelWork ? invocation.team.count : 1,
                   scratch: invocation.scratch, scratchStride: invocation.scratchStride)
        return true
    }

    /// The columns VJP from `dY`'s nonzeros: prepared, or (an operator run without
    /// ``prepared(inputShapes:)`` whose test forces it) built now; `nil` when turned off or the
    /// convolution has not that form.
    private func sparseColumnsGradient(channels: Int, geometry g: WindowGeometry) -> SparseColumnsGradient? {
        guard sparseGradientOverride != false else { return nil }
        if let sparseColumns { return sparseColumns }
        guard sparseGradientOverride == true else { return nil }
        return SparseColumnsGradient(weights: weights, channels: channels, groups: groups, geometry: g)
    }

    /// The columns VJP: `W_gᵀ · dY` into im2col columns, folded back onto `dX` with `col2im`.
    private func backwardColumns(_ invocation: BackwardInvocation, geometry g: WindowGeometry) {
        guard let dx = invocation.zeroedGradient(0) else { return }
        let channels = invocation.inputShapes[0][0]
        let groupInputs = channels / groups, groupOutputs = outputChannels / groups
        let depth = groupInputs * g.kernelArea
        let inputFrame = invocation.inputShapes[0].elementCount, outputFrame = invocation.outputShape.elementCount
        let plane = g.outputPlane, outputWidth = g.outputWidth
        let width = ColumnBlocking.targetWidth(depth: depth, override: gemmWidthOverride)
        let plan = ColumnBlocking.Plan(items: invocation.rows, gridHeight: g.outputHeight, gridWidth: outputWidth, width: width,
                                       threads: invocation.team.count)
        // col2im of two bands of one row adds onto shared pixels: a work unit is all the blocks
        // of one row (bands) or one block of whole rows (items), never part of a row.
        let units = plan.bands ? invocation.rows : plan.count
        let (threads, channelParts) = threading(team: invocation.team, blocks: units,
                                                multiplyAdds: invocation.rows * plane * depth * groupOutputs)
        // Fewer rows than threads and input channels that do not split evenly over them (an RGB
        // stem's 3): the threads take bands instead, in two rounds, even bands then odd ones,
        // when the input rows two bands apart fold onto cannot meet: the band between them (at
        // least the shortest band's rows) spans more rows than a window's overhang.
        let bandRounds = plan.bands && channelParts > 1 && groupInputs % channelParts != 0
            && plan.bandsPerItem >= 2 * threads
            && (plan.shortestBand + 1) * g.strideHeight > (g.kernelHeight - 1) * g.dilationHeight
        let parts = bandRounds ? 1 : channelParts
        weights.values.withUnsafeBufferPointer { w in
            for group in 0..<groups {
                func rowGradient(_ row: Int) -> UnsafeMutablePointer<Float> {
                    invocation.outputGradient + row * outputFrame + group * groupOutputs * plane
                }
                func rowInputGradient(_ row: Int) -> UnsafeMutablePointer<Float> {
                    dx + row * inputFrame + group * groupInputs * g.inputPlane
                }
                let packed = packedColumnsWeights.isEmpty ? nil : packedColumnsWeights[group]
                let groupWeights = w.baseAddress! + group * groupOutputs * depth
                /// Block `block` for input channels `firstChannel..<firstChannel + channelCount`: rows
                /// `firstChannel·kH·kW …` of `W_gᵀ`, from the packed copy when they start on a panel.
                func run(_ block: Int, firstChannel: Int, channelCount: Int, thread: Int) {
                    let rowsOfColumns = channelCount * g.kernelArea
                    let weightRows = (firstChannel * g.kernelArea)..<(firstChannel * g.kernelArea + rowsOfColumns)
                    let packedRows = packed.flatMap { weightRows.lowerBound % $0.panelRows == 0 ? $0 : nil }
                    let scratch = invocation.scratch + thread * invocation.scratchStride
                    switch plan[block] {
                    case let .band(row, rows):
                        let count = rows.count * outputWidth
                        GEMM.multiply(packedA: packedRows, transposeA: true, m: depth, rows: weightRows, n: count,
                                      k: groupOutputs, a: groupWeights, lda: depth,
                                      b: rowGradient(row) + rows.lowerBound * outputWidth, ldb: plane,
                                      c: scratch, ldc: count)
                        Im2Col.fold(scratch, channels: channelCount, geometry: g, outputRows: rows,
                                    addingInto: rowInputGradient(row) + firstChannel * g.inputPlane)
                    case let .items(rows):
                        let columnCount = rows.count * plane
                        let columns = scratch, gathered = scratch + depth * columnCount
                        for (slot, row) in rows.enumerated() {
                            let dy = rowGradient(row)
                            for m in 0..<groupOutputs {
                                (gathered + m * columnCount + slot * plane).update(from: dy + m * plane, count: plane)
                            }
                        }
                        GEMM.multiply(packedA: packedRows, transposeA: true, m: depth, rows: weightRows, n: columnCount,
                                      k: groupOutputs, a: groupWeights, lda: depth,
                                      b: gathered, ldb: columnCount, c: columns, ldc: columnCount)
                        for (slot, row) in rows.enumerated() {
                            Im2Col.fold(columns + slot * plane, channels: channelCount, geometry: g,
                                        addingInto: rowInputGradient(row) + firstChannel * g.inputPlane, rowStride: columnCount)
                        }
                    }
                }
                if bandRounds {
                    for round in 0..<2 {
                        let perRow = (plan.bandsPerItem - round + 1) / 2
                        invocation.team.forEach(items: invocation.rows * perRow, threads: threads) { item, thread in
                            let row = item / perRow, band = 2 * (item % perRow) + round
                            run(row * plan.bandsPerItem + band, firstChannel: 0, channelCount: groupInputs, thread: thread)
                        }
                    }
                    continue
                }
                invocation.team.forEach(items: units * parts, threads: threads) { item, thread in
                    // This item's input channels (each kH·kW rows of the columns).
                    let part = item % parts, unit = item / parts
                    let firstChannel = part * groupInputs / parts
                    let channelCount = (part + 1) * groupInputs / parts - firstChannel
                    guard channelCount > 0 else { return }
                    let blocks = plan.bands ? (unit * plan.bandsPerItem)..<((unit + 1) * plan.bandsPerItem) : unit..<(unit + 1)
                    for block in blocks { run(block, firstChannel: firstChannel, channelCount: channelCount, thread: thread) }
                }
            }
        }
    }
}
