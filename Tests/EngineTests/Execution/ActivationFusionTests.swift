import Testing
@testable import Engine

/// `Relu` after `Conv` (or after a residual `Add`) becomes that operator's epilogue only when
/// nothing else reads the pre-activation, and the fused graph computes the same values and VJPs.
@Suite struct ActivationFusionTests {
    @Test func fusesAReLUThatIsTheConvolutionsOnlyReader() throws {
        let shape: TensorShape = [2, 6, 5]
        let conv = ConvolutionOperator(weights: randomTensor([3, 2, 3, 3], seed: 31), bias: randomTensor([3], seed: 32).values,
                                       padding: .symmetric(1))
        var builder = GraphBuilder(name: "conv-relu", inputShape: shape)
        let y = builder.add(conv, builder.input, name: "conv")
        builder.add(ReLUOperator(), y, name: "relu")
        let model = try CompiledModel(builder.build())
        #expect(model.fusedNodes == ["relu → conv"])
        #expect(model.nodes.count == 1)
        #expect((model.nodes[0].op as? ConvolutionOperator)?.activation == .relu)
        try checkGraph(builder.build(), reference: { x in Reference.convolution(x, shape, conv).map { max($0, 0) } }, batch: 3)
    }

    @Test func keepsTheReLUWhenThePreActivationIsReadElsewhere() throws {
        let conv = ConvolutionOperator(weights: randomTensor([2, 2, 1, 1], seed: 2))
        var builder = GraphBuilder(name: "shared", inputShape: [2, 3, 3])
        let y = builder.add(conv, builder.input)
        let z = builder.add(ReLUOperator(), y)
        builder.add(AddOperator(), y, z)
        let model = try CompiledModel(builder.build())
        #expect(model.fusedNodes.isEmpty)
        #expect(model.nodes.map(\.op.typeName) == ["Conv", "Relu", "Add"])
    }

    @Test func keepsAReLUAfterAnotherOperator() throws {
        var builder = GraphBuilder(name: "pool-relu", inputShape: [2, 4, 4])
        let y = builder.add(MaxPoolOperator(window: SpatialWindow(kernel: 2, stride: 2)), builder.input)
        builder.add(ReLUOperator(), y)
        #expect(try CompiledModel(builder.build()).fusedNodes.isEmpty)
    }

    /// `Clip(−0.5, 0.75)` after a convolution (the bounds low enough that many outputs land on
    /// each side): fused into the direct, the depthwise and the Winograd convolution, the output
    /// is clamped and the VJP passes the gradient only strictly inside the interval.
    @Test(arguments: ["direct", "depthwise", "winograd"])
    func fusesAClip(kind: String) throws {
        let shape: TensorShape = [2, 7, 9]
        var conv = ConvolutionOperator(weights: randomTensor(kind == "depthwise" ? [2, 1, 3, 3] : [3, 2, 3, 3], seed: 33),
                                       bias: randomTensor([kind == "depthwise" ? 2 : 3], seed: 34).values,
                                       padding: .symmetric(1), groups: kind == "depthwise" ? 2 : 1)
        if kind == "winograd" {
            conv.winogradMinimumChannels = 1
            conv.winogradMinimum = .always
        } else {
            conv.winogradMinimumChannels = .max
        }
        var builder = GraphBuilder(name: "conv-clip", inputShape: shape)
        let y = builder.add(conv, builder.input, name: "conv")
        builder.add(ClipOperator(minimum: -0.5, maximum: 0.75), y, name: "clip")
        let model = try CompiledModel(builder.build())
        #expect(model.fusedNodes == ["clip → conv"])
        #expect((model.nodes[0].op as? ConvolutionOperator)?.activation == .clip(minimum: -0.5, maximum: 0.75))
        let (input, _) = try checkGraph(builder.build(), reference: { x in
            Reference.convolution(x, shape, conv).map { min(max($0, -0.5), 0.75) }
        }, batch: 3)
        // Both bounds are reached: the mask matters on each side.
        let outputs = Reference.convolution(input[0..<shape.elementCount].map(Double.init), shape, conv)
        #expect(outputs.contains { $0 < -0.5 } && outputs.contains { $0 > 0.75 })
    }

    /// A ResNet block's end, `f(conv(x) + x)` with `f` a ReLU or a clip: the activation becomes
    /// the `Add`'s epilogue; 60 values per frame take both the 16-wide loop and its tail.
    @Test(arguments: ["relu", "clip"])
    func fusesAnActivationIntoTheResidualAdd(kind: String) throws {
        let shape: TensorShape = [2, 6, 5]
        let conv = ConvolutionOperator(weights: randomTensor([2, 2, 3, 3], seed: 35), bias: [0.1, -0.2], padding: .symmetric(1))
        let (activation, f): (any Operator, (Double) -> Double) = kind == "relu"
            ? (ReLUOperator(), { max($0, 0) })
            : (ClipOperator(minimum: -0.5, maximum: 0.75), { min(max($0, -0.5), 0.75) })
        var builder = GraphBuilder(name: "residual-\(kind)", inputShape: shape)
        let branch = builder.add(conv, builder.input, name: "conv")
        let sum = builder.add(AddOperator(), branch, builder.input, name: "add")
        builder.add(activation, sum, name: kind)
        let model = try CompiledModel(builder.build())
        #expect(model.fusedNodes == ["\(kind) → add"])
        #expect(model.nodes.map(\.op.typeName) == ["Conv", "Add"])
        let expected: FusedActivation = kind == "relu" ? .relu : .clip(minimum: -0.5, maximum: 0.75)
        #expect((model.nodes[1].op as? AddOperator)?.activation == expected)
        let (input, _) = try checkGraph(builder.build(), reference: { x in
            zip(Reference.convolution(x, shape, conv), x).map { f($0 + $1) }
        }, batch: 3)
        // The activation's flat parts are reached, so the mask matters.
        let sums = zip(Reference.convolution(input[0..<shape.elementCount].map(Double.init), shape, conv), input).map { $0 + Double($1) }
        #expect(sums.contains { $0 < -0.5 } && sums.contains { $0 > 0.75 })
    }
}
