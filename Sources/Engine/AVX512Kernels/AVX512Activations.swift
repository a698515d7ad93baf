import VectorKernels

/// The activations' vector loops of `VectorKernels`, inlined here and so compiled for this
/// target's instruction set (AVX-512: each 8-lane vector in one register, three-operand
/// forms, fused multiply-adds in the exponential). Same contracts: each returns how many values
/// it wrote, the caller finishes the tail.
public enum AVX512Activations {
    @inline(never)
    public static func swishValues(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) -> Int {
        SwishKernels.values(x, count: count, into: y, fused: true)
    }

    @inline(never)
    public static func swishDerivatives(input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, count: Int,
                                        into d: UnsafeMutablePointer<Float>) -> Int {
        SwishKernels.derivatives(input: x, output: y, count: count, into: d)
    }

    @inline(never)
    public static func sigmoidValues(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) -> Int {
        SigmoidKernels.values(x, count: count, into: y, fused: true)
    }
}
