/// Unaligned vector loads and stores of floats, for the kernels' SIMD loops.
@inline(__always)
func load<S: SIMD>(_: S.Type, _ p: UnsafePointer<Float>) -> S where S.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: S.self)
}

@inline(__always)
func store<S: SIMD>(_ v: S, _ p: UnsafeMutablePointer<Float>) where S.Scalar == Float {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: S.self)
}
