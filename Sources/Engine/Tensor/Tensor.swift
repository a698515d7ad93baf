/// A float32 tensor held in memory: constants such as weights, biases and broadcast operands.
///
/// Values are row-major (C-contiguous) in `shape`'s order; convolution weights are `M×C/g×kH×kW`
/// as in ONNX and PyTorch.
public struct Tensor: Sendable, Equatable {
    public var shape: TensorShape
    public var values: [Float]

    /// Creates a tensor; `values.count` must equal `shape.elementCount`.
    public init(shape: TensorShape, values: [Float]) {
        precondition(values.count == shape.elementCount,
                     "Tensor: \(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }

    /// A tensor filled with one value.
    public init(shape: TensorShape, repeating value: Float) {
        self.init(shape: shape, values: [Float](repeating: value, count: shape.elementCount))
    }

    /// A scalar (rank 0) tensor.
    public init(scalar: Float) { self.init(shape: [], values: [scalar]) }
}
