import CPrefetch

/// A convolution's weights laid out for ``SparseGradientKernels``: each output channel's
/// `C×kH×kW` patch as `vectors` runs of eight values, one run per kernel row and eight columns
/// (`kW` padded with zeros to a multiple of 8), then zero runs up to `paddedVectors` (a multiple
/// of ``SparseGradientKernels/chunkRuns``, so that every chunk's loads stay inside the channel's
/// runs). Run `v` is added at `offsets[v]` past a position's first pixel in the padded gradient.
public struct SparsePatches {
    public let vectors: Int, paddedVectors: Int
    /// `M × paddedVectors × 8` floats.
    public let weights: UnsafePointer<Float>
    /// `vectors` offsets into the padded gradient (channel planes and rows apart).
    public let offsets: UnsafePointer<Int>

    @inlinable
    public init(vectors: Int, paddedVectors: Int, weights: UnsafePointer<Float>, offsets: UnsafePointer<Int>) {
        (self.vectors, self.paddedVectors, self.weights, self.offsets) = (vectors, paddedVectors, weights, offsets)
    }
}

/// The loops of the convolution VJP that works from the nonzero entries of `dY` alone
/// (`SparseColumnsGradient`): for one output row, which channels are nonzero at each position
/// (bit masks), and each position's patch `Σ_m W[m] · dY[m, position]` over those channels added
/// onto a padded input gradient. `@inlinable`, so that `AVX512SparseGradient` (16 lanes: two
/// runs per vector) and `AVX2SparseGradient` (8 lanes) compile them for their instruction sets
/// (`fused`: one fused multiply-add per vector) and ``PortableSparseGradient`` for baseline
/// x86-64 (8 lanes, a multiply and an add).
public enum SparseGradientKernels {
    /// Values per run (a kernel row's columns, padded).
    public static let lanes = 8
    /// Accumulators per position (each one vector of ``PatchVector/runs`` runs).
    public static let accumulators = 12
    /// Runs per chunk of the widest vector: patches are padded to a multiple of it.
    public static let chunkRuns = 24

    @inlinable @inline(__always)
    static func load<V: SIMD>(_: V.Type, _ p: UnsafePointer<Float>) -> V where V.Scalar == Float {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inlinable @inline(__always)
    static func add(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) + v,
                                              as: SIMD8<Float>.self)
    }

    /// `a + w·g`, fused or not.
    @inlinable @inline(__always)
    static func multiplyAdd<V: SIMD>(_ a: V, _ w: V, _ g: V, fused: Bool) -> V where V.Scalar == Float {
        fused ? a.addingProduct(w, g) : a + w * g
    }

    /// `copy[m·copyStride + position]` is `row[m·planeStride + position]`, or 0 where `output`
    /// (laid out as `row`; `nil`: nowhere) is outside the open interval `(lower, upper)` (a fused
    /// activation's mask, `FusedActivation.passingInterval`); bit `m % 64` of
    /// `masks[(m / 64)·width + position]` is set when that copy is not 0 (NaN counts as not 0),
    /// for `channels` planes and `width` positions; `(channels + 63) / 64` words per position.
    /// Eight positions at a time, their words in a register while the planes are read.
    ///
    /// Each eight positions read one vector from every plane, `planeStride` apart: one cache
    /// line of each of 64 planes (128 with `output`), which the hardware prefetchers do not
    /// follow, and which a Jacobian's `dY` (resnet18's stem: 3.2 MB per cotangent) brings from
    /// memory. So the loop asks for the next output row's lines (`width` further on) as it
    /// reads these, to arrive during this row's ``addPatches(_:_:planeStride:width:masks:words:patches:columnStep:into:fused:)``.
    /// (On a Zen 3 VM with AVX2, the loads waited for most of the loop's time; with the
    /// prefetch, resnet18's stem VJP went 2.10–2.44 → 1.48–1.66 ms for one gradient and
    /// 18.3–22.9 → 11.8–13.9 ms for the Jacobian, 2 threads.) The last row's prefetch points
    /// past the plane's end; a prefetch is a hint and never faults.
    @inlinable @inline(__always)
    public static func markNonzeros(_ row: UnsafePointer<Float>, planeStride: Int, channels: Int, width: Int,
                                    output: UnsafePointer<Float>?, lower: Float, upper: Float,
                                    into masks: UnsafeMutablePointer<UInt64>, copy: UnsafeMutablePointer<Float>,
                                    copyStride: Int) {
        let words = (channels + 63) / 64
        for word in 0..<words {
            let mask = masks + word * width
            let planes = (word * 64)..<min(channels, word * 64 + 64)
            var position = 0
            while position + 8 <= width {
                var bits = SIMD8<Int64>()
                // Once per 16 floats: about once per cache line of each plane.
                let prefetches = position % 16 == 0
                for m in planes {
                    if prefetches {
                        saliencyd_prefetch_l2(row + m * planeStride + position + width)
                        if let output { saliencyd_prefetch_l2(output + m * planeStride + position + width) }
                    }
                    var values = load(SIMD8<Float>.self, row + m * planeStride + position)
                    if let output {
                        let y = load(SIMD8<Float>.self, output + m * planeStride + position)
                        values.replace(with: 0, where: .!((y .> lower) .& (y .< upper)))
                    }
                    UnsafeMutableRawPointer(copy + m * copyStride + position).storeBytes(of: values, as: SIMD8<Float>.self)
                    let nonzero = values .!= 0
                    let lanes = SIMD8<Int32>().replacing(with: -1, where: nonzero)
                    bits |= SIMD8<Int64>(truncatingIfNeeded: lanes) & Int64(bitPattern: UInt64(1) << UInt64(m - word * 64))
                }
                UnsafeMutableRawPointer(mask + position).storeBytes(of: SIMD8<UInt64>(truncatingIfNeeded: bits),
                                                                    as: SIMD8<UInt64>.self)
                position += 8
            }
            while position < width {
                var bits: UInt64 = 0
                for m in planes {
                    var value = row[m * planeStride + position]
                    if let output, !(output[m * planeStride + position] > lower && output[m * planeStride + position] < upper) {
                        value = 0
                    }
                    copy[m * copyStride + position] = value
                    if value != 0 { bits |= UInt64(1) << UInt64(m - word * 64) }
                }
                mask[position] = bits
                position += 1
            }
        }
    }

    /// For each of `width` positions `p` of one output row: adds run `v` of `Σ_m patch_m · row[m·planeStride + p]`
    /// (over the channels `m` that `masks` marks at `p`) onto `target + p·columnStep + offsets[v]`,
    /// for every run `v < patches.vectors`. ``accumulators`` vectors of `V` at a time in
    /// registers, each position's nonzero channels in ascending order. The positions go in
    /// sweeps `ceil(8 / columnStep)` apart, so that consecutive additions never overlap (a load
    /// reading part of a store not yet written waits for it); on resnet's stem positions in
    /// order measured the same.
    @inlinable @inline(__always)
    public static func addPatches<V: PatchVector>(_: V.Type, _ row: UnsafePointer<Float>, planeStride: Int, width: Int,
                                                  masks: UnsafePointer<UInt64>, words: Int, patches: SparsePatches,
                                                  columnStep: Int, into target: UnsafeMutablePointer<Float>, fused: Bool) {
        let sweeps = (lanes + columnStep - 1) / columnStep
        let patchStride = patches.paddedVectors * lanes, step = V.scalarCount
        var first = 0
        while first < patches.vectors {
            let count = min(accumulators * V.runs, patches.vectors - first)
            let offsets = patches.offsets + first
            for sweep in 0..<min(sweeps, width) {
                var position = sweep
                while position < width {
                    defer { position += sweeps }
                    var any: UInt64 = 0
                    for word in 0..<words { any |= masks[word * width + position] }
                    guard any != 0 else { continue }
                    var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V()
                    var a6 = V(), a7 = V(), a8 = V(), a9 = V(), a10 = V(), a11 = V()
                    for word in 0..<words {
                        var bits = masks[word * width + position]
                        while bits != 0 {
                            let m = word * 64 + bits.trailingZeroBitCount
                            bits &= bits &- 1
                            let g = V(repeating: row[m * planeStride + position])
                            let w = patches.weights + m * patchStride + first * lanes
                            a0 = multiplyAdd(a0, load(V.self, w), g, fused: fused)
                            a1 = multiplyAdd(a1, load(V.self, w + step), g, fused: fused)
                            a2 = multiplyAdd(a2, load(V.self, w + 2 * step), g, fused: fused)
                            a3 = multiplyAdd(a3, load(V.self, w + 3 * step), g, fused: fused)
                            a4 = multiplyAdd(a4, load(V.self, w + 4 * step), g, fused: fused)
                            a5 = multiplyAdd(a5, load(V.self, w + 5 * step), g, fused: fused)
                            a6 = multiplyAdd(a6, load(V.self, w + 6 * step), g, fused: fused)
                            a7 = multiplyAdd(a7, load(V.self, w + 7 * step), g, fused: fused)
                            a8 = multiplyAdd(a8, load(V.self, w + 8 * step), g, fused: fused)
                            a9 = multiplyAdd(a9, load(V.self, w + 9 * step), g, fused: fused)
                            a10 = multiplyAdd(a10, load(V.self, w + 10 * step), g, fused: fused)
                            a11 = multiplyAdd(a11, load(V.self, w + 11 * step), g, fused: fused)
                        }
                    }
                    let base = target + position * columnStep
                    @inline(__always) func flush(_ a: V, _ k: Int) {
                        for r in 0..<V.runs where k * V.runs + r < count { add(a.run(r), base + offsets[k * V.runs + r]) }
                    }
                    flush(a0, 0); flush(a1, 1); flush(a2, 2); flush(a3, 3); flush(a4, 4); flush(a5, 5)
                    flush(a6, 6); flush(a7, 7); flush(a8, 8); flush(a9, 9); flush(a10, 10); flush(a11, 11)
                }
            }
            first += accumulators * V.runs
        }
    }
}

/// A vector of ``SparseGradientKernels``' accumulators: `runs` runs of eight values.
public protocol PatchVector: SIMD where Scalar == Float {
    static var runs: Int { get }
    /// Run `r` (`0..<runs`).
    func run(_ r: Int) -> SIMD8<Float>
}

extension SIMD8: PatchVector where Scalar == Float {
    @inlinable public static var runs: Int { 1 }
    @inlinable @inline(__always) public func run(_ r: Int) -> SIMD8<Float> { self }
}

extension SIMD16: PatchVector where Scalar == Float {
    @inlinable public static var runs: Int { 2 }
    @inlinable @inline(__always) public func run(_ r: Int) -> SIMD8<Float> { r == 0 ? lowHalf : highHalf }
}

/// ``SparseGradientKernels``' entries compiled for baseline x86-64 (this target's instruction set).
public enum PortableSparseGradient {
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
                                         words: words, patches: patches, columnStep: columnStep, into: target, fused: false)
    }
}
