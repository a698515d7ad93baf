/// A value known when the model is imported: an initializer, a `Constant` node's output, or
/// the result of folding shape arithmetic (`Shape → Gather → Unsqueeze → Concat → Reshape`).
enum ONNXConstant: Sendable {
    /// Floating-point data (weights, biases, scalars), full ONNX shape.
    case floats(Tensor)
    /// Integer data (shapes, axes, indices), full ONNX shape. ``batch`` stands for the dynamic
    /// batch dimension where `Shape` read it.
    case ints(dims: [Int], values: [Int])

    /// The placeholder for the batch dimension in folded shapes.
    static let batch = Int.min / 2

    var dims: [Int] {
        switch self {
        case let .floats(tensor): tensor.shape.dimensions
        case let .ints(dims, _): dims
        }
    }

    /// Integer values; floats are converted when they are whole numbers.
    var integers: [Int]? {
        switch self {
        case let .ints(_, values): values
        case let .floats(tensor):
            tensor.values.allSatisfy { $0 == $0.rounded() && abs($0) < 1e15 } ? tensor.values.map { Int($0) } : nil
        }
    }

    /// Float values; integers are converted (the batch placeholder is not a number).
    var tensor: Tensor? {
        switch self {
        case let .floats(tensor): tensor
        case let .ints(dims, values):
            values.contains(Self.batch) ? nil : Tensor(shape: TensorShape(dims), values: values.map(Float.init))
        }
    }

    /// The same values under new dimensions.
    func reshaped(_ dims: [Int]) -> ONNXConstant {
        switch self {
        case let .floats(tensor): .floats(Tensor(shape: TensorShape(dims), values: tensor.values))
        case let .ints(_, values): .ints(dims: dims, values: values)
        }
    }
}
