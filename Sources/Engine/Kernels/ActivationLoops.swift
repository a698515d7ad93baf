import AVX2Kernels
import AVX512Kernels
import VectorKernels

/// The sigmoid-based activations' vector loops (`VectorKernels`' `SwishKernels` and
/// `SigmoidKernels`) in the build ``KernelSelection`` chose: compiled for AVX-512, for AVX2 and
/// FMA, or for baseline x86-64. Each returns how many values it wrote (a multiple of 8); the
/// caller finishes the tail with its scalar formula.
enum ActivationLoops {
    /// `y[i] = x[i]·σ(x[i])`.
    @inline(__always)
    static func swishValues(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) -> Int {
        inSelectedBuild(avx512: { AVX512Activations.swishValues(x, count: count, into: y) },
                        avx2: { AVX2Activations.swishValues(x, count: count, into: y) },
                        portable: { PortableActivations.swishValues(x, count: count, into: y) })
    }

    /// `d[i] = σ(x[i]) + y[i]·(1 − σ(x[i]))`, the derivative of Swish from its input and output.
    @inline(__always)
    static func swishDerivatives(input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, count: Int,
                                 into d: UnsafeMutablePointer<Float>) -> Int {
        inSelectedBuild(avx512: { AVX512Activations.swishDerivatives(input: x, output: y, count: count, into: d) },
                        avx2: { AVX2Activations.swishDerivatives(input: x, output: y, count: count, into: d) },
                        portable: { PortableActivations.swishDerivatives(input: x, output: y, count: count, into: d) })
    }

    /// `y[i] = σ(x[i])`.
    @inline(__always)
    static func sigmoidValues(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) -> Int {
        inSelectedBuild(avx512: { AVX512Activations.sigmoidValues(x, count: count, into: y) },
                        avx2: { AVX2Activations.sigmoidValues(x, count: count, into: y) },
                        portable: { PortableActivations.sigmoidValues(x, count: count, into: y) })
    }

    /// Runs the build the selection names. (Off x86-64 the selection is always `portable`, and
    /// the AVX targets are built without their instruction-set flags.)
    @inline(__always)
    private static func inSelectedBuild(avx512: () -> Int, avx2: () -> Int, portable: () -> Int) -> Int {
        switch KernelSelection.current.kernels {
        case .avx512: avx512()
        case .avx2: avx2()
        case .portable: portable()
        }
    }
}
