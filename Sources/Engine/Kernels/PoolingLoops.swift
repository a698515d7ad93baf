import AVX2Kernels
import AVX512Kernels
import VectorKernels

/// One build of max pooling's plane loop (`VectorKernels`' `MaxPoolKernels`): compiled for
/// AVX-512 (`AVX512Pooling`: each 16-lane vector in one register, the lane choices in mask
/// registers), for AVX2 (`AVX2Pooling`) or for baseline x86-64 (`PortablePooling`), as
/// ``KernelSelection`` chose for the products.
struct PoolingLoops: Sendable {
    /// `(padded, geometry, tapOffsets, tapIndices, taps, y, indices)`: `MaxPoolKernels.plane`.
    let maxPoolPlane: @Sendable (UnsafePointer<Float>, MaxPoolPlaneGeometry, UnsafePointer<Int>, UnsafePointer<Int32>, Int,
                                 UnsafeMutablePointer<Float>, UnsafeMutablePointer<Int32>) -> Bool

    /// The loop of one build. (Off x86-64 the AVX targets are built without their instruction-set
    /// flags, and ``KernelSelection`` never selects them.)
    static func build(_ kernels: KernelSelection.Kernels) -> PoolingLoops {
        switch kernels {
        case .avx512: PoolingLoops(maxPoolPlane: AVX512Pooling.maxPoolPlane)
        case .avx2: PoolingLoops(maxPoolPlane: AVX2Pooling.maxPoolPlane)
        case .portable: PoolingLoops(maxPoolPlane: PortablePooling.maxPoolPlane)
        }
    }

    /// The build ``KernelSelection`` chose for this process.
    static let selected = build(KernelSelection.current.kernels)
}
