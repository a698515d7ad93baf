/// Which cotangents the backward pass carries from the logits to the input, `K` per frame.
public enum Cotangents {
    /// `K = 1`: the one-hot vector of each frame's predicted class (argmax of its logits) — the
    /// cheap path for maps that need only `g_k`.
    case predictedClass
    /// `K = classCount`: every one-hot vector, giving the whole Jacobian `K×C×H×W` per frame.
    case allClasses
    /// The one-hot vectors of these classes, the same for every frame.
    case classes([Int])
    /// The one-hot vectors of each frame's `n` highest-scoring classes, highest first (the
    /// predicted class, then its closest rivals) — for approximating the active and inactive
    /// maps of models with many classes.
    case topClasses(Int)
    /// Arbitrary cotangents: `batch·perFrame` rows of `classCount` values, row `n·perFrame + k`.
    case vectors(UnsafeBufferPointer<Float>, perFrame: Int)
}
