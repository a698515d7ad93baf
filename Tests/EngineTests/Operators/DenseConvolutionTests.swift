import Testing
@testable import Engine

/// The dense form of a convolution on small maps (``DenseConvolution``): its matrix, both passes
/// against the double-precision reference and finite differences, threads, and when it is used.
@Suite struct DenseConvolutionTests {
    /// A 3×3 kernel 1…9 (row-major) over a 2×2 map padded by 1: output pixel (oh, ow) sees the
    /// kernel taps that land on the map, so `D` (4×4) is worked out by hand; forward `D·x` and
    /// the VJP `dY·D` follow.
    @Test func matrixForwardAndVJPByHand() throws {
        var op = ConvolutionOperator(weights: Tensor(shape: [1, 1, 3, 3], values: (1...9).map(Float.init)),
                                     padding: .symmetric(1))
        op.denseOverride = true
        let prepared = try #require(op.prepared(inputShapes: [[1, 2, 2]]) as? ConvolutionOperator)
        let dense = try #require(prepared.dense)
        #expect(dense.matrix == [5, 6, 8, 9,
                                 4, 5, 7, 8,
                                 2, 3, 5, 6,
                                 1, 2, 4, 5])
        let model = try CompiledModel(singleNodeGraph(op, inputShape: [1, 2, 2]))
        let workspace = Workspace(model: model, maxBatch: 1, maxCotangents: 2)
        try workspace.forward([1, 2, 3, 4], batch: 1)
        expectClose(workspace.outputs, [77, 67, 47, 37] as [Float])
        let cotangents: [Float] = [1, 0, 0, 0, 0, 1, 0, -1]
        try cotangents.withUnsafeBufferPointer { try workspace.backward(.vectors($0, perFrame: 2)) }
        expectClose(workspace.inputGradient, [5, 6, 8, 9, 3, 3, 3, 3] as [Float])
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var input: TensorShape
        var weights: TensorShape
        var strides = (1, 1)
        var padding = WindowPadding.symmetric(1)
        var dilations = (1, 1)
        var groups = 1
        var bias = true
        var activation = FusedActivation.none
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "1×1 map, 3×3 pad 1", input: [3, 1, 1], weights: [4, 3, 3, 3]),
        Case(name: "2×2 map, 3×3 pad 1, ReLU", input: [3, 2, 2], weights: [5, 3, 3, 3], activation: .relu),
        Case(name: "2×2 → 1×1, stride 2, no bias", input: [4, 2, 2], weights: [3, 4, 3, 3], strides: (2, 2), bias: false),
        Case(name: "4×4 → 2×2, stride 2, clip", input: [2, 4, 4], weights: [3, 2, 3, 3], strides: (2, 2),
             activation: .clip(minimum: -0.3, maximum: 0.4)),
        Case(name: "3×2 map, 2×3 kernel, asymmetric pads", input: [2, 3, 2], weights: [3, 2, 2, 3],
             padding: .explicit(top: 1, left: 0, bottom: 0, right: 2)),
        Case(name: "3×3 map, dilation 2", input: [2, 3, 3], weights: [2, 2, 3, 3], padding: .symmetric(2),
             dilations: (2, 2)),
        Case(name: "2×2 map, groups 2", input: [4, 2, 2], weights: [6, 2, 3, 3], groups: 2),
        Case(name: "3×3 map, depthwise, stride 2", input: [3, 3, 3], weights: [3, 1, 3, 3], strides: (2, 2), groups: 3),
    ]

    private static func makeOperator(_ testCase: Case) -> ConvolutionOperator {
        ConvolutionOperator(weights: randomTensor(testCase.weights, seed: 31),
                            bias: testCase.bias ? randomTensor([testCase.weights[0]], seed: 32).values : nil,
                            strides: testCase.strides, padding: testCase.padding, dilations: testCase.dilations,
                            groups: testCase.groups, activation: testCase.activation)
    }

    private static func activate(_ value: Double, _ activation: FusedActivation) -> Double {
        switch activation {
        case .none: value
        case .relu: max(value, 0)
        case let .clip(minimum, maximum): min(max(value, Double(minimum)), Double(maximum))
        }
    }

    /// Forced dense, both passes match the reference (forward) and finite differences (VJP) for
    /// 3 frames of 3 cotangents, each case also with the prepared matrix in place.
    @Test(arguments: cases)
    func forcedDenseMatchesReference(_ testCase: Case) throws {
        var op = Self.makeOperator(testCase)
        op.denseOverride = true
        let prepared = try #require(op.prepared(inputShapes: [testCase.input]) as? ConvolutionOperator)
        #expect(prepared.dense != nil)
        try checkGraph(singleNodeGraph(op, inputShape: testCase.input), reference: { x in
            Reference.convolution(x, testCase.input, op).map { Self.activate($0, testCase.activation) }
        }, batch: 3)
    }

    /// Forced dense on 3 threads (batch 1: the matrix's columns split; batch 4: the frames and
    /// rows split) gives what one thread gives.
    @Test(arguments: cases)
    func threadsGiveTheSingleThreadResult(_ testCase: Case) throws {
        var op = Self.makeOperator(testCase)
        op.denseOverride = true
        op.minimumParallelWork = 0
        try expectThreadsMatchOneThread(CompiledModel(singleNodeGraph(op, inputShape: testCase.input)))
    }

    /// A VJP gradient that another branch already wrote is added to, not overwritten: the input
    /// feeds a dense convolution and, through a second one, is summed with it.
    @Test func denseVJPAccumulatesAcrossBranches() throws {
        let inputShape: TensorShape = [2, 2, 2]
        var first = ConvolutionOperator(weights: randomTensor([3, 2, 3, 3], seed: 41), bias: [0.1, -0.2, 0.3],
                                        padding: .symmetric(1))
        var second = ConvolutionOperator(weights: randomTensor([3, 2, 3, 3], seed: 42), padding: .symmetric(1))
        first.denseOverride = true
        second.denseOverride = true
        var b = GraphBuilder(name: "two dense branches", inputShape: inputShape)
        let sum = b.add(FlattenOperator(), b.add(AddOperator(), b.add(first, b.input), b.add(second, b.input)))
        try checkGraph(b.build(output: sum), reference: { x in
            zip(Reference.convolution(x, inputShape, first), Reference.convolution(x, inputShape, second)).map { $0 + $1 }
        })
    }

    /// A convolution whose matrix is larger than twice its weights runs its VJP dense only with
    /// at least ``ConvolutionOperator/denseMinimumRows`` rows: 22 frames × 3 cotangents do, and
    /// the forward (22 rows) does not; both match the reference.
    @Test func manyRowsVJPRunsDenseAndMatchesReference() throws {
        let input: TensorShape = [2, 4, 4]
        let op = ConvolutionOperator(weights: randomTensor([3, 2, 3, 3], seed: 51), bias: [0.2, 0, -0.1],
                                     padding: .symmetric(1), activation: .relu)
        let g = try op.window.geometry(inputHeight: 4, inputWidth: 4)
        #expect(op.denseUse(channels: 2, geometry: g) == .manyRows)
        let prepared = try #require(op.prepared(inputShapes: [input]) as? ConvolutionOperator)
        #expect(prepared.dense != nil)
        #expect(prepared.denseForm(.inputGradient, inputShape: input, outputShape: [3, 4, 4], geometry: g, rows: 66) != nil)
        #expect(prepared.denseForm(.inputGradient, inputShape: input, outputShape: [3, 4, 4], geometry: g, rows: 63) == nil)
        #expect(prepared.denseForm(.forward, inputShape: input, outputShape: [3, 4, 4], geometry: g, rows: 66) == nil)
        try checkGraph(singleNodeGraph(op, inputShape: input), reference: { x in
            Reference.convolution(x, input, op).map { max($0, 0) }
        }, batch: 22)
    }

    /// Which layers run dense by default: the bundled Fashion-MNIST model's (28×28 input), and
    /// resnet18's smallest maps at 224×224 and at 64×64.
    @Test func denseUseByLayer() throws {
        func use(_ channels: Int, _ filters: Int, kernel: Int, map: Int, stride: Int = 1, pad: Int) throws
            -> ConvolutionOperator.DenseUse {
            let op = ConvolutionOperator(weights: Tensor(shape: [filters, channels, kernel, kernel], repeating: 0),
                                         strides: (stride, stride), padding: .symmetric(pad))
            return op.denseUse(channels: channels, geometry: try op.window.geometry(inputHeight: map, inputWidth: map))
        }
        // Bundled model: features.0 … features.19.
        #expect(try use(1, 32, kernel: 7, map: 28, stride: 2, pad: 3) == .never)
        #expect(try use(32, 32, kernel: 3, map: 7, pad: 1) == .never)
        #expect(try use(32, 32, kernel: 3, map: 7, stride: 2, pad: 1) == .never)
        #expect(try use(32, 32, kernel: 3, map: 4, pad: 1) == .manyRows)
        #expect(try use(32, 64, kernel: 3, map: 4, pad: 1) == .manyRows)
        #expect(try use(64, 64, kernel: 3, map: 4, stride: 2, pad: 1) == .manyRows)
        #expect(try use(64, 64, kernel: 3, map: 2, pad: 1) == .always)
        #expect(try use(64, 128, kernel: 3, map: 2, pad: 1) == .always)
        #expect(try use(128, 128, kernel: 3, map: 2, stride: 2, pad: 1) == .always)
        #expect(try use(128, 128, kernel: 3, map: 1, pad: 1) == .always)
        // resnet18 at 224×224: the 7×7 maps are too large; at 64×64 the 2×2 maps run dense; a
        // 4×4 map of 256 channels would need a 16 Mi-entry matrix.
        #expect(try use(512, 512, kernel: 3, map: 7, pad: 1) == .never)
        #expect(try use(512, 512, kernel: 3, map: 2, pad: 1) == .always)
        #expect(try use(256, 256, kernel: 3, map: 4, pad: 1) == .never)
        // Pointwise and grouped convolutions keep their own kernels.
        #expect(try use(64, 64, kernel: 1, map: 2, pad: 0) == .never)
        var grouped = ConvolutionOperator(weights: Tensor(shape: [8, 1, 3, 3], repeating: 0), padding: .symmetric(1),
                                          groups: 8)
        let g = try grouped.window.geometry(inputHeight: 2, inputWidth: 2)
        #expect(grouped.denseUse(channels: 8, geometry: g) == .never)
        grouped.denseOverride = true
        #expect(grouped.denseUse(channels: 8, geometry: g) == .always)
    }
}
