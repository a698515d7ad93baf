import VectorKernels

/// The depthwise convolution's row loops of `VectorKernels` (`DepthwiseKernels`), inlined here
/// and so compiled for this target's instruction set, each tap a fused multiply-add. Same contracts.
public enum AVX512Depthwise {
    @inline(never)
    public static func correlate(_ plane: UnsafePointer<Float>, rowStride: Int, rowStep: Int, taps: DepthwiseTaps, bias: Float,
                                 outputHeight: Int, outputWidth: Int, accumulate: Bool, output: UnsafeMutablePointer<Float>,
                                 buffer: UnsafeMutablePointer<Float>) {
        DepthwiseKernels.correlate(plane, rowStride: rowStride, rowStep: rowStep, taps: taps, bias: bias,
                                   outputHeight: outputHeight, outputWidth: outputWidth, accumulate: accumulate,
                                   output: output, buffer: buffer, fused: true)
    }

    @inline(never)
    public static func scatter(_ gradient: UnsafePointer<Float>, rowStride: Int, rowStep: Int, taps: DepthwiseTaps,
                               outputHeight: Int, outputWidth: Int, into plane: UnsafeMutablePointer<Float>) {
        DepthwiseKernels.scatter(gradient, rowStride: rowStride, rowStep: rowStep, taps: taps, outputHeight: outputHeight,
                                 outputWidth: outputWidth, into: plane, fused: true)
    }
}
