import Testing
@testable import Engine

/// Winograd's F(2×2, 3×3) and F(4×4, 3×3) (``WinogradConvolution``) against the reference
/// convolution and against the engine's direct method, forced on small cases
/// (`winogradMinimumChannels` 1, `winogradMinimum` `.always`, the variant by override).
/// An F(2×2) VJP reads its F(2×2) forward's weights; cases also run with the forward direct, so
/// that the VJP holds its own.
@Suite struct WinogradConvolutionTests {
    static let variants: [WinogradVariant] = [.f2x2, .f4x4]

    /// A convolution forced through Winograd: the VJP always, the forward when `forward`.
    private func winogradOperator(weights: TensorShape, bias: Bool = true, padding: WindowPadding,
                                  activation: FusedActivation = .none, variant: WinogradVariant,
                                  forward: Bool = true) -> ConvolutionOperator {
        var op = ConvolutionOperator(weights: randomTensor(weights, seed: 31),
                                     bias: bias ? randomTensor([weights[0]], seed: 32).values : nil,
                                     padding: padding, activation: activation)
        op.winogradMinimumChannels = 1
        op.denseOverride = false
        op.winogradMinimum = forward ? .always : .init(forwardPixels: .max, inputGradientPixels: 1, inputGradientTiles: 1, smallMapChannels: 1)
        op.winogradVariantOverride = variant
        return op
    }

    /// The F(2×2) VJP that reads its forward's weights (the mirrored position, transposed) sees
    /// the same `U'` as one transformed from the flipped, channel-swapped kernel itself.
    @Test func sharedInputGradientWeightsMatchTheirOwnTransform() {
        let weights = randomTensor([5, 3, 3, 3], seed: 33)
        let forward = WinogradConvolution(forward: weights, variant: .f2x2)
        let shared = WinogradConvolution(inputGradientSharing: forward)
        let own = WinogradConvolution(inputGradientOf: weights, variant: .f2x2)
        #expect(shared.readsForwardWeights && !own.readsForwardWeights)
        #expect((shared.inputs, shared.outputs) == (5, 3) && (own.inputs, own.outputs) == (5, 3))
        #expect(shared.weights.count == forward.weights.count)
        // The position map is the swap of rows/columns 0 and 3 of the 4×4 grid, an involution.
        #expect((0..<16).map { WinogradConvolution.mirrored(position: $0) }
            == [15, 13, 14, 12, 7, 5, 6, 4, 11, 9, 10, 8, 3, 1, 2, 0])
        var largestDifference: Float = 0, largest: Float = 0
        for position in 0..<16 {
            for c in 0..<3 {
                for k in 0..<5 {
                    let expected = own.transformedWeight(position: position, output: c, input: k)
                    largestDifference = max(largestDifference,
                                            abs(shared.transformedWeight(position: position, output: c, input: k) - expected))
                    largest = max(largest, abs(expected))
                }
            }
        }
        #expect(largest > 0.5)
        #expect(largestDifference <= 1e-6 * largest)
    }

    /// The 3×3 box filter over 0…15 with one pixel of padding, by hand (as in
    /// ``ConvolutionOperatorTests``), through the Winograd path.
    @Test(arguments: variants)
    func boxFilterByHand(_ variant: WinogradVariant) throws {
        var op = ConvolutionOperator(weights: Tensor(shape: [1, 1, 3, 3], repeating: 1), padding: .symmetric(1))
        op.winogradMinimumChannels = 1
        op.winogradMinimum = .always
        op.winogradVariantOverride = variant
        op.denseOverride = false
        let g = try op.window.geometry(inputHeight: 4, inputWidth: 4)
        #expect(op.usesWinograd(.forward, channels: 1, geometry: g))
        let workspace = Workspace(model: try CompiledModel(singleNodeGraph(op, inputShape: [1, 4, 4])))
        try workspace.forward((0..<16).map(Float.init), batch: 1)
        expectClose(workspace.outputs, [10, 18, 24, 18, 27, 45, 54, 39, 51, 81, 90, 63, 42, 66, 72, 50] as [Float])
    }

    /// Which convolutions take the Winograd path by default: ResNet's 3×3/1 layers do (on 7×7
    /// maps the VJP only with at least 256 channels); strided, grouped, dilated, 5×5, few-channel, 6×6-map and
    /// wide-padding ones do not — and only the former get transformed weights when prepared for
    /// their input shape. The weights regrouped for the transposed VJP are built only where that
    /// VJP runs.
    @Test func choosesWinogradOnlyWhereItApplies() throws {
        /// Whether (forward, VJP) run by Winograd.
        func uses(_ weights: TensorShape, input: TensorShape, strides: (Int, Int) = (1, 1), padding: WindowPadding = .symmetric(1),
                  dilations: (Int, Int) = (1, 1), groups: Int = 1) throws -> [Bool] {
            let op = ConvolutionOperator(weights: Tensor(shape: weights, repeating: 0.1), strides: strides, padding: padding,
                                         dilations: dilations, groups: groups)
            let g = try op.window.geometry(inputHeight: input[1], inputWidth: input[2])
            let chosen = [ConvolutionOperator.Pass.forward, .inputGradient].map {
                op.usesWinograd($0, channels: input[0], geometry: g)
            }
            // The transformed weights exist only where they are used, and the VJP follows.
            let prepared = try #require(op.prepared(inputShapes: [input]) as? ConvolutionOperator)
            #expect([prepared.hasWinogradWeights(.forward), prepared.hasWinogradWeights(.inputGradient)] == chosen)
            #expect(!op.hasWinogradWeights(.forward) && !op.hasWinogradWeights(.inputGradient))
            // Ten cotangent rows (a Jacobian), at least 160 tiles.
            let method = prepared.backwardMethod(channels: input[0], geometry: g, rows: 10)
            #expect((method == .winograd) == chosen[1])
            #expect(prepared.hasTransposedWeights == (method == .transposed && groups != input[0]))
            if chosen[1] {
                // One row: Winograd only with at least 16 tiles, else columns on the weights themselves.
                let tiles = prepared.winogradVariant(geometry: g).tiles(outputHeight: input[1], outputWidth: input[2])
                #expect(prepared.backwardMethod(channels: input[0], geometry: g, rows: 1)
                    == (tiles.rows * tiles.columns >= 16 ? .winograd : .columns))
            }
            #expect(prepared.sharesWinogradWeights == (chosen[0] && chosen[1]
                && prepared.winogradVariant(geometry: g) == .f2x2))
            return chosen
        }
        #expect(try uses([64, 64, 3, 3], input: [64, 56, 56]) == [true, true])
        #expect(try uses([256, 256, 3, 3], input: [256, 14, 14]) == [true, true])
        #expect(try uses([512, 512, 3, 3], input: [512, 7, 7]) == [true, true])
        let layer4 = try #require(ConvolutionOperator(weights: Tensor(shape: [512, 512, 3, 3], repeating: 0.1), padding: .symmetric(1))
            .prepared(inputShapes: [[512, 7, 7]]) as? ConvolutionOperator)
        let g7 = try layer4.window.geometry(inputHeight: 7, inputWidth: 7)
        #expect([1, 2, 3, 10].map { layer4.backwardMethod(channels: 512, geometry: g7, rows: $0) }
            == [.winograd, .winograd, .winograd, .winograd])
        #expect(try uses([512, 512, 3, 3], input: [512, 6, 6]) == [false, false])
        // On 7×7 maps the forward runs by Winograd from 16 channels, the VJP from 256.
        #expect(try uses([256, 256, 3, 3], input: [256, 7, 7]) == [true, true])
        #expect(try uses([128, 512, 3, 3], input: [512, 7, 7]) == [true, false])
        #expect(try uses([32, 32, 3, 3], input: [32, 7, 7]) == [true, false])
        // The tile by map size: 4×4 from 14×14 up (resnet18's 14×14 maps), 2×2 below (its 7×7 ones).
        let layer = ConvolutionOperator(weights: Tensor(shape: [8, 8, 3, 3], repeating: 0.1), padding: .symmetric(1))
        func variant(_ side: Int) throws -> WinogradVariant {
            try layer.winogradVariant(geometry: layer.window.geometry(inputHeight: side, inputWidth: side + 10))
        }
        #expect(try [variant(56), variant(28), variant(14), variant(13), variant(7)] == [.f4x4, .f4x4, .f4x4, .f2x2, .f2x2])
        #expect(try uses([128, 64, 3, 3], input: [64, 56, 56], strides: (2, 2)) == [false, false])
        #expect(try uses([64, 8, 3, 3], input: [64, 56, 56], groups: 8) == [false, false])
        #expect(try uses([64, 64, 3, 3], input: [64, 56, 56], padding: .symmetric(2), dilations: (2, 2)) == [false, false])
        #expect(try uses([64, 64, 5, 5], input: [64, 56, 56], padding: .symmetric(2)) == [false, false])
        #expect(try uses([32, 1, 3, 3], input: [1, 28, 28]) == [false, false])
        #expect(try uses([64, 64, 3, 3], input: [64, 56, 56], padding: .symmetric(3)) == [false, false])
        // Direct VJPs: transposed (pointwise, or stride 1 without Winograd), columns (strided).
        #expect(try uses([64, 32, 1, 1], input: [32, 20, 20], padding: .valid) == [false, false])
        #expect(try uses([32, 32, 3, 3], input: [32, 6, 6]) == [false, false])
        #expect(try uses([32, 32, 3, 3], input: [32, 20, 20], strides: (2, 2)) == [false, false])
        #expect(try uses([32, 1, 3, 3], input: [32, 20, 20], groups: 32) == [false, false])
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var input: TensorShape
        var weights: TensorShape
        var padding: WindowPadding
        var bias = true
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "pad 1, odd 5×7", input: [2, 5, 7], weights: [3, 2, 3, 3], padding: .symmetric(1)),
        Case(name: "valid, even 6×8", input: [3, 6, 8], weights: [2, 3, 3, 3], padding: .valid, bias: false),
        Case(name: "pad 2 (output larger than input)", input: [2, 4, 5], weights: [2, 2, 3, 3], padding: .symmetric(2)),
        Case(name: "asymmetric pads", input: [2, 7, 6], weights: [3, 2, 3, 3],
             padding: .explicit(top: 0, left: 2, bottom: 1, right: 0)),
        Case(name: "1×1 output", input: [2, 3, 3], weights: [2, 2, 3, 3], padding: .valid),
        // 41 columns: 21 tiles, through the 16-, 4- and 1-tile loops; 9 rows (odd).
        Case(name: "wide 9×41, pad 1", input: [1, 9, 41], weights: [2, 1, 3, 3], padding: .symmetric(1)),
        // 29 columns with pad 2: 16 tiles (one 16-tile vector, odd output width).
        Case(name: "29 columns, pad 2, more filters than channels", input: [1, 6, 29], weights: [5, 1, 3, 3],
             padding: .symmetric(2)),
        // 24 output columns: 12 tiles (8 + 4).
        Case(name: "24 columns, SAME_UPPER", input: [2, 5, 24], weights: [2, 2, 3, 3], padding: .sameUpper),
        // F(4×4): 70 output columns = 18 tiles (8 + 8 + 2 single), 6-row tiles past the bottom.
        Case(name: "70 columns, 6 rows, pad 1", input: [1, 6, 70], weights: [2, 1, 3, 3], padding: .symmetric(1)),
    ]

    /// Forward, VJP and finite differences against the reference, with the tiles cut as chosen,
    /// one tile per GEMM block (`gemmWidth` 1) and 20 tiles per block (bands of tile rows, or
    /// several frames and cotangent rows side by side).
    @Test(arguments: cases, [nil, 1, 20])
    func matchesReference(_ testCase: Case, gemmWidth: Int?) throws {
        for variant in Self.variants {
            try matchesReference(testCase, gemmWidth: gemmWidth, variant: variant)
        }
    }

    private func matchesReference(_ testCase: Case, gemmWidth: Int?, variant: WinogradVariant) throws {
        for forward in [true, false] {
            var op = winogradOperator(weights: testCase.weights, bias: testCase.bias, padding: testCase.padding,
                                      variant: variant, forward: forward)
            op.gemmWidthOverride = gemmWidth
            let g = try op.window.geometry(inputHeight: testCase.input[1], inputWidth: testCase.input[2])
            #expect(op.usesWinograd(.forward, channels: testCase.input[0], geometry: g) == forward)
            #expect(op.usesWinograd(.inputGradient, channels: testCase.input[0], geometry: g))
            let prepared = try #require(op.prepared(inputShapes: [testCase.input]) as? ConvolutionOperator)
            #expect(prepared.sharesWinogradWeights == (forward && variant == .f2x2))
            #expect(prepared.backwardMethod(channels: testCase.input[0], geometry: g, rows: 1) == .winograd)
            try checkGraph(singleNodeGraph(op, inputShape: testCase.input), reference: { x in
                Reference.convolution(x, testCase.input, op)
            }, batch: 3)
        }
    }

    /// An F(2×2) VJP that reads its forward's packed weights as their transposes (with the
    /// AVX-512 kernels; `winogradTransposedPackedMinimum` 1 lets 8- and 16-channel layers do it):
    /// forward, VJP and finite differences against the reference, with the tiles cut as chosen,
    /// one per block and 20 per block. Where the kernels cannot (AVX2, OpenBLAS) the VJP packs
    /// its own and the results are checked the same.
    @Test(arguments: [nil, 1, 20])
    func inputGradientReadingTheForwardsPackedWeightsTransposed(gemmWidth: Int?) throws {
        for (input, weights): (TensorShape, TensorShape) in [([8, 7, 9], [16, 8, 3, 3]), ([16, 5, 6], [8, 16, 3, 3])] {
            var op = winogradOperator(weights: weights, padding: .symmetric(1), variant: .f2x2)
            op.winogradTransposedPackedMinimum = 1
            op.gemmWidthOverride = gemmWidth
            let g = try op.window.geometry(inputHeight: input[1], inputWidth: input[2])
            let prepared = try #require(op.prepared(inputShapes: [input]) as? ConvolutionOperator)
            let vjp = try #require(prepared.winogradInputGradient(rows: 1, geometry: g))
            #expect(vjp.readsForwardWeights && vjp.readsPackedTransposed == (GEMM.selectedKernels == .avx512))
            // The default keeps these small layers on their own packed copy.
            let ownCopy = try #require(winogradOperator(weights: weights, padding: .symmetric(1), variant: .f2x2)
                .prepared(inputShapes: [input]) as? ConvolutionOperator)
            #expect(ownCopy.winogradInputGradient(rows: 1, geometry: g)?.readsPackedTransposed == false)
            try checkGraph(singleNodeGraph(op, inputShape: input), reference: { x in
                Reference.convolution(x, input, op)
            }, batch: 3)
        }
    }

    /// On a 14×14 map (16 tiles of 4×4) a VJP call of one cotangent row takes 2×2 tiles, from
    /// weights shared with the forward (`winogradInputGradientFewTiles`), and a call of two rows
    /// or more (32 tiles of 4×4) takes 4×4 tiles; a 28×28 map (49 tiles) takes 4×4 for one row
    /// and holds no 2×2 weights. Forward, VJP and finite differences match the reference for
    /// one frame and one row (2×2 tiles) and for two frames of one row (4×4). (4 channels, with
    /// Winograd allowed from 1, keep the finite differences short.)
    @Test func fewRowsOnASmallMapTakeTwoByTwoTiles() throws {
        func operatorFor(_ size: Int) throws -> (ConvolutionOperator, ConvolutionOperator, WindowGeometry) {
            var op = ConvolutionOperator(weights: randomTensor([4, 4, 3, 3], seed: 41), bias: randomTensor([4], seed: 42).values,
                                         padding: .symmetric(1))
            op.denseOverride = false
            op.winogradMinimumChannels = 1
            let g = try op.window.geometry(inputHeight: size, inputWidth: size)
            let prepared = try #require(op.prepared(inputShapes: [[4, size, size]]) as? ConvolutionOperator)
            return (op, prepared, g)
        }
        let (op, prepared, g) = try operatorFor(14)
        #expect(prepared.winogradVariant(geometry: g) == .f4x4 && prepared.takesFewTilesVariant(geometry: g))
        #expect(prepared.winogradInputGradient(rows: 1, geometry: g)?.variant == .f2x2)
        #expect(prepared.winogradInputGradient(rows: 1, geometry: g)?.readsForwardWeights == true)
        #expect([2, 3, 10].map { prepared.winogradInputGradient(rows: $0, geometry: g)?.variant } == [.f4x4, .f4x4, .f4x4])
        #expect(prepared.backwardMethod(channels: 4, geometry: g, rows: 1) == .winograd)
        let (_, large, g28) = try operatorFor(28)
        #expect(!large.takesFewTilesVariant(geometry: g28) && large.winogradInputGradientFewTiles == nil)
        #expect(large.winogradInputGradient(rows: 1, geometry: g28)?.variant == .f4x4)
        for batch in [1, 2] {
            try checkGraph(singleNodeGraph(op, inputShape: [4, 14, 14]), reference: { x in
                Reference.convolution(x, [4, 14, 14], op)
            }, batch: batch, cotangents: 1)
        }
    }

    /// Prepared for its input, a convolution holds one copy of each pass's transformed weights:
    /// with the engine's kernels selected the packed ones alone (a VJP that shares its forward's
    /// packs from them before they go), with OpenBLAS the plain ones. ``matchesReference`` runs
    /// such operators.
    @Test(arguments: variants)
    func preparedConvolutionHoldsOneCopyOfTheTransformedWeights(_ variant: WinogradVariant) throws {
        let op = winogradOperator(weights: [6, 5, 3, 3], padding: .symmetric(1), variant: variant)
        let prepared = try #require(op.prepared(inputShapes: [[5, 9, 9]]) as? ConvolutionOperator)
        let forward = try #require(prepared.winogradForward)
        let inputGradient = try #require(prepared.winogradInputGradient)
        #expect(prepared.sharesWinogradWeights == (variant == .f2x2))
        let packs = GEMM.selectedKernels != .openBLAS
        for (pass, weights) in [("forward", forward), ("VJP", inputGradient)] {
            #expect(weights.packedWeights.count == (packs ? variant.positions : 0), "\(pass)")
            #expect(weights.weights.isEmpty == packs, "\(pass)")
        }
    }

    /// A product read from a packed `A` alone (no plain copy) is the product (checked as the
    /// engine's GEMMs are, ``GEMMReferenceCheck``).
    @Test(arguments: [false, true])
    func productFromThePackedOperandAlone(transposeA: Bool) throws {
        guard GEMM.selectedKernels != .openBLAS else { return }  // nothing is packed for OpenBLAS
        let option = GEMMReferenceCheck.Options(transposeA: transposeA, transposeB: false, alpha: 1, beta: 0)
        GEMMReferenceCheck.check(.init(m: 13, n: 21, k: 17), option) { transposeA, _, m, n, k, _, a, lda, b, ldb, _, c, ldc in
            guard let packed = PackedGEMMOperand(transposeA: transposeA, m: m, k: k, a: a, lda: lda) else {
                Issue.record("the selected kernels read packed operands, but none was made")
                return
            }
            GEMM.multiply(packedA: packed, transposeA: transposeA, m: m, n: n, k: k, a: nil, lda: lda,
                          b: b, ldb: ldb, c: c, ldc: ldc)
        }
    }

    /// With a fused ReLU: the output is `max(conv, 0)` and the VJP masks by it.
    @Test(arguments: [nil, 1, 20], variants)
    func fusedReLUMatchesReference(gemmWidth: Int?, variant: WinogradVariant) throws {
        let input: TensorShape = [3, 9, 11]
        var op = winogradOperator(weights: [4, 3, 3, 3], padding: .symmetric(1), activation: .relu, variant: variant)
        op.gemmWidthOverride = gemmWidth
        try checkGraph(singleNodeGraph(op, inputShape: input), reference: { x in
            Reference.convolution(x, input, op).map { max($0, 0) }
        }, batch: 3)
    }

    /// Spread over 3 threads — whole blocks per thread when there are enough blocks, otherwise
    /// each block's transforms and 16 GEMMs shared — every case gives what one thread gives.
    @Test(arguments: cases, [nil, 1, 20])
    func threadsGiveTheSingleThreadResult(_ testCase: Case, gemmWidth: Int?) throws {
        for variant in Self.variants {
            var op = winogradOperator(weights: testCase.weights, bias: testCase.bias, padding: testCase.padding,
                                      activation: .relu, variant: variant)
            op.gemmWidthOverride = gemmWidth
            op.minimumParallelWork = 0
            try expectThreadsMatchOneThread(CompiledModel(singleNodeGraph(op, inputShape: testCase.input)), "\(variant), ")
        }
    }

    /// A residual block (`x → conv → ReLU → conv → + x`, then pooled to 6 logits) whose input
    /// gradient is accumulated from two branches: Winograd and the direct method agree on the
    /// logits and on every input-gradient entry, at 32 channels (Winograd by default), with
    /// either tile.
    @Test(arguments: variants)
    func residualBlockMatchesTheDirectMethod(_ variant: WinogradVariant) throws {
        func graph(winograd: Bool) -> Graph {
            var random = SeededGenerator(seed: 41)
            func tensor(_ shape: TensorShape, _ scale: Float) -> Tensor {
                Tensor(shape: shape, values: random.uniform(count: shape.elementCount, in: -scale...scale))
            }
            func convolution(_ activation: FusedActivation) -> ConvolutionOperator {
                var op = ConvolutionOperator(weights: tensor([32, 32, 3, 3], 0.1), bias: tensor([32], 0.1).values,
                                             padding: .symmetric(1), activation: activation)
                if !winograd { op.winogradMinimumChannels = .max }
                op.winogradVariantOverride = variant
                return op
            }
            var b = GraphBuilder(name: "residual", inputShape: [32, 12, 10])
            let first = b.add(convolution(.relu), b.input)
            let second = b.add(convolution(.none), first)
            var x = b.add(AddOperator(), second, b.input)
            x = b.add(ConvolutionOperator(weights: tensor([6, 32, 1, 1], 0.3), bias: nil), x)
            x = b.add(SpatialMeanOperator(), x)
            x = b.add(FlattenOperator(), x)
            return b.build(output: x)
        }
        var random = SeededGenerator(seed: 42)
        let input = random.uniform(count: 2 * 32 * 12 * 10, in: -1...1)
        var results: [[Float]] = []
        for winograd in [true, false] {
            let model = try CompiledModel(graph(winograd: winograd))
            // Compilation prepared the two 3×3 convolutions for Winograd, or (turned off) not.
            let prepared = model.nodes.compactMap { ($0.op as? ConvolutionOperator)?.hasWinogradWeights(.inputGradient) }
            #expect(prepared == [winograd, winograd, false])
            let workspace = Workspace(model: model, maxBatch: 2, maxCotangents: 6, threads: 2)
            try workspace.forward(input, batch: 2)
            try workspace.backward(.allClasses)
            results.append(Array(workspace.outputs) + Array(workspace.inputGradient))
        }
        #expect(results[0].count == 2 * 6 + 2 * 6 * 32 * 12 * 10)
        expectCloseRelativeToMax(results[0], results[1], tolerance: 1e-5, "Winograd against direct")
    }

    /// A block's `V` and `M` rows: at least `tiles` floats, whole 64-byte lines, an odd number
    /// of them (98 tiles → 7 lines, 128 → 9, 147 → 11, 4 → 1).
    @Test func rowsAreAnOddNumberOfWholeLinesApart() {
        for tiles in 1...1100 {
            let stride = WinogradConvolution.rowStride(tiles: tiles)
            #expect(stride >= tiles && stride % 16 == 0 && (stride / 16) % 2 == 1 && stride < tiles + 32,
                    "\(tiles) tiles: rows \(stride) floats apart")
        }
        #expect([98, 128, 147, 4].map { WinogradConvolution.rowStride(tiles: $0) } == [112, 144, 176, 16])
    }
}
