/// The convolutional network the paper trains from scratch, built in code:
///
/// conv 7×7/s2 (32, pad 3) → ReLU → max-pool 3/s2 (pad 1) → three blocks of
/// [conv 3×3 (pad 1), ReLU, conv 3×3/s2 (pad 1), ReLU, conv 3×3 (pad 1), ReLU] with 32, 64 and
/// 128 channels → global average pool → flatten → linear to `classes` logits.
///
/// Weights are drawn with He-uniform scaling from a seeded generator, so the network is the same
/// on every run; trained weights come from ONNX files.
public enum PaperCNN {
    /// The graph for `channels×size×size` inputs.
    public static func graph(channels: Int = 1, height: Int = 28, width: Int = 28, classes: Int = 10,
                             seed: UInt64 = 2309_12913) -> Graph {
        var random = SeededGenerator(seed: seed)
        var builder = GraphBuilder(name: "paper-cnn", inputShape: [channels, height, width])

        func convolution(_ input: String, _ inputChannels: Int, _ outputChannels: Int, kernel: Int,
                         stride: Int, name: String) -> String {
            let fanIn = Float(inputChannels * kernel * kernel)
            let bound = (6 / fanIn).squareRoot()
            let weights = Tensor(shape: [outputChannels, inputChannels, kernel, kernel],
                                 values: random.uniform(count: outputChannels * inputChannels * kernel * kernel,
                                                        in: -bound...bound))
            let bias = random.uniform(count: outputChannels, in: -0.05...0.05)
            let conv = builder.add(ConvolutionOperator(weights: weights, bias: bias, strides: (stride, stride),
                                                       padding: .symmetric(kernel / 2)), input, name: name)
            return builder.add(ReLUOperator(), conv, name: "\(name)_relu")
        }

        var x = convolution(builder.input, channels, 32, kernel: 7, stride: 2, name: "stem")
        x = builder.add(MaxPoolOperator(window: SpatialWindow(kernel: 3, stride: 2, padding: 1)), x, name: "stem_pool")
        var inputChannels = 32
        for (block, outputChannels) in [32, 64, 128].enumerated() {
            x = convolution(x, inputChannels, outputChannels, kernel: 3, stride: 1, name: "block\(block + 1)_conv1")
            x = convolution(x, outputChannels, outputChannels, kernel: 3, stride: 2, name: "block\(block + 1)_conv2")
            x = convolution(x, outputChannels, outputChannels, kernel: 3, stride: 1, name: "block\(block + 1)_conv3")
            inputChannels = outputChannels
        }
        x = builder.add(SpatialMeanOperator(), x, name: "pool")
        x = builder.add(FlattenOperator(), x, name: "flatten")
        let bound = 1 / Float(inputChannels).squareRoot()
        let weights = Tensor(shape: [classes, inputChannels],
                             values: random.uniform(count: classes * inputChannels, in: -bound...bound))
        let bias = Tensor(shape: [classes], values: random.uniform(count: classes, in: -bound...bound))
        x = builder.add(GemmOperator(weights: weights, bias: bias, transposeWeights: true), x, name: "classifier")
        return builder.build(output: x)
    }
}
