/// The saliency maps saliencyd computes: the five of Llorente, Boal & Sánchez-Úbeda, "A matter of
/// attitude" (arXiv:2309.12913), and this project's `signed` map. Each is `H×W`, reduced over
/// channels; `g_k` is the gradient of the predicted class's logit, `g_j` any other class's.
public enum SaliencyMethod: String, CaseIterable, Sendable, Codable {
    /// `max_c |g_k[c,p]|` (Simonyan et al.).
    case vanilla
    /// `max_c max(g_k[c,p], 0)`: pixels whose increase raises class k.
    case positive
    /// `max_c max(−g_k[c,p], 0)`: pixels whose decrease raises class k.
    case negative
    /// `max_c |g_k[c,p]| · [g_k[c,p] > g_j[c,p] ∀ j ≠ k]`: raising the pixel helps k most.
    case active
    /// `max_c |g_k[c,p]| · [g_k[c,p] < g_j[c,p] ∀ j ≠ k]`: lowering the pixel helps k most.
    case inactive
    /// The channel value of `g_k` with the largest magnitude, sign kept.
    case signed

    /// Whether the map needs every class's gradient (the whole Jacobian) rather than `g_k` alone.
    public var needsJacobian: Bool { self == .active || self == .inactive }
}
