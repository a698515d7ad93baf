import VectorKernels

/// The sparse-gradient VJP's loops of `VectorKernels` (`SparseGradientKernels`), inlined here
/// and so compiled for this target's instruction set, each vector's term one fused multiply-add (8 lanes).
/// Same contracts.
public enum AVX2SparseGradient {
    @inline(never)
    public static func markNonzeros(_ row: UnsafePointer<Float>, planeStride: Int, channels: Int, width: Int,
                                    output: UnsafePointer<Float>?, lower: Float, upper: Float,
                                    into masks: UnsafeMutablePointer<UInt64>, copy: UnsafeMutablePointer<Float>,
                                    copyStride: Int) {
        SparseGradientKernels.markNonzeros(row, planeStride: planeStride, channels: channels, width: width, output: output,
                                           lower: lower, upper: upper, into: masks, copy: copy, copyStride: copyStride)
    }

    @inline(never)
    public static func addPatches(_ row: UnsafePointer<Float>, planeStride: Int, width: Int, masks: UnsafePointer<UInt64>,
                                  words: Int, patches: SparsePatches, columnStep: Int, into target: UnsafeMutablePointer<Float>) {
        SparseGradientKernels.addPatches(SIMD8<Float>.self, row, planeStride: planeStride, width: width, masks: masks,
                                         words: words, patches: patches, columnStep: columnStep, into: target, fused: true)
    }
}
