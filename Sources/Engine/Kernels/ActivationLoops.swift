import AVX2Kernels
import AVX512Kernels
import VectorKernels

/// One build of the sigmoid-based activations' vector loops (`VectorKernels`' `SwishKernels`
/// and `SigmoidKernels`): compiled for AVX-512 (`AVX512Activations`), for AVX2 and FMA
/// (`AVX2Activations`) or for baseline x86-64 (`PortableActivations`). Each loop returns how many
/// values it wrote (a multiple of 8); the caller finishes the tail with its scalar formula.
struct ActivationLoops: Sendable {
    /// `(x, count, y)`: `y[i] = x[i]·σ(x[i])`.
    let swishValues: @Sendable (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Int
    /// `(x, y, count, d)`: `d[i] = σ(x[i]) + y[i]·(1 − σ(x[i]))`, the derivative of Swish from its
    /// input and output.
    let swishDerivatives: @Sendable (UnsafePointer<Float>, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Int
    /// `(x, count, y)`: `y[i] = σ(x[i])`.
    let sigmoidValues: @Sendable (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Int

    /// The loops of one build. (Off x86-64 the AVX targets are built without their
    /// instruction-set flags, and ``KernelSelection`` never selects them.)
    static func build(_ kernels: KernelSelection.Kernels) -> ActivationLoops {
        switch kernels {
        case .avx512:
            ActivationLoops(swishValues: AVX512Activations.swishValues, swishDerivatives: AVX512Activations.swishDerivatives,
                            sigmoidValues: AVX512Activations.sigmoidValues)
        case .avx2:
            ActivationLoops(swishValues: AVX2Activations.swishValues, swishDerivatives: AVX2Activations.swishDerivatives,
                            sigmoidValues: AVX2Activations.sigmoidValues)
        case .portable:
            ActivationLoops(swishValues: PortableActivations.swishValues,
                            swishDerivatives: PortableActivations.swishDerivatives,
                            sigmoidValues: PortableActivations.sigmoidValues)
        }
    }

    /// The build ``KernelSelection`` chose for this process.
    static let selected = build(KernelSelection.current.kernels)
}
