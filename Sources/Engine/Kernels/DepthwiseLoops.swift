import AVX2Kernels
import AVX512Kernels
import VectorKernels

/// One build of the depthwise convolution's row loops (`VectorKernels`' `DepthwiseKernels`):
/// compiled for AVX-512 (`AVX512Depthwise`) or AVX2 (`AVX2Depthwise`), each tap a fused
/// multiply-add, or for baseline x86-64 (`PortableDepthwise`), as ``KernelSelection`` chose
/// for the products.
struct DepthwiseLoops: Sendable {
    /// `DepthwiseKernels.correlate`: `(plane, rowStride, rowStep, taps, bias, outputHeight,
    /// outputWidth, accumulate, output, buffer)`.
    let correlate: @Sendable (UnsafePointer<Float>, Int, Int, DepthwiseTaps, Float, Int, Int, Bool,
                              UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    /// `DepthwiseKernels.scatter`: `(gradient, rowStride, rowStep, taps, outputHeight, outputWidth, plane)`.
    let scatter: @Sendable (UnsafePointer<Float>, Int, Int, DepthwiseTaps, Int, Int, UnsafeMutablePointer<Float>) -> Void

    /// The loops of one build. (Off x86-64 the AVX targets are built without their instruction-set
    /// flags, and ``KernelSelection`` never selects them.)
    static func build(_ kernels: KernelSelection.Kernels) -> DepthwiseLoops {
        switch kernels {
        case .avx512: DepthwiseLoops(correlate: AVX512Depthwise.correlate, scatter: AVX512Depthwise.scatter)
        case .avx2: DepthwiseLoops(correlate: AVX2Depthwise.correlate, scatter: AVX2Depthwise.scatter)
        case .portable: DepthwiseLoops(correlate: PortableDepthwise.correlate, scatter: PortableDepthwise.scatter)
        }
    }

    /// The build ``KernelSelection`` chose for this process.
    static let selected = build(KernelSelection.current.kernels)
}
