import Testing
@testable import Engine

@Suite struct ConvolutionOperatorTests {
    /// 3×3 box filter over 0…15 with one pixel of zero padding: every output is the sum of its
    /// neighbourhood, worked out by hand.
    @Test func boxFilterWithPaddingByHand() throws {
        let op = ConvolutionOperator(weights: Tensor(shape: [1, 1, 3, 3], repeating: 1), padding: .symmetric(1))
        let model = try CompiledModel(singleNodeGraph(op, inputShape: [1, 4, 4]))
        let workspace = Workspace(model: model)
        try workspace.forward((0..<16).map(Float.init), batch: 1)
        expectClose(workspace.outputs, [10, 18, 24, 18, 27, 45, 54, 39, 51, 81, 90, 63, 42, 66, 72, 50] as [Float])
    }

    /// Stride 2 with asymmetric padding (one row on top, one column on the right) and the kernel
    /// [[1, 2], [3, 4]]: a transposed kernel or a pad on the wrong side changes every value.
    @Test func strideAndAsymmetricPaddingByHand() throws {
        let op = ConvolutionOperator(weights: Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4]), bias: [0.5],
                                     strides: (2, 2), padding: .explicit(top: 1, left: 0, bottom: 0, right: 1))
        let model = try CompiledModel(singleNodeGraph(op, inputShape: [1, 4, 4]))
        #expect(model.tensorShapes[model.outputTensor] == [1, 2, 2])
        let workspace = Workspace(model: model)
        try workspace.forward((0..<16).map(Float.init), batch: 1)
        expectClose(workspace.outputs, [4.5, 18.5, 74.5, 94.5] as [Float])
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var input: TensorShape
        var weights: TensorShape
        var strides = (1, 1)
        var padding = WindowPadding.valid
        var dilations = (1, 1)
        var groups = 1
        var bias = true
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "3×3 pad 1, odd size", input: [2, 5, 5], weights: [3, 2, 3, 3], padding: .symmetric(1)),
        Case(name: "stride 2, asymmetric pads, 3×2 kernel", input: [2, 7, 6], weights: [3, 2, 3, 2], strides: (2, 2),
             padding: .explicit(top: 1, left: 0, bottom: 2, right: 1)),
        Case(name: "stride 3 > kernel 2", input: [1, 8, 7], weights: [2, 1, 2, 2], strides: (3, 3)),
        Case(name: "dilation 2", input: [2, 7, 7], weights: [2, 2, 3, 3], padding: .symmetric(2), dilations: (2, 2)),
        Case(name: "groups 2", input: [4, 5, 5], weights: [6, 2, 3, 3], padding: .symmetric(1), groups: 2),
        Case(name: "depthwise ×2, stride 2", input: [3, 7, 7], weights: [6, 1, 3, 3], strides: (2, 2),
             padding: .symmetric(1), groups: 3),
        Case(name: "depthwise, SAME_UPPER, dilation 2", input: [3, 6, 5], weights: [3, 1, 3, 3],
             padding: .sameUpper, dilations: (2, 2), groups: 3),
        Case(name: "depthwise 5×5 stride 2 width only", input: [2, 6, 9], weights: [2, 1, 5, 5], strides: (1, 2),
             padding: .symmetric(2), groups: 2, bias: false),
        Case(name: "pointwise 1×1", input: [4, 3, 5], weights: [3, 4, 1, 1]),
        Case(name: "pointwise 1×1, groups 2, no bias", input: [4, 3, 3], weights: [6, 2, 1, 1], groups: 2, bias: false),
        Case(name: "1×1 stride 2", input: [3, 5, 5], weights: [2, 3, 1, 1], strides: (2, 2)),
        Case(name: "SAME_LOWER, even kernel", input: [2, 5, 6], weights: [2, 2, 2, 4], padding: .sameLower),
        Case(name: "SAME_UPPER, stride 2", input: [1, 7, 6], weights: [2, 1, 3, 3], strides: (2, 2), padding: .sameUpper),
        Case(name: "7×7 stride 2 pad 3 (the paper's stem)", input: [1, 9, 9], weights: [2, 1, 7, 7], strides: (2, 2),
             padding: .symmetric(3)),
        Case(name: "padding wider than the kernel reach", input: [2, 5, 4], weights: [3, 2, 3, 3], padding: .symmetric(3)),
        Case(name: "stride 2 with dilation 2 (one tap class)", input: [2, 9, 8], weights: [3, 2, 3, 3], strides: (2, 2),
             padding: .explicit(top: 2, left: 1, bottom: 0, right: 2), dilations: (2, 2)),
        Case(name: "stride 3×2, 5×4 kernel, odd pads", input: [3, 11, 9], weights: [4, 3, 5, 4], strides: (3, 2),
             padding: .explicit(top: 2, left: 1, bottom: 1, right: 3)),
        Case(name: "groups 2, stride 2, many filters per channel", input: [2, 7, 7], weights: [10, 1, 3, 3], strides: (2, 2),
             padding: .symmetric(1), groups: 2),
        Case(name: "1×1 with padding", input: [3, 4, 5], weights: [2, 3, 1, 1], padding: .explicit(top: 1, left: 0, bottom: 0, right: 2)),
        Case(name: "odd 13×17 map, 3×3 pad 1", input: [2, 13, 17], weights: [3, 2, 3, 3], padding: .symmetric(1)),
        // Depthwise row kernels: full and partial lane blocks, the flattened narrow-plane run,
        // kernel-row passes (5-wide and other widths), paired phase copies, crops.
        Case(name: "depthwise 3×3, 19 wide (full + partial blocks)", input: [2, 5, 19], weights: [2, 1, 3, 3],
             padding: .symmetric(1), groups: 2),
        Case(name: "depthwise 3×3 ×2, 7 wide (flattened)", input: [2, 6, 7], weights: [4, 1, 3, 3],
             padding: .explicit(top: 0, left: 1, bottom: 2, right: 1), groups: 2),
        Case(name: "depthwise 5×5, 21 wide", input: [2, 6, 21], weights: [2, 1, 5, 5], padding: .symmetric(2), groups: 2),
        Case(name: "depthwise 2×4 kernel (kernel-row passes)", input: [2, 5, 11], weights: [2, 1, 2, 4],
             padding: .explicit(top: 1, left: 2, bottom: 0, right: 1), groups: 2),
        Case(name: "depthwise 3×3 stride 2, 37 wide (paired phases)", input: [2, 7, 37], weights: [2, 1, 3, 3],
             strides: (2, 2), padding: .symmetric(1), groups: 2),
        Case(name: "depthwise 5×5 stride 2, 40 wide, no left pad", input: [2, 7, 40], weights: [2, 1, 5, 5],
             strides: (2, 2), padding: .explicit(top: 2, left: 0, bottom: 2, right: 3), groups: 2),
        Case(name: "depthwise 3×3 stride 2, 16 wide (narrow rows through a padded copy)", input: [2, 5, 16],
             weights: [2, 1, 3, 3], strides: (2, 2), padding: .symmetric(1), groups: 2),
        Case(name: "depthwise stride 2 rows only", input: [2, 7, 10], weights: [2, 1, 3, 3], strides: (2, 1),
             padding: .symmetric(1), groups: 2),
        Case(name: "depthwise padding beyond the kernel's reach", input: [2, 5, 6], weights: [2, 1, 3, 3],
             padding: .explicit(top: 3, left: 0, bottom: 1, right: 3), groups: 2),
        Case(name: "depthwise 3×3 dilation 2, 18 wide", input: [2, 7, 18], weights: [2, 1, 3, 3],
             padding: .symmetric(2), dilations: (2, 2), groups: 2),
    ]

    /// Every case with the GEMMs cut three ways — as chosen (all frames and cotangent rows of a
    /// small map in one GEMM), one output row per GEMM (`gemmWidth` 1), and 20 columns per GEMM
    /// (small maps batched 2–3 frames or rows at a time, unevenly; large ones in bands of rows) —
    /// and the VJP both ways (transposed per sub-pixel phase, and im2col columns + col2im); the
    /// dense form is off (``DenseConvolutionTests`` has its own cases).
    @Test(arguments: cases, [nil, 1, 20])
    func forwardAndVJPMatchReference(_ testCase: Case, gemmWidth: Int?) throws {
        for method in [ConvolutionOperator.BackwardMethod.transposed, .columns] {
            let weights = randomTensor(testCase.weights, seed: 11)
            let bias = testCase.bias ? randomTensor([testCase.weights[0]], seed: 12).values : nil
            var op = ConvolutionOperator(weights: weights, bias: bias, strides: testCase.strides, padding: testCase.padding,
                                         dilations: testCase.dilations, groups: testCase.groups)
            op.gemmWidthOverride = gemmWidth
            op.backwardMethodOverride = method
            op.denseOverride = false
            try checkGraph(singleNodeGraph(op, inputShape: testCase.input), reference: { x in
                Reference.convolution(x, testCase.input, op)
            }, batch: 3)
        }
    }

    /// Prepared for its input, a direct-method convolution holds each group's weights packed for
    /// the selected kernels (none for OpenBLAS). On a small map (one block, fewer than the
    /// threads) three threads split each group's 20 or 10 filters into parts that start on whole
    /// panels of the packed weights (8 rows for AVX-512, 6 for AVX2): with 20 filters on AVX-512
    /// parts of 0, 8 and 12, the last read from the packed operand's second panel on. The output
    /// is the reference's on one thread and on three. (The packed weights are read when the
    /// engine's kernels run the products, as under `make test`'s `OPENBLAS_NUM_THREADS=1`.)
    @Test(arguments: [1, 2])
    func packedWeightsSplitOnPanelBoundaries(groups: Int) throws {
        let input: TensorShape = [2 * groups, 9, 9]
        var op = ConvolutionOperator(weights: randomTensor([20, 2, 3, 3], seed: 13), bias: randomTensor([20], seed: 14).values,
                                     strides: (2, 2), padding: .symmetric(1), groups: groups)
        op.denseOverride = false
        op.minimumParallelWork = 0
        let model = try CompiledModel(singleNodeGraph(op, inputShape: input))
        let prepared = try #require(model.nodes[0].op as? ConvolutionOperator)
        #expect(prepared.packedDirectWeights.count == (GEMM.selectedKernels == .openBLAS ? 0 : groups))
        #expect(prepared.packedDirectWeights.allSatisfy { $0.m == 20 / groups && $0.k == 18 })
        let x = randomTensor(input, seed: 15).values
        let expected = Reference.convolution(x.map(Double.init), input, op)
        for threads in [1, 3] {
            let workspace = Workspace(model: model, maxBatch: 1, threads: threads)
            try workspace.forward(x, batch: 1)
            expectCloseRelativeToMax(Array(workspace.outputs), expected, tolerance: 1e-5, "\(threads) thread(s)")
        }
    }

    /// Prepared for a VJP by the columns method, a convolution holds each group's transposed
    /// weights (`(C/g·9)×(M/g)`) packed for the selected kernels (none for OpenBLAS). With 16
    /// input channels per group on a one-block map, two threads split them 8 + 8 (the second part
    /// from weight row 72, a whole panel for AVX-512 and AVX2: the packed rows) and three 5 + 5 + 6
    /// (rows 45 and 90: 45 starts mid-panel and is packed from the plain weights; 90 does too on
    /// AVX-512 and is a whole panel on AVX2). Every entry of the input gradient, for 1, 2 and 3
    /// threads, is the adjoint of the convolution written out in double precision.
    @Test(arguments: [1, 2])
    func packedColumnsWeightsSplitOnPanelBoundaries(groups: Int) throws {
        let input: TensorShape = [16 * groups, 9, 9]
        let weights = randomTensor([6 * groups, 16, 3, 3], seed: 23)
        var op = ConvolutionOperator(weights: weights, strides: (2, 2), padding: .symmetric(1), groups: groups)
        op.denseOverride = false
        op.minimumParallelWork = 0
        op.backwardMethodOverride = .columns
        let model = try CompiledModel(singleNodeGraph(op, inputShape: input))
        let prepared = try #require(model.nodes[0].op as? ConvolutionOperator)
        #expect(prepared.packedColumnsWeights.count == (GEMM.selectedKernels == .openBLAS ? 0 : groups))
        #expect(prepared.packedColumnsWeights.allSatisfy { $0.m == 144 && $0.k == 6 })
        let g = try op.window.geometry(inputHeight: 9, inputWidth: 9)
        let outputCount = model.classCount
        var random = SeededGenerator(seed: 24)
        let x = random.uniform(count: input.elementCount, in: -1...1)
        let u = random.uniform(count: outputCount, in: -1...1)
        // dx[c][h][w] = Σ W[m][c − group·16][i][j] · u[m][oh][ow] over the taps that read (h, w).
        var expected = [Double](repeating: 0, count: input.elementCount)
        for m in 0..<(6 * groups) {
            let group = m / 6
            for oh in 0..<g.outputHeight {
                for ow in 0..<g.outputWidth {
                    let um = Double(u[(m * g.outputHeight + oh) * g.outputWidth + ow])
                    for c in 0..<16 {
                        for i in 0..<3 {
                            for j in 0..<3 {
                                let h = oh * 2 - 1 + i, w = ow * 2 - 1 + j
                                guard h >= 0, h < 9, w >= 0, w < 9 else { continue }
                                expected[((group * 16 + c) * 9 + h) * 9 + w]
                                    += Double(weights.values[((m * 16 + c) * 3 + i) * 3 + j]) * um
                            }
                        }
                    }
                }
            }
        }
        for threads in [1, 2, 3] {
            let workspace = Workspace(model: model, maxBatch: 1, maxCotangents: 1, threads: threads)
            try workspace.forward(x, batch: 1)
            try u.withUnsafeBufferPointer { try workspace.backward(.vectors($0, perFrame: 1)) }
            expectCloseRelativeToMax(Array(workspace.inputGradient), expected, tolerance: 1e-5, "\(threads) thread(s)")
        }
    }

    /// A convolution whose weights change after it was prepared drops the weights it derived
    /// from them, the packed copies included, and a model built from it follows the new weights.
    @Test func changingTheWeightsDropsTheDerivedOnes() throws {
        let input: TensorShape = [16, 9, 9]
        var op = ConvolutionOperator(weights: randomTensor([8, 16, 3, 3], seed: 31), strides: (2, 2), padding: .symmetric(1))
        op.denseOverride = false
        op.backwardMethodOverride = .columns
        let model = try CompiledModel(singleNodeGraph(op, inputShape: input))
        var prepared = try #require(model.nodes[0].op as? ConvolutionOperator)
        prepared.weights = randomTensor([8, 16, 3, 3], seed: 32)
        #expect(prepared.packedDirectWeights.isEmpty && prepared.packedColumnsWeights.isEmpty)
        let x = randomTensor(input, seed: 33).values
        let changed = try CompiledModel(singleNodeGraph(prepared, inputShape: input))
        let workspace = Workspace(model: changed, maxBatch: 1)
        try workspace.forward(x, batch: 1)
        expectCloseRelativeToMax(Array(workspace.outputs), Reference.convolution(x.map(Double.init), input, prepared),
                                 tolerance: 1e-5)
    }

    /// Spread over 3 threads (blocks taken in any order, or each block's GEMM rows split in
    /// parts when there are fewer blocks than threads), every case gives what one thread gives.
    @Test(arguments: cases, [nil, 1, 20])
    func threadsGiveTheSingleThreadResult(_ testCase: Case, gemmWidth: Int?) throws {
        for method in [ConvolutionOperator.BackwardMethod.transposed, .columns] {
            var op = ConvolutionOperator(weights: randomTensor(testCase.weights, seed: 11),
                                         bias: testCase.bias ? randomTensor([testCase.weights[0]], seed: 12).values : nil,
                                         strides: testCase.strides, padding: testCase.padding,
                                         dilations: testCase.dilations, groups: testCase.groups, activation: .relu)
            op.gemmWidthOverride = gemmWidth
            op.backwardMethodOverride = method
            op.denseOverride = false
            op.minimumParallelWork = 0
            try expectThreadsMatchOneThread(CompiledModel(singleNodeGraph(op, inputShape: testCase.input)), "\(method), ")
        }
    }

    /// An RGB stem's VJP for one cotangent on two threads: 3 input channels do not split over 2,
    /// so the columns method hands the threads bands of output rows in two rounds (even bands,
    /// then odd ones). 7×7/2 on 30×30 gives 15 output rows; 45-column GEMMs make 5 bands of 3
    /// rows, and 4 rows (3 + 1) at stride 2 pass the window's 6-row overhang, so bands two apart
    /// never fold onto the same input row. With 12-column GEMMs (bands of one row, which would
    /// meet) it keeps splitting channels. Either way the gradient is the one-thread columns
    /// result and the transposed method's.
    @Test(arguments: [45, 12])
    func stemVJPOnTwoThreadsForOneCotangent(gemmWidth: Int) throws {
        let input: TensorShape = [3, 30, 30]
        func gradient(_ method: ConvolutionOperator.BackwardMethod, threads: Int) throws -> [Float] {
            var op = ConvolutionOperator(weights: randomTensor([8, 3, 7, 7], seed: 31), bias: randomTensor([8], seed: 32).values,
                                         strides: (2, 2), padding: .symmetric(3), activation: .relu)
            op.gemmWidthOverride = gemmWidth
            op.backwardMethodOverride = method
            op.denseOverride = false
            op.minimumParallelWork = 0
            let model = try CompiledModel(singleNodeGraph(op, inputShape: input))
            var random = SeededGenerator(seed: 33)
            let x = random.uniform(count: model.inputCount, in: -1...1)
            let cotangent = random.uniform(count: model.classCount, in: -1...1)
            let workspace = Workspace(model: model, maxBatch: 1, maxCotangents: 1, threads: threads)
            try workspace.forward(x, batch: 1)
            try cotangent.withUnsafeBufferPointer { try workspace.backward(.vectors($0, perFrame: 1)) }
            return Array(workspace.inputGradient)
        }
        let oneThread = try gradient(.columns, threads: 1)
        #expect(oneThread.contains { $0 != 0 })
        expectCloseRelativeToMax(try gradient(.columns, threads: 2), oneThread, tolerance: 1e-6, "two threads")
        expectCloseRelativeToMax(try gradient(.transposed, threads: 1), oneThread, tolerance: 1e-5, "transposed")
    }

    /// A fused ReLU: the output is `max(conv, 0)` and the VJP masks by it, both VJP methods.
    /// Depthwise VJPs add onto a gradient another branch has already written: the input feeds
    /// a stride-1 and a stride-2 depthwise convolution whose spatial means are summed.
    @Test func depthwiseGradientsAccumulateAcrossBranches() throws {
        let inputShape: TensorShape = [3, 9, 20]
        let same = ConvolutionOperator(weights: randomTensor([3, 1, 3, 3], seed: 21), bias: [0.1, -0.2, 0.3],
                                       padding: .symmetric(1), groups: 3)
        let strided = ConvolutionOperator(weights: randomTensor([3, 1, 3, 3], seed: 22), bias: nil, strides: (2, 2),
                                          padding: .symmetric(1), groups: 3)
        var b = GraphBuilder(name: "two depthwise branches", inputShape: inputShape)
        let left = b.add(SpatialMeanOperator(), b.add(same, b.input))
        let right = b.add(SpatialMeanOperator(), b.add(strided, b.input))
        let sum = b.add(FlattenOperator(), b.add(AddOperator(), left, right))
        let stridedShape: TensorShape = [3, 5, 10]
        try checkGraph(b.build(output: sum), reference: { x in
            let a = Reference.spatialMean(Reference.convolution(x, inputShape, same), inputShape)
            let c = Reference.spatialMean(Reference.convolution(x, inputShape, strided), stridedShape)
            return zip(a, c).map { $0 + $1 }
        })
    }

    @Test(arguments: [nil, 1, 20])
    func fusedReLUMatchesReference(gemmWidth: Int?) throws {
        for method in [ConvolutionOperator.BackwardMethod.transposed, .columns] {
            for (input, weights, groups) in [([2, 7, 6], [4, 2, 3, 3], 1), ([3, 6, 5], [3, 1, 3, 3], 3)] as [(TensorShape, TensorShape, Int)] {
                var op = ConvolutionOperator(weights: randomTensor(weights, seed: 21), bias: randomTensor([weights[0]], seed: 22).values,
                                             strides: (2, 1), padding: .symmetric(1), groups: groups, activation: .relu)
                op.gemmWidthOverride = gemmWidth
                op.backwardMethodOverride = method
                op.denseOverride = false
                try checkGraph(singleNodeGraph(op, inputShape: input), reference: { x in
                    Reference.convolution(x, input, op).map { max($0, 0) }
                }, batch: 3)
            }
        }
    }

    @Test func sameUpperPutsTheOddPixelAtTheEnd() throws {
        let window = SpatialWindow(kernelHeight: 4, kernelWidth: 2, padding: .sameUpper)
        let g = try window.geometry(inputHeight: 5, inputWidth: 5)
        #expect((g.padTop, g.padBottom, g.padLeft, g.padRight) == (1, 2, 0, 1))
        #expect((g.outputHeight, g.outputWidth) == (5, 5))
        var lower = window
        lower.padding = .sameLower
        let h = try lower.geometry(inputHeight: 5, inputWidth: 5)
        #expect((h.padTop, h.padBottom, h.padLeft, h.padRight) == (2, 1, 1, 0))
    }

    @Test func rejectsMismatchedChannelsNamingTheNode() throws {
        let op = ConvolutionOperator(weights: Tensor(shape: [4, 3, 3, 3], repeating: 0))
        var builder = GraphBuilder(name: "bad", inputShape: [2, 8, 8])
        builder.add(op, builder.input, name: "stem")
        #expect(throws: EngineError.invalidNode(
            node: "stem", operator: "Conv", reason: "weights [4×3×3×3] expect 3 input channels, input has 2"
                .replacingOccurrences(of: "[", with: "").replacingOccurrences(of: "]", with: ""))) {
            _ = try CompiledModel(builder.build())
        }
    }

    @Test func rejectsAKernelLargerThanThePaddedInput() throws {
        let op = ConvolutionOperator(weights: Tensor(shape: [1, 1, 5, 5], repeating: 0))
        let error = #expect(throws: EngineError.self) {
            _ = try CompiledModel(singleNodeGraph(op, inputShape: [1, 3, 3]))
        }
        #expect(error?.description == "node 'node' (Conv): window extent 5 exceeds the padded height 3")
    }
}
