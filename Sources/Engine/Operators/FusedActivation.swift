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

    /// `f(a + b)` for `count` values: `y[i] = f(a[i] + b[i])`, rounding as `apply(a[i] + b[i])`
    /// does.
    @inline(__always)
    func applySum(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        typealias Vector = SIMD16<Float>
        var i = 0
        while i + Vector.scalarCount <= count {
            let sum = UnsafeRawPointer(a + i).loadUnaligned(as: Vector.self) + UnsafeRawPointer(b + i).loadUnaligned(as: Vector.self)
            let value: Vector
            switch self {
            case .none: value = sum
            // x > 0 ? x : 0, as apply(_:) (NaN → 0).
            case .relu: value = sum.replacing(with: 0, where: .!(sum .> 0))
            // min(max(x, a), b) as Swift.max and Swift.min take them (NaN stays NaN).
            case let .clip(minimum, maximum):
                let raised = sum.replacing(with: minimum, where: Vector(repeating: minimum) .>= sum)
                value = raised.replacing(with: maximum, where: Vector(repeating: maximum) .< raised)
            }
            UnsafeMutableRawPointer(y + i).storeBytes(of: value, as: Vector.self)
            i += Vector.scalarCount
        }
        while i < count {
            y[i] = apply(a[i] + b[i])
            i += 1
        }
    }

    /// The open interval of outputs whose gradient passes: `(0, ∞)` for ReLU, `(a, b)` for a
    /// clip, everything without an activation.
    var passingInterval: (lower: Float, upper: Float) {
        switch self {
        case .none: (-.infinity, .infinity)
        case .relu: (0, .infinity)
        case let .clip(minimum, maximum): (minimum, maximum)
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
        // The masked copy written over its own source.
        maskedCopies(of: outputGradient, output: output, frame: frame, batch: batch, cotangentsPerFrame: cotangentsPerFrame,
                     into: (outputGradient, accumulate: false), and: (nil, accumulate: false), team: team)
    }

    /// `dA = dB = dy ⊙ f'(y)` for every cotangent row in one pass over `dy` (left as it is, unless
    /// a destination is `dy` itself: each vector is read before it is written): row `r` of
    /// `outputGradient` (`rows×frame` floats) is masked by frame `r / cotangentsPerFrame` of
    /// `output` (`batch×frame`, the activated values). Each destination is overwritten, or added
    /// to when its flag is `true`; a `nil` one is skipped. Frames are taken in blocks (spread
    /// over `team`), each block of `output` read once for all `K` rows of its frame.
    func maskedCopies(of outputGradient: UnsafePointer<Float>, output: UnsafePointer<Float>, frame: Int, batch: Int,
                      cotangentsPerFrame: Int, into first: (UnsafeMutablePointer<Float>?, accumulate: Bool),
                      and second: (UnsafeMutablePointer<Float>?, accumulate: Bool), team: ThreadTeam) {
        guard first.0 != nil || second.0 != nil else { return }
        typealias Vector = SIMD16<Float>
        let block = 4096
        let blocksPerFrame = (frame + block - 1) / block
        let threads = batch * cotangentsPerFrame * frame >= 1 << 16 ? team.count : 1
        let (lower, upper) = passingInterval
        let masks = self != .none
        team.forEach(items: batch * blocksPerFrame, threads: threads) { item, _ in
            let n = item / blocksPerFrame, start = item % blocksPerFrame * block
            let count = min(block, frame - start)
            let y = output + n * frame + start
            for k in 0..<cotangentsPerFrame {
                let offset = (n * cotangentsPerFrame + k) * frame + start
                let dy = outputGradient + offset
                @inline(__always) func put(_ g: Vector, _ destination: (UnsafeMutablePointer<Float>?, accumulate: Bool), _ i: Int) {
                    guard let base = destination.0 else { return }
                    let target = UnsafeMutableRawPointer(base + offset + i)
                    let value = destination.accumulate ? target.loadUnaligned(as: Vector.self) + g : g
                    target.storeBytes(of: value, as: Vector.self)
                }
                var i = 0
                while i + Vector.scalarCount <= count {
                    var g = UnsafeRawPointer(dy + i).loadUnaligned(as: Vector.self)
                    if masks {
                        let value = UnsafeRawPointer(y + i).loadUnaligned(as: Vector.self)
                        g.replace(with: 0, where: .!((value .> lower) .& (value .< upper)))
                    }
                    put(g, first, i)
                    put(g, second, i)
                    i += Vector.scalarCount
                }
                while i < count {
                    let g = !masks || (y[i] > lower && y[i] < upper) ? dy[i] : 0
                    if let base = first.0 { if first.accumulate { base[offset + i] += g } else { base[offset + i] = g } }
                    if let base = second.0 { if second.accumulate { base[offset + i] += g } else { base[offset + i] = g } }
                    i += 1
                }
            }
        }
    }
}
