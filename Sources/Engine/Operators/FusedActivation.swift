/// An activation folded into the operator before it (a convolution's epilogue), so the
/// pre-activation tensor is never stored and the activation costs no pass of its own.
///
/// Forward applies it to each output element as it is written; the VJP masks the output
/// gradient in place before the operator's own VJP, reading the operator's (activated) output:
/// for ReLU, `y > 0 ⇔ x > 0`, so the mask is the one the separate `Relu` would have used.
public enum FusedActivation: Sendable, Equatable {
    case none
    case relu

    /// `f(x)`.
    @inline(__always)
    func apply(_ x: Float) -> Float {
        switch self {
        case .none: x
        case .relu: x > 0 ? x : 0
        }
    }

    /// `dy ← dy ⊙ f'(x)` for every cotangent row: row `r` of `outputGradient`
    /// (`rows×frame` floats) is masked by frame `r / cotangentsPerFrame` of `output`
    /// (`batch×frame`). Frames are taken in blocks (spread over `team`) so each block of
    /// `output` is read once from memory and reused by all `K` rows of its frame.
    func maskGradient(_ outputGradient: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>,
                      frame: Int, batch: Int, cotangentsPerFrame: Int, team: ThreadTeam) {
        guard self == .relu else { return }
        let block = 4096
        let blocksPerFrame = (frame + block - 1) / block
        let threads = batch * cotangentsPerFrame * frame >= 1 << 16 ? team.count : 1
        team.forEach(items: batch * blocksPerFrame, threads: threads) { item, _ in
            let n = item / blocksPerFrame, start = item % blocksPerFrame * block
            let count = min(block, frame - start)
            let source = output + n * frame + start
            for k in 0..<cotangentsPerFrame {
                let dy = outputGradient + (n * cotangentsPerFrame + k) * frame + start
                for i in 0..<count { dy[i] = source[i] > 0 ? dy[i] : 0 }
            }
        }
    }
}
