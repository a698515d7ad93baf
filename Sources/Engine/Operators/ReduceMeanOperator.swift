/// Mean over any set of frame axes (ONNX `ReduceMean` whose axes are not the spatial pair
/// {H, W}, which ``SpatialMeanOperator`` runs faster). The batch axis is never reduced.
///
/// Input `N×…`; output `N×…` with the reduced axes kept as 1 (`keepdims = 1`) or removed.
/// VJP: `dx[i] = dy[out(i)] / count`, `count` the number of elements averaged into each output.
public struct ReduceMeanOperator: Operator {
    /// Axes of the frame (0 = the first axis after the batch axis) to average over.
    public var axes: Set<Int>
    public var keepDimensions: Bool

    public init(axes: Set<Int>, keepDimensions: Bool = true) {
        self.axes = axes
        self.keepDimensions = keepDimensions
    }

    public var typeName: String { "ReduceMean" }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        let shape = inputShapes[0]
        guard !axes.isEmpty, axes.allSatisfy({ $0 >= 0 && $0 < shape.rank }) else {
            throw OperatorError("axes \(axes.sorted()) must be frame axes of N×\(shape)")
        }
        var dimensions: [Int] = []
        for axis in 0..<shape.rank {
            if !axes.contains(axis) { dimensions.append(shape[axis]) } else if keepDimensions { dimensions.append(1) }
        }
        return TensorShape(dimensions)
    }

    /// For every input element of a frame, the index of the output element it averages into.
    @inline(__always)
    private func forEachElement(_ shape: TensorShape, _ body: (_ input: Int, _ output: Int) -> Void) {
        let strides = shape.strides
        // Output strides over the kept axes (reduced axes contribute 0).
        var outputStrides = [Int](repeating: 0, count: shape.rank)
        var running = 1
        for axis in stride(from: shape.rank - 1, through: 0, by: -1) where !axes.contains(axis) {
            outputStrides[axis] = running
            running *= shape[axis]
        }
        for index in 0..<shape.elementCount {
            var rest = index, output = 0
            for axis in 0..<shape.rank {
                let coordinate = rest / strides[axis]
                rest -= coordinate * strides[axis]
                output += coordinate * outputStrides[axis]
            }
            body(index, output)
        }
    }

    private func count(_ shape: TensorShape) -> Int { axes.reduce(1) { $0 * shape[$1] } }

    public func forward(_ invocation: ForwardInvocation) {
        let shape = invocation.inputShapes[0]
        let outputCount = invocation.outputShape.elementCount
        let scale = 1 / Float(count(shape))
        for frame in 0..<invocation.batch {
            let x = invocation.input(0, frame: frame)
            let y = invocation.output + frame * outputCount
            y.update(repeating: 0, count: outputCount)
            forEachElement(shape) { input, output in y[output] += x[input] }
            for i in 0..<outputCount { y[i] *= scale }
        }
    }

    public func backward(_ invocation: BackwardInvocation) {
        guard let dx = invocation.zeroedGradient(0) else { return }
        let shape = invocation.inputShapes[0]
        let outputCount = invocation.outputShape.elementCount
        let scale = 1 / Float(count(shape))
        for row in 0..<invocation.rows {
            let dy = invocation.outputGradient + row * outputCount
            let dxRow = dx + row * shape.elementCount
            forEachElement(shape) { input, output in dxRow[input] += dy[output] * scale }
        }
    }
}
