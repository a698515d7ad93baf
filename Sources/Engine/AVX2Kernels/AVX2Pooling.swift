import VectorKernels

/// Max pooling's plane loop of `VectorKernels` (`MaxPoolKernels`), inlined here and so compiled
/// for this target's instruction set. Same contract.
public enum AVX2Pooling {
    @inline(never)
    public static func maxPoolPlane(_ padded: UnsafePointer<Float>, geometry: MaxPoolPlaneGeometry,
                                    tapOffsets: UnsafePointer<Int>, tapIndices: UnsafePointer<Int32>, taps: Int,
                                    into y: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) -> Bool {
        MaxPoolKernels.plane(padded, geometry: geometry, tapOffsets: tapOffsets, tapIndices: tapIndices, taps: taps,
                             into: y, indices: indices)
    }
}
