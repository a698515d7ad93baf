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
        let x = invocation.inputs[0], y = invocation.output
        func mean(of planes: Range<Int>) {
            for index in planes { y[index] = Self.sum(x + index * plane, count: plane) * scale }
        }
        Self.forEachPlaneGroup(planes: invocation.batch * shape[0], plane: plane, team: invocation.team, mean)
    }

    public func backward(_ invocation: BackwardInvocation) {
        guard let dx = invocation.inputGradients[0] else { return }
        let shape = invocation.inputShapes[0]
        let plane = shape[1] * shape[2]
        let scale = 1 / Float(plane)
        let accumulate = invocation.accumulate[0]
        let dy = invocation.outputGradient
        func spread(over planes: Range<Int>) {
            for index in planes {
                let share = dy[index] * scale
                let dxPlane = dx + index * plane
                if accumulate {
                    for i in 0..<plane { dxPlane[i] += share }
                } else {
                    dxPlane.update(repeating: share, count: plane)
                }
            }
        }
        Self.forEachPlaneGroup(planes: invocation.rows * shape[0], plane: plane, team: invocation.team, spread)
    }

    /// Calls `body` on groups of consecutive planes of about 16 Ki floats, spread over the team
    /// when there are at least 1 Mi floats in all. Both passes are memory-bound; below that, waking
    /// the other threads cost more than it saved (efficientnet_b0's 16 squeeze-excitation means,
    /// 3–401 Ki floats each: their single gradient's VJPs took 0.29–0.46 ms in all with a 64 Ki
    /// threshold against 0.14–0.28 on one thread).
    @inline(__always)
    static func forEachPlaneGroup(planes: Int, plane: Int, team: ThreadTeam, _ body: (Range<Int>) -> Void) {
        let plane = max(plane, 1)
        team.forEachRange(planes, grain: max(1, (1 << 14) / plane), minimumParallel: ((1 << 20) + plane - 1) / plane, body)
    }

    /// `Σ x[i]` for `i < count`, in four independent 8-wide partial sums (a serial scalar sum
    /// waits on each addition's latency and never vectorises: float addition is not associative).
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var a = SIMD8<Float>(), b = SIMD8<Float>(), c = SIMD8<Float>(), d = SIMD8<Float>()
        var i = 0
        while i + 32 <= count {
            a += load(SIMD8<Float>.self, x + i)
            b += load(SIMD8<Float>.self, x + i + 8)
            c += load(SIMD8<Float>.self, x + i + 16)
            d += load(SIMD8<Float>.self, x + i + 24)
            i += 32
        }
        while i + 8 <= count {
            a += load(SIMD8<Float>.self, x + i)
            i += 8
        }
        var total = ((a + b) + (c + d)).sum()
        while i < count {
            total += x[i]
            i += 1
        }
        return total
    }
}
