import Testing
@testable import Engine

/// The columns VJP from `dY`'s nonzeros (``SparseColumnsGradient``) inside the convolution
/// operator: forced on, every ungrouped, undilated case of ``ConvolutionOperatorTests`` matches
/// the reference (forward and VJP, three batches of three cotangents), also with a fused ReLU and
/// a clip; left to choose, a stem followed by ReLU and max pooling takes it, and a convolution
/// whose `dY` is dense does not.
@Suite struct ConvolutionSparseGradientTests {
    static let cases = ConvolutionOperatorTests.cases.filter { $0.groups == 1 && $0.dilations == (1, 1) }

    @Test(arguments: cases)
    func forcedOnMatchesReference(_ testCase: ConvolutionOperatorTests.Case) throws {
        let weights = randomTensor(testCase.weights, seed: 11)
        let bias = testCase.bias ? randomTensor([testCase.weights[0]], seed: 12).values : nil
        var op = ConvolutionOperator(weights: weights, bias: bias, strides: testCase.strides, padding: testCase.padding,
                                     dilations: testCase.dilations, groups: testCase.groups)
        op.backwardMethodOverride = .columns
        op.denseOverride = false
        op.sparseGradientOverride = true
        try checkGraph(singleNodeGraph(op, inputShape: testCase.input), reference: { x in
            Reference.convolution(x, testCase.input, op)
        }, batch: 3)
    }

    /// With a fused ReLU or a clip, whose mask the sparse VJP applies as it reads `dY`.
    @Test(arguments: [FusedActivation.relu, .clip(minimum: 0, maximum: 0.5)])
    func forcedOnWithFusedActivationMatchesReference(_ activation: FusedActivation) throws {
        let input: TensorShape = [2, 9, 8]
        var op = ConvolutionOperator(weights: randomTensor([4, 2, 3, 3], seed: 21), bias: randomTensor([4], seed: 22).values,
                                     strides: (2, 1), padding: .symmetric(1), activation: activation)
        op.backwardMethodOverride = .columns
        op.denseOverride = false
        op.sparseGradientOverride = true
        let (lower, upper) = activation.passingInterval
        try checkGraph(singleNodeGraph(op, inputShape: input), reference: { x in
            // In double precision: the finite differences of a reference rounded to floats are noise.
            Reference.convolution(x, input, op).map { min(max($0, Double(lower)), Double(upper)) }
        }, batch: 3)
    }

    /// A 7×7/2 stem with a fused ReLU, then 3×3/2 max pooling (as resnet's): the pooling's VJP
    /// leaves most of the stem's `dY` at 0, so the convolution chooses the sparse VJP — its input
    /// gradient is bit for bit the forced one's — and it agrees with the columns VJP (forced
    /// off) to rounding. One frame and two cotangents, on one thread and two (rows split) and one
    /// cotangent on two threads (bands). Without the pooling, `dY` is dense after the ReLU's mask
    /// (about half of it), and the choice is the columns VJP, bit for bit.
    @Test func stemFollowedByMaxPoolingChoosesIt() throws {
        let input: TensorShape = [3, 48, 40]
        func gradient(pooled: Bool, sparse: Bool?, threads: Int, cotangents: Int) throws -> [Float] {
            var op = ConvolutionOperator(weights: randomTensor([16, 3, 7, 7], seed: 21), bias: randomTensor([16], seed: 22).values,
                                         strides: (2, 2), padding: .symmetric(3), activation: .relu)
            op.sparseGradientOverride = sparse
            op.minimumParallelWork = 0
            var builder = GraphBuilder(name: "stem", inputShape: input)
            let stem = builder.add(op, builder.input, name: "stem")
            if pooled { _ = builder.add(MaxPoolOperator(window: SpatialWindow(kernel: 3, stride: 2, padding: 1)), stem) }
            let model = try CompiledModel(builder.build())
            var random = SeededGenerator(seed: 23)
            let x = random.uniform(count: model.inputCount, in: 0...1)
            let vectors = random.uniform(count: cotangents * model.classCount, in: -1...1)
            let workspace = Workspace(model: model, maxBatch: 1, maxCotangents: cotangents, threads: threads)
            try workspace.forward(x, batch: 1)
            try vectors.withUnsafeBufferPointer { try workspace.backward(.vectors($0, perFrame: cotangents)) }
            return Array(workspace.inputGradient)
        }
        for (threads, cotangents) in [(1, 2), (2, 2), (2, 1)] {
            let chosen = try gradient(pooled: true, sparse: nil, threads: threads, cotangents: cotangents)
            let forced = try gradient(pooled: true, sparse: true, threads: threads, cotangents: cotangents)
            let columns = try gradient(pooled: true, sparse: false, threads: threads, cotangents: cotangents)
            #expect(chosen.contains { $0 != 0 })
            #expect(Self.differingBits(chosen, forced) == 0, "\(threads) threads, \(cotangents) cotangents")
            expectCloseRelativeToMax(chosen, columns, tolerance: 1e-5, "against the columns VJP")
        }
        let chosen = try gradient(pooled: false, sparse: nil, threads: 1, cotangents: 2)
        let columns = try gradient(pooled: false, sparse: false, threads: 1, cotangents: 2)
        #expect(Self.differingBits(chosen, columns) == 0, "dense dY")
    }

    /// Entries whose bits differ (all of them when the counts do).
    static func differingBits(_ a: [Float], _ b: [Float]) -> Int {
        a.count != b.count ? max(a.count, b.count) : zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
    }
}
