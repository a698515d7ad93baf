// The vector loop of the engine's max pooling (`MaxPoolOperator`), `@inlinable`, so that each
// kernel target (`AVX512Pooling`, `AVX2Pooling`) compiles it for its own instruction set, and its
// portable build (`PortablePooling`). Built for baseline x86-64 inside the engine, with eight
// lanes and a lane-by-lane store, resnet18's max pooling took as long as a 64-channel 3×3
// convolution's forward (1.5–2.9 ms).

/// Where the windows of one `Ho×Wo` output plane of max pooling read: a padded, column-phase-split
/// copy of the input plane (the engine's `PaddedPlane`, built for ``MaxPoolKernels/lanes``
/// lanes), in which output `(oh, ow)`'s window starts at `oh·paddedRowStep + ow` and tap `k` is
/// `tapOffsets[k]` further; in the input plane itself that window starts at
/// `firstOrigin + oh·originRowStep + ow·strideWidth` and tap `k` is `tapIndices[k]` further.
public struct MaxPoolPlaneGeometry: Sendable {
    public var outputHeight: Int, outputWidth: Int
    /// Padded floats from one output row's windows to the next's.
    public var paddedRowStep: Int
    /// Input-plane index of output `(0, 0)`'s window origin (negative in the padding), and its
    /// step per output row and per output column.
    public var firstOrigin: Int, originRowStep: Int, strideWidth: Int

    public init(outputHeight: Int, outputWidth: Int, paddedRowStep: Int, firstOrigin: Int, originRowStep: Int,
                strideWidth: Int) {
        (self.outputHeight, self.outputWidth, self.paddedRowStep) = (outputHeight, outputWidth, paddedRowStep)
        (self.firstOrigin, self.originRowStep, self.strideWidth) = (firstOrigin, originRowStep, strideWidth)
    }
}

public enum MaxPoolKernels {
    /// Output columns per vector; the padded plane must have room for the last block's 16 at its
    /// widest tap.
    public static let lanes = 16

    /// One output plane, 16 outputs of a row at a time: `y[o]` the maximum over the window's
    /// taps, `indices[o]` the input-plane index of the first tap (kernel row, then column) that
    /// attains it — a tap wins only when it is greater than the best so far, so NaN never wins
    /// and padding (−∞) never does either. Returns `true` when some window had no tap greater than
    /// −∞ (its index is −1): the caller finds those outputs by their index and scans them itself.
    @inlinable @inline(__always)
    public static func plane(_ padded: UnsafePointer<Float>, geometry g: MaxPoolPlaneGeometry,
                             tapOffsets: UnsafePointer<Int>, tapIndices: UnsafePointer<Int32>, taps: Int,
                             into y: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) -> Bool {
        var laneSteps = SIMD16<Int32>()
        for lane in 0..<lanes { laneSteps[lane] = Int32(truncatingIfNeeded: lane * g.strideWidth) }
        // The indices written, or-ed lane by lane: a sign bit is set once some index is −1. (A mask
        // accumulated with `.|=` went lane by lane through memory, 60 % of the loop's time;
        // `pointwiseMin` was a call per block.)
        var signs = SIMD16<Int32>(repeating: 0)
        for outputRow in 0..<g.outputHeight {
            let source = padded + outputRow * g.paddedRowStep
            let rowOrigin = g.firstOrigin + outputRow * g.originRowStep
            let rowValues = y + outputRow * g.outputWidth, rowIndices = indices + outputRow * g.outputWidth
            var column = 0
            while column < g.outputWidth {
                var best = SIMD16<Float>(repeating: -.infinity), index = SIMD16<Int32>(repeating: -1)
                let origins = SIMD16<Int32>(repeating: Int32(truncatingIfNeeded: rowOrigin + column * g.strideWidth)) &+ laneSteps
                for k in 0..<taps {
                    let value = UnsafeRawPointer(source + tapOffsets[k] + column).loadUnaligned(as: SIMD16<Float>.self)
                    let better = value .> best
                    best.replace(with: value, where: better)
                    index.replace(with: origins &+ tapIndices[k], where: better)
                }
                let count = min(lanes, g.outputWidth - column)
                if count == lanes {
                    UnsafeMutableRawPointer(rowValues + column).storeBytes(of: best, as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(rowIndices + column).storeBytes(of: index, as: SIMD16<Int32>.self)
                    signs |= index
                } else {
                    for lane in 0..<count {
                        rowValues[column + lane] = best[lane]
                        rowIndices[column + lane] = index[lane]
                        signs[0] |= index[lane]
                    }
                }
                column += lanes
            }
        }
        for lane in 0..<lanes where signs[lane] < 0 { return true }
        return false
    }
}

/// The loop built for baseline x86-64 (or whatever this target is compiled for): the engine's
/// fallback when the CPU has neither AVX-512 nor AVX2.
public enum PortablePooling {
    @inline(never)
    public static func maxPoolPlane(_ padded: UnsafePointer<Float>, geometry: MaxPoolPlaneGeometry,
                                    tapOffsets: UnsafePointer<Int>, tapIndices: UnsafePointer<Int32>, taps: Int,
                                    into y: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) -> Bool {
        MaxPoolKernels.plane(padded, geometry: geometry, tapOffsets: tapOffsets, tapIndices: tapIndices, taps: taps,
                             into: y, indices: indices)
    }
}
