/// A depthwise filter's taps on one padded plane layout (the engine's `PaddedPlane`): tap
/// `k = i·width + j` reads the plane at `offsets[k]` past the output row's first padded row,
/// with weight `weights[k]`.
public struct DepthwiseTaps {
    public let height: Int, width: Int
    public let offsets: UnsafePointer<Int>, weights: UnsafePointer<Float>

    @inlinable
    public init(height: Int, width: Int, offsets: UnsafePointer<Int>, weights: UnsafePointer<Float>) {
        (self.height, self.width, self.offsets, self.weights) = (height, width, offsets, weights)
    }
}

/// The row loops of the engine's depthwise convolution (`DepthwiseConvolution`), eight output
/// columns per vector: the correlation of a padded plane with one filter, and its adjoint
/// scattering a gradient into a padded plane. `@inlinable`, so that `AVX512Depthwise` and
/// `AVX2Depthwise` compile them for their instruction sets (with `fused`, each tap one
/// fused multiply-add) and ``PortableDepthwise`` for baseline x86-64 (`fused` false: a multiply
/// and an add, as a fused multiply-add there is a library call per lane).
public enum DepthwiseKernels {
    public typealias Vector = SIMD8<Float>
    public static let lanes = Vector.scalarCount

    /// Whether ``correlate(_:rowStride:rowStep:taps:bias:outputHeight:outputWidth:accumulate:output:buffer:fused:)``
    /// runs over the flattened plane: narrow stride-1 rows, where per-row lane blocks would be mostly partial.
    @inlinable
    public static func isFlattened(rowStep: Int, outputWidth: Int) -> Bool { rowStep == 1 && outputWidth < 2 * lanes }

    /// `a + w·x`, fused or not.
    @inlinable @inline(__always)
    static func multiplyAdd(_ a: Vector, _ w: Vector, _ x: Vector, fused: Bool) -> Vector {
        fused ? a.addingProduct(w, x) : a + w * x
    }

    @inlinable @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }

    @inlinable @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self) }

    /// `output (outputHeight×outputWidth) (+)= bias + Σ_taps weight · plane[row·rowStep·rowStride + offset + column]`,
    /// eight columns at a time. 3×3 kernels keep all nine weights in registers and split the sum
    /// by kernel row (three independent chains); other kernels add one kernel row at a time into
    /// `buffer`. Narrow stride-1 planes are computed as one flattened run of `rowStride`-wide
    /// rows into `buffer` (discarding the padding columns), so lane blocks are not mostly partial.
    @inlinable @inline(__always)
    public static func correlate(_ plane: UnsafePointer<Float>, rowStride: Int, rowStep: Int, taps: DepthwiseTaps, bias: Float,
                                 outputHeight: Int, outputWidth: Int, accumulate: Bool, output: UnsafeMutablePointer<Float>,
                                 buffer: UnsafeMutablePointer<Float>, fused: Bool) {
        let start = Vector(repeating: bias)
        guard taps.height == 3, taps.width == 3 else {
            correlateByKernelRows(plane, rowStride: rowStride, rowStep: rowStep, taps: taps, start: start,
                                  outputHeight: outputHeight, outputWidth: outputWidth, accumulate: accumulate,
                                  output: output, buffer: buffer, fused: fused)
            return
        }
        let w = taps.weights, o = taps.offsets
        let w0 = Vector(repeating: w[0]), w1 = Vector(repeating: w[1]), w2 = Vector(repeating: w[2])
        let w3 = Vector(repeating: w[3]), w4 = Vector(repeating: w[4]), w5 = Vector(repeating: w[5])
        let w6 = Vector(repeating: w[6]), w7 = Vector(repeating: w[7]), w8 = Vector(repeating: w[8])
        let o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3], o4 = o[4], o5 = o[5], o6 = o[6], o7 = o[7], o8 = o[8]
        @inline(__always) func block(_ p: UnsafePointer<Float>) -> Vector {
            var a = w0 * load(p + o0), b = w3 * load(p + o3), c = w6 * load(p + o6)
            a = multiplyAdd(a, w1, load(p + o1), fused: fused); b = multiplyAdd(b, w4, load(p + o4), fused: fused)
            c = multiplyAdd(c, w7, load(p + o7), fused: fused)
            a = multiplyAdd(a, w2, load(p + o2), fused: fused); b = multiplyAdd(b, w5, load(p + o5), fused: fused)
            c = multiplyAdd(c, w8, load(p + o8), fused: fused)
            return (start + a) + (b + c)
        }
        if isFlattened(rowStep: rowStep, outputWidth: outputWidth) {
            let count = (outputHeight - 1) * rowStride + outputWidth
            for column in stride(from: 0, to: count, by: lanes) { store(block(plane + column), buffer + column) }
            for row in 0..<outputHeight {
                copyRow(UnsafePointer(buffer + row * rowStride), count: outputWidth,
                        to: output + row * outputWidth, accumulate: accumulate)
            }
            return
        }
        let fullBlocks = outputWidth / lanes, rest = outputWidth % lanes
        for row in 0..<outputHeight {
            let source = plane + row * rowStep * rowStride
            let destination = output + row * outputWidth
            if accumulate {
                for b in 0..<fullBlocks {
                    let column = b * lanes
                    store(block(source + column) + load(destination + column), destination + column)
                }
            } else {
                for b in 0..<fullBlocks { store(block(source + b * lanes), destination + b * lanes) }
            }
            if rest > 0 {
                let column = fullBlocks * lanes
                store(block(source + column), buffer)
                copyRow(UnsafePointer(buffer), count: rest, to: destination + column, accumulate: accumulate)
            }
        }
    }

    /// The correlation for kernels other than 3×3: per output row, `buffer` starts at the bias
    /// and gains one kernel row's taps per pass (five weights in registers for 5-wide kernels).
    @inlinable @inline(__always)
    static func correlateByKernelRows(_ plane: UnsafePointer<Float>, rowStride: Int, rowStep: Int, taps: DepthwiseTaps,
                                      start: Vector, outputHeight: Int, outputWidth: Int, accumulate: Bool,
                                      output: UnsafeMutablePointer<Float>, buffer: UnsafeMutablePointer<Float>, fused: Bool) {
        let blocks = (outputWidth + lanes - 1) / lanes
        for row in 0..<outputHeight {
            let source = plane + row * rowStep * rowStride
            for b in 0..<blocks { store(start, buffer + b * lanes) }
            for i in 0..<taps.height {
                let o = taps.offsets + i * taps.width, w = taps.weights + i * taps.width
                if taps.width == 5 {
                    let w0 = Vector(repeating: w[0]), w1 = Vector(repeating: w[1]), w2 = Vector(repeating: w[2])
                    let w3 = Vector(repeating: w[3]), w4 = Vector(repeating: w[4])
                    let p0 = source + o[0], p1 = source + o[1], p2 = source + o[2], p3 = source + o[3], p4 = source + o[4]
                    for b in 0..<blocks {
                        let c = b * lanes
                        let near = multiplyAdd(w0 * load(p0 + c), w1, load(p1 + c), fused: fused)
                        let far = multiplyAdd(w2 * load(p2 + c), w3, load(p3 + c), fused: fused)
                        store(multiplyAdd(load(buffer + c) + (near + far), w4, load(p4 + c), fused: fused), buffer + c)
                    }
                } else {
                    for j in 0..<taps.width {
                        let weight = Vector(repeating: w[j]), p = source + o[j]
                        for b in 0..<blocks {
                            let c = b * lanes
                            store(multiplyAdd(load(buffer + c), weight, load(p + c), fused: fused), buffer + c)
                        }
                    }
                }
            }
            copyRow(UnsafePointer(buffer), count: outputWidth, to: output + row * outputWidth, accumulate: accumulate)
        }
    }

    @inlinable @inline(__always)
    static func copyRow(_ source: UnsafePointer<Float>, count: Int, to destination: UnsafeMutablePointer<Float>,
                        accumulate: Bool) {
        if accumulate {
            for k in 0..<count { destination[k] += source[k] }
        } else {
            destination.update(from: source, count: count)
        }
    }

    /// The adjoint of ``correlate(_:rowStride:rowStep:taps:bias:outputHeight:outputWidth:accumulate:output:buffer:fused:)``
    /// without bias: `plane[row·rowStep·rowStride + offset + column] += weight · gradient(row, column)`
    /// for every tap. `plane` needs room for a whole last block.
    @inlinable @inline(__always)
    public static func scatter(_ gradient: UnsafePointer<Float>, rowStride: Int, rowStep: Int, taps: DepthwiseTaps,
                               outputHeight: Int, outputWidth: Int, into plane: UnsafeMutablePointer<Float>, fused: Bool) {
        let fullBlocks = outputWidth / lanes, rest = outputWidth % lanes
        for row in 0..<outputHeight {
            let destination = plane + row * rowStep * rowStride
            let source = gradient + row * outputWidth
            var last = Vector()
            for k in 0..<rest { last[k] = source[fullBlocks * lanes + k] }
            // Taps outermost: neighbouring taps' blocks overlap, and a load of a block still in
            // the store buffer would stall.
            for k in 0..<(taps.height * taps.width) {
                let target = destination + taps.offsets[k], weight = Vector(repeating: taps.weights[k])
                for b in 0..<fullBlocks {
                    let column = b * lanes
                    store(multiplyAdd(load(target + column), weight, load(source + column), fused: fused), target + column)
                }
                if rest > 0 {
                    let column = fullBlocks * lanes
                    store(multiplyAdd(load(target + column), weight, last, fused: fused), target + column)
                }
            }
        }
    }
}

/// The depthwise loops built for baseline x86-64 (or whatever this target is compiled for),
/// without fused multiply-adds: the engine's fallback when the CPU has neither AVX-512 nor AVX2.
public enum PortableDepthwise {
    @inline(never)
    public static func correlate(_ plane: UnsafePointer<Float>, rowStride: Int, rowStep: Int, taps: DepthwiseTaps, bias: Float,
                                 outputHeight: Int, outputWidth: Int, accumulate: Bool, output: UnsafeMutablePointer<Float>,
                                 buffer: UnsafeMutablePointer<Float>) {
        DepthwiseKernels.correlate(plane, rowStride: rowStride, rowStep: rowStep, taps: taps, bias: bias,
                                   outputHeight: outputHeight, outputWidth: outputWidth, accumulate: accumulate,
                                   output: output, buffer: buffer, fused: false)
    }

    @inline(never)
    public static func scatter(_ gradient: UnsafePointer<Float>, rowStride: Int, rowStep: Int, taps: DepthwiseTaps,
                               outputHeight: Int, outputWidth: Int, into plane: UnsafeMutablePointer<Float>) {
        DepthwiseKernels.scatter(gradient, rowStride: rowStride, rowStep: rowStep, taps: taps, outputHeight: outputHeight,
                                 outputWidth: outputWidth, into: plane, fused: false)
    }
}
