/// Computes saliency maps from input gradients, as `../shared/PAPER.md` defines them: per element
/// (channel and pixel), strict comparisons against every other class, max over channels, raw
/// values (no normalisation).
public enum SaliencyMaps {
    /// Writes `method`'s `H×W` map for one frame into `map`.
    ///
    /// - Parameters:
    ///   - gradients: `rows×C×H×W`: the gradients of `rows` classes' logits for this frame.
    ///   - target: the row holding `g_k`, the predicted class's gradient.
    ///   - rows: how many rows there are; `active`/`inactive` compare `g_k` against every other
    ///     row (with one row the comparison is vacuous and they equal `vanilla`).
    ///   - shape: the input frame shape `C×H×W`.
    public static func compute(_ method: SaliencyMethod, gradients: UnsafePointer<Float>, target: Int,
                               rows: Int, shape: TensorShape, into map: UnsafeMutablePointer<Float>) {
        let channels = shape[0], plane = shape.elementCount / channels
        let frame = shape.elementCount
        let gk = gradients + target * frame
        for p in 0..<plane {
            var result: Float = method == .signed ? gk[p] : 0
            for c in 0..<channels {
                let v = gk[c * plane + p]
                switch method {
                case .vanilla:
                    result = max(result, abs(v))
                case .positive:
                    result = max(result, max(v, 0))
                case .negative:
                    result = max(result, max(-v, 0))
                case .signed:
                    if abs(v) > abs(result) { result = v }
                case .active, .inactive:
                    var wins = true
                    for j in 0..<rows where j != target {
                        let other = gradients[j * frame + c * plane + p]
                        if method == .active ? !(v > other) : !(v < other) {
                            wins = false
                            break
                        }
                    }
                    if wins { result = max(result, abs(v)) }
                }
            }
            map[p] = result
        }
    }

    /// The map of `method` for `frame` of the workspace's last backward pass.
    ///
    /// `active`/`inactive` need a backward pass with ``Cotangents/allClasses``; with
    /// `approximate`, any pass that carried the predicted class serves, and they compare `g_k`
    /// only against the classes it carried (e.g. ``Cotangents/topClasses(_:)``) — an
    /// approximation that can only add pixels to the exact maps. The other maps accept any pass
    /// that carried the predicted class. Returns `nil` when the pass lacks what the map needs.
    public static func compute(_ method: SaliencyMethod, workspace: Workspace, frame: Int,
                               approximate: Bool = false) -> [Float]? {
        let model = workspace.model
        let perFrame = workspace.cotangentsPerFrame
        guard perFrame > 0, frame < workspace.batch else { return nil }
        let predicted = workspace.predictedClass(frame: frame)
        guard let target = (0..<perFrame).first(where: { workspace.cotangentClass(frame: frame, cotangent: $0) == predicted })
        else { return nil }
        if method.needsJacobian && perFrame != model.classCount && !approximate { return nil }
        let shape = model.inputShape
        var map = [Float](repeating: 0, count: shape.elementCount / shape[0])
        let gradients = workspace.inputGradient.baseAddress! + frame * perFrame * shape.elementCount
        map.withUnsafeMutableBufferPointer {
            compute(method, gradients: gradients, target: target, rows: perFrame, shape: shape, into: $0.baseAddress!)
        }
        return map
    }
}
