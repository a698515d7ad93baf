/// An activation folded into the operator before it (a convolution's epilogue), so the
/// pre-activation tensor is never stored and the activation costs no pass of its own.
///
/// Forward applies it to each output element as it is written; the VJP masks the output
/// gradient in place before the operator's own VJP, reading the operator's (activated) output:
/// for ReLU, `y > 0 ⇔ x > 0`, and for a clip to `[a, b]`, `a < y < b ⇔ a < x < b`, so the mask
/// is the one the separate `Relu` or `Clip` would have used (no gradient on the bounds).
public enum FusedActivation: Sendable, Equatable {
    case none
    case relu
    /// ONNX `Clip(minimum, maximum)`; ReLU6 is `clip(0, 6)`.
    case clip(minimum: Float, maximum: Float)

    /// `f(x)`.
    @inline(__always)
    func apply(_ x: Float) -> Float {
        switch self {
        case .none: x
        case .relu: x > 0 ? x : 0
        case let .clip(minimum, maximum): Swift.min(Swift.max(x, minimum), maximum)
        }
    }

    /// `f(x)` for `count` values in place.
    @inline(__always)
    func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .none: break
        case .relu: for i in 0..<count { values[i] = Swift.max(values[i], 0) }
        case let .clip(minimum, maximum):
            for i in 0..<count { values[i] = Swift.min(Swift.max(values[i], minimum), maximum) }
        }
    }

    /// A short label for profiles: `relu`, `clip 0…6`.
    public var label: String? {
        switch self {
        case .none: nil
        case .relu: "relu"
        case let .clip(minimum, maximum): "clip \(minimum.formatted())…\(maximum.formatted())"
        }
    }

    /// `dy ← dy ⊙ f'(x)` for every cotangent row: row `r` of `outputGradient`
    /// (`rows×frame` floats) is masked by frame `r / cotangentsPerFrame` of `output`
    /// (`batch×frame`). Frames are taken in blocks (spread over `team`) so each block of
    /// `output` is read once from memory and reused by all `K` rows of its frame.
    func maskGradient(_ outputGradient: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>,
                      frame: Int, batch: Int, cotangentsPerFrame: Int, team: ThreadTeam) {
        guard self != .none else { return }
        let block = 4096
        let blocksPerFrame = (frame + block - 1) / block
        let threads = batch * cotangentsPerFrame * frame >= 1 << 16 ? team.count : 1
        team.forEach(items: batch * blocksPerFrame, threads: threads) { item, _ in
            let n = item / blocksPerFrame, start = item % blocksPerFrame * block
            let count = min(block, frame - start)
            let source = output + n * frame + start
            // The open interval whose outputs pass the gradient: (0, ∞) for ReLU.
            let (lower, upper): (Float, Float) = switch self {
            case .none: (-.infinity, .infinity)
            case .relu: (0, .infinity)
            case let .clip(minimum, maximum): (minimum, maximum)
            }
            for k in 0..<cotangentsPerFrame {
                let dy = outputGradient + (n * cotangentsPerFrame + k) * frame + start
                var i = 0
                while i + 8 <= count {
                    let y = UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<Float>.self)
                    let g = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
                    let masked = g.replacing(with: 0, where: .!((y .> lower) .& (y .< upper)))
                    UnsafeMutableRawPointer(dy + i).storeBytes(of: masked, as: SIMD8<Float>.self)
                    i += 8
                }
                while i < count {
                    if !(source[i] > lower && source[i] < upper) { dy[i] = 0 }
                    i += 1
                }
            }
        }
    }
}
