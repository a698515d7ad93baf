/// Batch normalisation in inference mode (ONNX `BatchNormalization`, PyTorch `BatchNorm2d` in
/// `eval()`): `y[c] = (x[c] − mean[c]) / sqrt(var[c] + ε) · scale[c] + shift[c]`, i.e. the
/// per-channel affine map `y[c] = a[c]·x[c] + b[c]`.
///
/// Input and output: `N×C×…` (channels second, any spatial extent). Parameters: `C` values each.
/// When it follows a convolution whose output nothing else reads, the graph compiler folds it
/// into that convolution's weights and bias (``folded(into:)``).
/// VJP: `dx[c] = a[c]·dy[c]`.
public struct BatchNormalizationOperator: Operator {
    /// Per-channel multiplier `a = scale / sqrt(var + ε)`.
    public let multiplier: [Float]
    /// Per-channel offset `b = shift − mean·a`.
    public let offset: [Float]

    public init(scale: [Float], shift: [Float], mean: [Float], variance: [Float], epsilon: Float = 1e-5) {
        var multiplier = [Float](repeating: 0, count: scale.count)
        var offset = [Float](repeating: 0, count: scale.count)
        for c in 0..<scale.count where c < shift.count && c < mean.count && c < variance.count {
            // Computed in double so that folding matches PyTorch's fp32 result to rounding.
            let a = Double(scale[c]) / (Double(variance[c]) + Double(epsilon)).squareRoot()
            multiplier[c] = Float(a)
            offset[c] = Float(Double(shift[c]) - Double(mean[c]) * a)
        }
        self.multiplier = multiplier
        self.offset = offset
        self.parameterCounts = [scale.count, shift.count, mean.count, variance.count]
    }

    private let parameterCounts: [Int]
    public var typeName: String { "BatchNormalization" }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        let shape = inputShapes[0]
        guard shape.rank >= 1 else { throw OperatorError("input must be N×C×…, got frame shape \(shape)") }
        guard parameterCounts.allSatisfy({ $0 == shape[0] }) else {
            throw OperatorError("scale, B, mean and var must have \(shape[0]) values (one per channel), got \(parameterCounts)")
        }
        return shape
    }

    /// The convolution that computes `BN(conv(x))` in one step:
    /// `W'[m] = a[m]·W[m]`, `b'[m] = a[m]·b[m] + offset[m]`.
    public func folded(into convolution: ConvolutionOperator) -> ConvolutionOperator? {
        guard multiplier.count == convolution.outputChannels else { return nil }
        var result = convolution
        let perFilter = convolution.weights.shape.elementCount / convolution.outputChannels
        var scaled = convolution.weights
        for m in 0..<convolution.outputChannels {
            for k in 0..<perFilter { scaled.values[m * perFilter + k] *= multiplier[m] }
        }
        result.weights = scaled
        result.bias = (0..<convolution.outputChannels).map { m in
            multiplier[m] * (convolution.bias?[m] ?? 0) + offset[m]
        }
        return result
    }

    public func forward(_ invocation: ForwardInvocation) {
        let shape = invocation.outputShape
        let channels = shape[0], plane = shape.elementCount / channels
        for frame in 0..<invocation.batch {
            let x = invocation.input(0, frame: frame)
            let y = invocation.output + frame * shape.elementCount
            for c in 0..<channels {
                let a = multiplier[c], b = offset[c]
                let xc = x + c * plane, yc = y + c * plane
                for i in 0..<plane { yc[i] = a * xc[i] + b }
            }
        }
    }

    public func backward(_ invocation: BackwardInvocation) {
        guard let dx = invocation.inputGradients[0] else { return }
        let shape = invocation.outputShape
        let channels = shape[0], plane = shape.elementCount / channels
        let accumulate = invocation.accumulate[0]
        for row in 0..<invocation.rows {
            let dy = invocation.outputGradient + row * shape.elementCount
            let dxRow = dx + row * shape.elementCount
            for c in 0..<channels {
                let a = multiplier[c]
                let dyc = dy + c * plane, dxc = dxRow + c * plane
                if accumulate {
                    for i in 0..<plane { dxc[i] += a * dyc[i] }
                } else {
                    for i in 0..<plane { dxc[i] = a * dyc[i] }
                }
            }
        }
    }
}
