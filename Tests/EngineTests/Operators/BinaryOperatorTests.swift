import Foundation
import Testing
@testable import Engine

@Suite struct BinaryOperatorTests {
    @Test func broadcastAddAndMultiplyByHand() throws {
        var builder = GraphBuilder(name: "by-hand", inputShape: [2, 1, 2])
        let shifted = builder.add(AddOperator(operand: .constant(Tensor(shape: [2, 1, 1], values: [10, 20]))), builder.input)
        builder.add(MultiplyOperator(operand: .constant(Tensor(shape: [2], values: [1, -1]))), shifted)
        let workspace = Workspace(model: try CompiledModel(builder.build()))
        try workspace.forward([1, 2, 3, 4], batch: 1)
        #expect(Array(workspace.outputs) == [11, -12, 23, -24])
    }

    @Test func rejectsShapesThatDoNotBroadcast() throws {
        let op = AddOperator(operand: .constant(Tensor(shape: [3], repeating: 0)))
        let error = #expect(throws: EngineError.self) { _ = try CompiledModel(singleNodeGraph(op, inputShape: [2, 4])) }
        #expect(error?.description == "node 'node' (Add): shapes 2×4 and 3 do not broadcast (axis 1: 4 vs 3)")
    }

    /// `conv(x) + x`: a residual connection, two data inputs of the same shape.
    @Test func residualAdd() throws {
        let shape: TensorShape = [2, 4, 5]
        let conv = ConvolutionOperator(weights: randomTensor([2, 2, 3, 3], seed: 3), bias: [0.1, -0.2], padding: .symmetric(1))
        var builder = GraphBuilder(name: "residual", inputShape: shape)
        let branch = builder.add(conv, builder.input)
        builder.add(AddOperator(), branch, builder.input)
        try checkGraph(builder.build()) { x in
            zip(Reference.convolution(x, shape, conv), x).map { $0 + $1 }
        }
    }

    /// `relu(s ⊙ x + x)` (per-channel `s`, the ReLU fused into the residual `Add`), then the mean of
    /// each channel as its logit, over frames large enough to spread over threads: every input
    /// gradient entry of `.allClasses` is `[k = c] (s_c + 1) [y > 0] / HW`. With `laterReader`, a
    /// node run after the `Add` also reads `x` (`+ t ⊙ x`, adding `[k = c] t_c / HW`), so the
    /// `Add`'s VJP adds into `x`'s gradient instead of writing it. The fused graph's outputs and
    /// gradients equal the unfused graph's exactly, on 1 and 2 threads.
    @Test(arguments: [false, true])
    func residualAddReLUOverThreads(laterReader: Bool) throws {
        let shape: TensorShape = [8, 48, 48]
        let plane = 48 * 48
        let s: [Float] = [-2.5, -1.5, 0.5, 2, -0.25, 1, -3, 0.75]
        let t: [Float] = [0.5, -1, 2, 0.25, -0.75, 1.5, 3, -2]
        var b = GraphBuilder(name: "residual-relu", inputShape: shape)
        let scaled = b.add(MultiplyOperator(operand: .constant(Tensor(shape: [8, 1, 1], values: s))), b.input)
        var x = b.add(ReLUOperator(), b.add(AddOperator(), scaled, b.input, name: "add"), name: "relu")
        if laterReader {
            x = b.add(AddOperator(), x, b.add(MultiplyOperator(operand: .constant(Tensor(shape: [8, 1, 1], values: t))), b.input))
        }
        x = b.add(FlattenOperator(), b.add(SpatialMeanOperator(), x))
        let model = try CompiledModel(b.build(output: x))
        #expect(model.fusedNodes == ["relu → add"])
        let unfused = try CompiledModel(b.build(output: x), fusingActivations: false)
        var random = SeededGenerator(seed: 23)
        let input = random.uniform(count: shape.elementCount, in: -1...1)
        var unfusedResult: [Float] = []
        for threads in [1, 2] {
            var results: [[Float]] = []
            for compiled in [model, unfused] {
                let workspace = Workspace(model: compiled, maxBatch: 1, maxCotangents: 8, threads: threads)
                try workspace.forward(input, batch: 1)
                try workspace.backward(.allClasses)
                results.append(Array(workspace.outputs) + Array(workspace.inputGradient))
            }
            let differing = zip(results[0], results[1]).filter { $0 != $1 }.count
            #expect(results[0].count == results[1].count && differing == 0,
                    "fused and unfused differ in \(differing) values on \(threads) thread(s)")
            if threads == 1 { unfusedResult = results[1] } else { #expect(results[1] == unfusedResult, "1 and 2 threads differ") }

            let gradient = results[0].suffix(8 * shape.elementCount)
            var mismatches = 0
            for k in 0..<8 {
                for c in 0..<8 {
                    for p in 0..<plane {
                        let value = input[c * plane + p]
                        let passes = (s[c] * value + value) > 0
                        var expected = k == c && passes ? (s[c] + 1) / Float(plane) : 0
                        if laterReader, k == c { expected += t[c] / Float(plane) }
                        let got = gradient[gradient.startIndex + (k * 8 + c) * plane + p]
                        if abs(got - expected) > 1e-6 * abs(expected) + 1e-9 { mismatches += 1 }
                    }
                }
            }
            #expect(mismatches == 0, "\(mismatches) gradient entries differ on \(threads) thread(s)")
        }
    }

    /// `x · sigmoid(mean(x))`: squeeze-excitation gating, `C×H×W · C×1×1`.
    @Test func squeezeExcitationGate() throws {
        let shape: TensorShape = [3, 4, 3]
        var builder = GraphBuilder(name: "se", inputShape: shape)
        let pooled = builder.add(SpatialMeanOperator(), builder.input)
        let gate = builder.add(SigmoidOperator(), pooled)
        builder.add(MultiplyOperator(), builder.input, gate)
        try checkGraph(builder.build()) { x in
            let gate = Reference.spatialMean(x, shape).map { 1 / (1 + Foundation.exp(-$0)) }
            return Reference.broadcast(x, shape, gate, [3, 1, 1], *).values
        }
    }

    /// The gate first: a `C×1×1` data input broadcast against `C×H×W`, and the same tensor read
    /// twice by one node (`x · x`).
    @Test func broadcastFirstOperandAndSquare() throws {
        let shape: TensorShape = [2, 3, 3]
        var builder = GraphBuilder(name: "gate-first", inputShape: shape)
        let pooled = builder.add(SpatialMeanOperator(), builder.input)
        let gated = builder.add(MultiplyOperator(), pooled, builder.input)
        builder.add(MultiplyOperator(), gated, gated)
        try checkGraph(builder.build()) { x in
            let gated = Reference.broadcast(Reference.spatialMean(x, shape), [2, 1, 1], x, shape, *).values
            return gated.map { $0 * $0 }
        }
    }

    @Test(arguments: [TensorShape([3, 1, 1]), [1, 4, 1], [5], [], [3, 4, 5]])
    func constantOperands(_ constantShape: TensorShape) throws {
        let shape: TensorShape = [3, 4, 5]
        let constant = randomTensor(constantShape, seed: 9, range: 0.5...1.5)
        var builder = GraphBuilder(name: "constants", inputShape: shape)
        let sum = builder.add(AddOperator(operand: .constant(constant)), builder.input)
        builder.add(MultiplyOperator(operand: .constant(constant)), sum)
        let c = constant.values.map(Double.init)
        try checkGraph(builder.build()) { x in
            let added = Reference.broadcast(x, shape, c, constantShape, +).values
            return Reference.broadcast(added, shape, c, constantShape, *).values
        }
    }

    /// `x − relu(x)` and `x / (1 + sigmoid(mean(x)))`: two activations, the divisor broadcast.
    @Test func subtractAndDivideActivations() throws {
        let shape: TensorShape = [2, 3, 3]
        var builder = GraphBuilder(name: "sub-div", inputShape: shape)
        let relu = builder.add(ReLUOperator(), builder.input)
        let difference = builder.add(SubtractOperator(), builder.input, relu)
        let gate = builder.add(SigmoidOperator(), builder.add(SpatialMeanOperator(), builder.input))
        let divisor = builder.add(AddOperator(operand: .constant(Tensor(scalar: 1))), gate)
        builder.add(DivideOperator(), difference, divisor)
        try checkGraph(builder.build()) { x in
            let difference = x.map { $0 - max($0, 0) }
            let divisor = Reference.spatialMean(x, shape).map { 1 + 1 / (1 + Foundation.exp(-$0)) }
            return Reference.broadcast(difference, shape, divisor, [2, 1, 1], /).values
        }
    }

    /// An auxiliary input is read per frame but receives no gradient.
    @Test func auxiliaryInputsFeedTheForwardPassOnly() throws {
        let graph = Graph(name: "aux", inputName: "x", inputShape: [3], nodes: [
            GraphNode(name: "mul", op: MultiplyOperator(), inputs: ["x", "scale"], output: "y"),
        ], outputName: "y", auxiliaryInputs: [("scale", [3])])
        let model = try CompiledModel(graph)
        #expect(model.requiresGradient == [true, false, true])
        let workspace = Workspace(model: model, maxBatch: 2)
        let x: [Float] = [1, 2, 3, 4, 5, 6], scale: [Float] = [10, 20, 30, -1, -2, -3]
        try x.withUnsafeBufferPointer { input in
            try scale.withUnsafeBufferPointer { try workspace.forward(input, batch: 2, auxiliary: [$0]) }
        }
        #expect(Array(workspace.outputs) == [10, 40, 90, -4, -10, -18])
        try workspace.backward(.classes([1]))
        #expect(Array(workspace.inputGradient) == [0, 20, 0, 0, -2, 0])
        #expect(throws: EngineError.self) { try workspace.forward(x, batch: 2) }
    }
}
