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

    /// Outer axes merge into the runs while both operands continue them: a `C×1×1` gate is `C`
    /// runs of `H·W`, a `1×H×W` plane `C` runs of `H·W` (its channel axis broadcast), equal
    /// shapes one run, a `1×1×W` row `C·H` runs of `W`; the runs cover the output in order and
    /// each operand's run starts where the unmerged layout has it.
    @Test func broadcastLayoutMergesRuns() {
        let output: TensorShape = [5, 6, 7]
        let cases: [(TensorShape, Int, Int, Int)] = [  // right operand, runs, run length, its step
            ([5, 1, 1], 5, 42, 0), ([1, 6, 7], 5, 42, 1), ([5, 6, 7], 1, 210, 1), ([1, 1, 7], 30, 7, 1),
            ([6, 1], 30, 7, 0), ([], 1, 210, 0),
        ]
        for (right, runs, length, step) in cases {
            let layout = BroadcastLayout(output: output, left: output, right: right)
            #expect(layout.extents[3] == length && layout.rightStrides[3] == step && layout.leftStrides[3] == 1,
                    "right operand \(right)")
            // The right operand's element under output element (c, h, w), broadcast by hand.
            func rightIndex(_ element: Int) -> Int {
                let (c, h, w) = (element / 42, element / 7 % 6, element % 7)
                let padded = [1, 1, 1].dropLast(right.rank) + (0..<right.rank).map { right[$0] }
                let dims = Array(padded.suffix(3))
                let (rc, rh, rw) = (dims[0] == 1 ? 0 : c, dims[1] == 1 ? 0 : h, dims[2] == 1 ? 0 : w)
                return (rc * dims[1] + rh) * dims[2] + rw
            }
            var index = 0, next = 0
            layout.forEachRun { outputOffset, left, rightOffset in
                #expect(outputOffset == next && left == outputOffset && rightOffset == rightIndex(outputOffset),
                        "run \(index) of right operand \(right)")
                next = outputOffset + length
                index += 1
            }
            #expect(index == runs && next == output.elementCount)
        }
    }

    /// A gate, a plane and a square of two `16×64×64` frames on merged runs (`C` runs of `H·W`,
    /// the gate constant along each; one run for the square): one and two threads give the
    /// reference's floats exactly (the same operation on each element).
    @Test func broadcastRunsMatchTheReference() throws {
        let shape: TensorShape = [16, 64, 64]
        let gate = randomTensor([16, 1, 1], seed: 31, range: 0.5...1.5)
        let plane = randomTensor([1, 64, 64], seed: 32)
        var b = GraphBuilder(name: "runs", inputShape: shape)
        let gated = b.add(MultiplyOperator(operand: .constant(gate)), b.input)
        let shifted = b.add(AddOperator(operand: .constant(plane)), gated)
        b.add(MultiplyOperator(), shifted, shifted)
        let model = try CompiledModel(b.build())
        var random = SeededGenerator(seed: 33)
        let input = random.uniform(count: 2 * shape.elementCount, in: -1...1)
        var expected = [Float](repeating: 0, count: input.count)
        for frame in 0..<2 {
            for c in 0..<16 {
                for p in 0..<4096 {
                    let i = frame * shape.elementCount + c * 4096 + p
                    let value = input[i] * gate.values[c] + plane.values[p]
                    expected[i] = value * value
                }
            }
        }
        for threads in [1, 2] {
            let workspace = Workspace(model: model, maxBatch: 2, maxCotangents: 1, threads: threads)
            try workspace.forward(input, batch: 2)
            let differing = zip(Array(workspace.outputs), expected).filter { $0 != $1 }.count
            #expect(workspace.outputs.count == expected.count && differing == 0,
                    "\(differing) values differ on \(threads) thread(s)")
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
