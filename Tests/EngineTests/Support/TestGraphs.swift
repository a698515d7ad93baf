@testable import Engine

/// Small graphs that exercise many operators and the executor's wiring at once.
enum TestGraphs {
    /// A `3×12×12 → 5` network with every structural pattern the engine supports: strided
    /// convolution + folded BN, max pool, depthwise convolution, residual add, squeeze-excitation,
    /// concatenation, average pooling, global average pooling, flatten and a fully connected layer.
    static func mixed(seed: UInt64 = 7) -> Graph {
        var random = SeededGenerator(seed: seed)
        func tensor(_ shape: TensorShape, _ scale: Float = 0.5) -> Tensor {
            Tensor(shape: shape, values: random.uniform(count: shape.elementCount, in: -scale...scale))
        }
        var b = GraphBuilder(name: "mixed", inputShape: [3, 12, 12])
        var x = b.add(ConvolutionOperator(weights: tensor([8, 3, 3, 3]), bias: tensor([8]).values, strides: (2, 2),
                                          padding: .symmetric(1)), b.input, name: "stem")
        x = b.add(BatchNormalizationOperator(scale: tensor([8]).values.map { $0 + 1 }, shift: tensor([8]).values,
                                             mean: tensor([8]).values, variance: tensor([8]).values.map { abs($0) + 0.5 }),
                  x, name: "stem_bn")
        x = b.add(ReLUOperator(), x)
        x = b.add(MaxPoolOperator(window: SpatialWindow(kernel: 3, stride: 1, padding: 1)), x)
        let depthwise = b.add(ConvolutionOperator(weights: tensor([8, 1, 3, 3]), bias: tensor([8]).values,
                                                  padding: .symmetric(1), groups: 8), x, name: "depthwise")
        let activated = b.add(HardSwishOperator(), depthwise)
        let residual = b.add(AddOperator(), activated, x, name: "residual")
        let squeezed = b.add(SpatialMeanOperator(), residual)
        let excitation = b.add(ConvolutionOperator(weights: tensor([8, 8, 1, 1]), bias: tensor([8]).values), squeezed)
        let gate = b.add(HardSigmoidOperator(alpha: 1.0 / 6, beta: 0.5), excitation)
        let excited = b.add(MultiplyOperator(), residual, gate, name: "se")
        let branch = b.add(ConvolutionOperator(weights: tensor([4, 8, 1, 1]), bias: nil), excited)
        let leaky = b.add(LeakyReLUOperator(alpha: 0.1), branch)
        x = b.add(ConcatOperator(axis: 1, inputCount: 2), excited, leaky, name: "concat")
        x = b.add(AveragePoolOperator(window: SpatialWindow(kernel: 2, stride: 2, ceilMode: true)), x)
        x = b.add(ClipOperator(minimum: 0, maximum: 6), x)
        x = b.add(SpatialMeanOperator(), x)
        x = b.add(FlattenOperator(), x)
        x = b.add(GemmOperator(weights: tensor([5, 12], 1), bias: tensor([5]), transposeWeights: true), x, name: "fc")
        return b.build(output: x)
    }
}
