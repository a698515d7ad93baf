import AVX2Kernels
import AVX512Kernels
import VectorKernels

/// One build of im2col's and col2im's column-stride-2 runs (`VectorKernels`' `Im2ColKernels`):
/// compiled for AVX-512 (`AVX512Im2Col`), AVX2 (`AVX2Im2Col`) or baseline x86-64
/// (`PortableIm2Col`), as ``KernelSelection`` chose for the products.
struct Im2ColLoops: Sendable {
    /// `Im2ColKernels.unfoldStride2`: `(source, sourceRowStep, rows, validRows, valid, width, destination)`.
    let unfoldStride2: @Sendable (UnsafePointer<Float>, Int, Int, Range<Int>, Range<Int>, Int,
                                  UnsafeMutablePointer<Float>) -> Void
    /// `Im2ColKernels.foldStride2`: `(first, second, sourceRowStep, firstRange, secondRange, rows, line, lineStep)`.
    let foldStride2: @Sendable (UnsafePointer<Float>, UnsafePointer<Float>, Int, Range<Int>, Range<Int>, Int,
                                UnsafeMutablePointer<Float>, Int) -> Void

    /// The runs of one build. (Off x86-64 the AVX targets are built without their instruction-set
    /// flags, and ``KernelSelection`` never selects them.)
    static func build(_ kernels: KernelSelection.Kernels) -> Im2ColLoops {
        switch kernels {
        case .avx512: Im2ColLoops(unfoldStride2: AVX512Im2Col.unfoldStride2, foldStride2: AVX512Im2Col.foldStride2)
        case .avx2: Im2ColLoops(unfoldStride2: AVX2Im2Col.unfoldStride2, foldStride2: AVX2Im2Col.foldStride2)
        case .portable: Im2ColLoops(unfoldStride2: PortableIm2Col.unfoldStride2, foldStride2: PortableIm2Col.foldStride2)
        }
    }

    /// The build ``KernelSelection`` chose for this process.
    static let selected = build(KernelSelection.current.kernels)
}
