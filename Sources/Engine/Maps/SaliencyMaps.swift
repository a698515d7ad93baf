import CPrefetch

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
    ///
    /// Sixteen pixels at a time, channel after channel (each channel's pixels, and each other
    /// row's, read as contiguous runs), with the comparisons and maxima of ``pixel(_:_:gradients:target:rows:channels:plane:)``
    /// taken lane by lane, so every value is the one the per-pixel loop gives; the last pixels
    /// go through that loop. (Per pixel, with the channels and rows a plane apart, resnet18's
    /// three one-gradient maps took 0.96 ms of the serving thread and its five Jacobian maps
    /// 7.4 ms; this loop takes 0.14 and 1.1 ms, `bench`'s `gradient_maps_ms`/`jacobian_maps_ms`,
    /// on the Emerald Rapids VM.) The other rows' lines are prefetched (`CPrefetch`) a few
    /// vectors ahead; a prefetch past the buffer's end is a hint and never faults.
    public static func compute(_ method: SaliencyMethod, gradients: UnsafePointer<Float>, target: Int,
                               rows: Int, shape: TensorShape, into map: UnsafeMutablePointer<Float>) {
        typealias Vector = SIMD16<Float>
        let channels = shape[0], plane = shape.elementCount / channels
        let frame = shape.elementCount
        let gk = gradients + target * frame
        @inline(__always) func load(_ pointer: UnsafePointer<Float>) -> Vector {
            UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
        }
        @inline(__always) func magnitude(_ v: Vector) -> Vector {
            unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Vector.self)
        }
        // `Swift.max(x, y)` is `y >= x ? y : x`; these keep its choice lane by lane.
        @inline(__always) func maximum(_ x: Vector, _ y: Vector) -> Vector { x.replacing(with: y, where: y .>= x) }
        let zero = Vector(repeating: 0)
        // The active and inactive maps read every row's channel planes side by side (30 streams
        // for 10 classes and 3 channels), more than the hardware prefetchers follow: each asks
        // for its line four vectors ahead. resnet18's five Jacobian maps on a Zen 3 VM, 2
        // threads, `bench`'s `jacobian_maps_ms` in alternating runs: 6.3–7.3 ms without, 2.2–3.2
        // with (128 floats ahead 2.2–4.7, 256 floats 3.3–4.5).
        let prefetchDistance = 64
        var p = 0
        while p + Vector.scalarCount <= plane {
            var result = method == .signed ? load(gk + p) : zero
            for c in 0..<channels {
                let v = load(gk + c * plane + p)
                switch method {
                case .vanilla: result = maximum(result, magnitude(v))
                case .positive: result = maximum(result, maximum(v, zero))
                case .negative: result = maximum(result, maximum(-v, zero))
                case .signed: result.replace(with: v, where: magnitude(v) .> magnitude(result))
                case .active, .inactive:
                    var wins = SIMDMask<SIMD16<Int32>>(repeating: true)
                    for j in 0..<rows where j != target {
                        saliencyd_prefetch_l2(gradients + j * frame + c * plane + p + prefetchDistance)
                        let other = load(gradients + j * frame + c * plane + p)
                        wins .&= method == .active ? v .> other : v .< other
                    }
                    let m = magnitude(v)
                    result.replace(with: m, where: wins .& (m .>= result))
                }
            }
            UnsafeMutableRawPointer(map + p).storeBytes(of: result, as: Vector.self)
            p += Vector.scalarCount
        }
        while p < plane {
            map[p] = pixel(method, p, gradients: gradients, target: target, rows: rows, channels: channels, plane: plane)
            p += 1
        }
    }

    /// `method`'s value at pixel `p`, channel by channel (the definition the vector loop of
    /// ``compute(_:gradients:target:rows:shape:into:)`` follows lane by lane).
    static func pixel(_ method: SaliencyMethod, _ p: Int, gradients: UnsafePointer<Float>, target: Int, rows: Int,
                      channels: Int, plane: Int) -> Float {
        let frame = channels * plane
        let gk = gradients + target * frame
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
        return result
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
