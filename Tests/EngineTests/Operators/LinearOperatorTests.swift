import Foundation
import Testing
@testable import Engine

@Suite struct LinearOperatorTests {
    @Test func gemmByHand() throws {
        // y = 2 · x · Bᵀ + 0.5 · c with B = [[1, 2], [3, 4], [5, 6]] (3 outputs × 2 features).
        let op = GemmOperator(weights: Tensor(shape: [3, 2], values: [1, 2, 3, 4, 5, 6]),
                              bias: Tensor(shape: [3], values: [2, 4, 6]), transposeWeights: true, alpha: 2, beta: 0.5)
        let workspace = Workspace(model: try CompiledModel(singleNodeGraph(op, inputShape: [2])), maxBatch: 2)
        try workspace.forward([1, 1, 1, -1], batch: 2)
        #expect(Array(workspace.outputs) == [7, 16, 25, -1, 0, 1])
    }

    @Test func softmaxByHand() throws {
        var builder = GraphBuilder(name: "softmax", inputShape: [2])
        builder.add(SoftmaxOperator(), builder.input)
        let workspace = Workspace(model: try CompiledModel(builder.build()))
        try workspace.forward([0, Float(log(3.0))], batch: 1)
        expectClose(workspace.outputs, [0.25, 0.75] as [Float])
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesReference(transposeWeights: Bool, scalarBias: Bool) throws {
        let features = 7, outputs = 4
        let weights = randomTensor(transposeWeights ? [outputs, features] : [features, outputs], seed: 5)
        let bias = scalarBias ? Tensor(shape: [1], values: [0.3]) : randomTensor([1, outputs], seed: 6)
        let op = GemmOperator(weights: weights, bias: bias, transposeWeights: transposeWeights, alpha: 0.7, beta: 1.5)
        try checkGraph(singleNodeGraph(op, inputShape: [features])) { Reference.gemm($0, op) }
    }

    @Test func gemmWithoutBias() throws {
        let op = GemmOperator(weights: randomTensor([5, 3], seed: 7))
        try checkGraph(singleNodeGraph(op, inputShape: [5])) { Reference.gemm($0, op) }
    }

    @Test func gemmRejectsAFeatureMapAndWrongFeatures() throws {
        let op = GemmOperator(weights: randomTensor([4, 3], seed: 7))
        let mapError = #expect(throws: EngineError.self) { _ = try CompiledModel(singleNodeGraph(op, inputShape: [4, 1, 1])) }
        #expect(mapError?.description == "node 'node' (Gemm): A must be N×F (flatten first), got frame shape 4×1×1")
        #expect(throws: EngineError.self) { _ = try CompiledModel(singleNodeGraph(op, inputShape: [5])) }
    }

    @Test func matMulOverRowsOfAFrame() throws {
        let weights = randomTensor([4, 3], seed: 8)
        let op = MatMulOperator(weights: weights)
        try checkGraph(singleNodeGraph(op, inputShape: [2, 4])) { x in
            (0..<2).flatMap { r in
                (0..<3).map { g in (0..<4).reduce(0.0) { $0 + x[r * 4 + $1] * Double(weights.values[$1 * 3 + g]) } }
            }
        }
    }

    /// Softmax's own VJP (it is not the last node here, so the logits are its output).
    @Test func softmaxVJP() throws {
        var builder = GraphBuilder(name: "softmax-vjp", inputShape: [2, 5])
        let probabilities = builder.add(SoftmaxOperator(), builder.input)
        builder.add(IdentityOperator(), probabilities)
        try checkGraph(builder.build(), reference: { x in
            Reference.softmax(Array(x[0..<5])) + Reference.softmax(Array(x[5..<10]))
        }, inputRange: -3...3)
    }

    /// Softmax along the middle axis of `3×4×2` frames (each of the 3×2 columns sums to 1).
    @Test func softmaxAlongAnInnerAxis() throws {
        var builder = GraphBuilder(name: "softmax-axis", inputShape: [3, 4, 2])
        let probabilities = builder.add(SoftmaxOperator(axis: 1), builder.input)
        builder.add(IdentityOperator(), probabilities)
        try checkGraph(builder.build(), reference: { x in
            var y = x
            for a in 0..<3 {
                for c in 0..<2 {
                    let column = (0..<4).map { x[(a * 4 + $0) * 2 + c] }
                    for (b, value) in Reference.softmax(column).enumerated() { y[(a * 4 + b) * 2 + c] = value }
                }
            }
            return y
        }, inputRange: -3...3)
    }

    @Test func batchNormalizationUnfolded() throws {
        let shape: TensorShape = [3, 2, 2]
        let op = BatchNormalizationOperator(scale: [1.5, -0.5, 2], shift: [0.1, 0.2, -0.3], mean: [0.5, -1, 0],
                                            variance: [0.25, 4, 1], epsilon: 1e-5)
        var builder = GraphBuilder(name: "bn", inputShape: shape)
        let relu = builder.add(ReLUOperator(), builder.input)
        builder.add(op, relu)
        let model = try CompiledModel(builder.build())
        #expect(model.foldedNodes.isEmpty)
        try checkGraph(builder.build()) { x in
            x.enumerated().map { index, value in
                let c = index / 4
                let (scale, shift, mean, variance) = ([1.5, -0.5, 2.0][c], [0.1, 0.2, -0.3][c], [0.5, -1.0, 0.0][c], [0.25, 4.0, 1.0][c])
                return (max(value, 0) - mean) / (variance + 1e-5).squareRoot() * scale + shift
            }
        }
    }

    @Test func batchNormalizationFoldsIntoTheConvolutionBeforeIt() throws {
        let shape: TensorShape = [2, 5, 5]
        let conv = ConvolutionOperator(weights: randomTensor([3, 2, 3, 3], seed: 21), bias: [0.1, 0.2, 0.3],
                                       strides: (2, 2), padding: .symmetric(1))
        let bn = BatchNormalizationOperator(scale: [1.5, -0.5, 2], shift: [0.1, 0.2, -0.3], mean: [0.5, -1, 0],
                                            variance: [0.25, 4, 1])
        var builder = GraphBuilder(name: "conv-bn", inputShape: shape)
        let y = builder.add(conv, builder.input, name: "conv")
        let z = builder.add(bn, y, name: "bn")
        builder.add(ReLUOperator(), z)
        let model = try CompiledModel(builder.build())
        #expect(model.foldedNodes == ["bn → conv"])
        // The ReLU after the folded BN is then fused into the convolution too.
        #expect(model.nodes.map(\.op.typeName) == ["Conv"])
        #expect(model.fusedNodes.count == 1)
        try checkGraph(builder.build()) { x in
            Reference.convolution(x, shape, conv).enumerated().map { index, value in
                let c = index / 9
                let a = [1.5, -0.5, 2.0][c] / ([0.25, 4.0, 1.0][c] + 1e-5).squareRoot()
                return max(0, (value - [0.5, -1.0, 0.0][c]) * a + [0.1, 0.2, -0.3][c])
            }
        }
    }

    @Test func batchNormalizationIsNotFoldedWhenTheConvolutionOutputIsReadTwice() throws {
        let conv = ConvolutionOperator(weights: randomTensor([2, 2, 1, 1], seed: 2))
        let bn = BatchNormalizationOperator(scale: [1, 1], shift: [0, 0], mean: [0, 0], variance: [1, 1])
        var builder = GraphBuilder(name: "shared", inputShape: [2, 2, 2])
        let y = builder.add(conv, builder.input)
        let z = builder.add(bn, y)
        builder.add(AddOperator(), y, z)
        #expect(try CompiledModel(builder.build()).foldedNodes.isEmpty)
    }
}
