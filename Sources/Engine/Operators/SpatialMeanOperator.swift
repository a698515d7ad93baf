/// Mean over the spatial axes of a feature map: ONNX `GlobalAveragePool` (`keepDimensions`,
/// output `N×C×1×1`) and `ReduceMean` over axes `{2, 3}` (output `N×C×1×1` with `keepdims = 1`,
/// `N×C` without) — the two ways PyTorch's exporters write `AdaptiveAvgPool2d(1)` and `mean`.
///
/// Input `N×C×H×W`. VJP: `dx[c, h, w] = dy[c] / (H·W)`.
public struct SpatialMeanOperator: Operator {
    public var keepDimensions: Bool
    /// The ONNX operator this node came from, for messages (`GlobalAveragePool` or `ReduceMean`).
    public var typeName: String

    public init(keepDimensions: Bool = true, typeName: String = "GlobalAveragePool") {
        self.keepDimensions = keepDimensions
        self.typeName = typeName
    }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        guard let (channels, _, _) = inputShapes[0].channelsHeightWidth else {
            throw OperatorError("input must be N×C×H×W, got frame shape \(inputShapes[0])")
        }
        return keepDimensions ? [channels, 1, 1] : [channels]
    }

    public func forward(_ invocation: ForwardInvocation) {
        let shape = invocation.inputShapes[0]
        let plane = shape[1] * shape[2]
        let scale = 1 / Float(plane)
        for index in 0..<(invocation.batch * shape[0]) {
            let x = invocation.inputs[0] + index * plane
            var sum: Float = 0
            for i in 0..<plane { sum += x[i] }
            invocation.output[index] = sum * scale
        }
    }

    public func backward(_ invocation: BackwardInvocation) {
        guard let dx = invocation.inputGradients[0] else { return }
        let shape = invocation.inputShapes[0]
        let plane = shape[1] * shape[2]
        let scale = 1 / Float(plane)
        let accumulate = invocation.accumulate[0]
        for index in 0..<(invocation.rows * shape[0]) {
            let share = invocation.outputGradient[index] * scale
            let dxPlane = dx + index * plane
            if accumulate {
                for i in 0..<plane { dxPlane[i] += share }
            } else {
                dxPlane.update(repeating: share, count: plane)
            }
        }
    }
}
