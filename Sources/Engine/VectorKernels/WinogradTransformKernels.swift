// The input and output transforms of the engine's Winograd convolutions (`WinogradConvolution`),
// `@inlinable`, so that each kernel target (`AVX512WinogradTransforms`, `AVX2WinogradTransforms`)
// compiles them for its own instruction set, and their portable build
// (`PortableWinogradTransforms`). Built for baseline x86-64 inside the engine, their 16-float
// vectors were four SSE operations each: resnet18's transforms took 12 % of a gradient pass.

/// Where one correlation's tiles sit: an `H×W` input plane, an `Ho×Wo` output plane, the
/// padding before the first row and column, and `m×m` output tiles (`m` = 2 or 4).
public struct WinogradTileGeometry: Sendable {
    public var inputHeight: Int, inputWidth: Int
    public var outputHeight: Int, outputWidth: Int
    public var padTop: Int, padLeft: Int
    /// `m`, output pixels per tile side.
    public var tileSize: Int
    public var tileRows: Int { (outputHeight + tileSize - 1) / tileSize }
    public var tileColumns: Int { (outputWidth + tileSize - 1) / tileSize }

    public init(inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int, padTop: Int, padLeft: Int,
                tileSize: Int = 2) {
        (self.inputHeight, self.inputWidth, self.outputHeight, self.outputWidth) = (inputHeight, inputWidth, outputHeight, outputWidth)
        (self.padTop, self.padLeft, self.tileSize) = (padTop, padLeft, tileSize)
    }
}

extension WinogradTileGeometry {
    /// Columns of a padded input row, `m·Tw + 2` (the tiles' inputs).
    @inlinable public var paddedWidth: Int { tileSize * tileColumns + 2 }

    /// The columns of a padded row that hold pixels, `padLeft ..< padLeft + W` within
    /// ``paddedWidth`` (the others are zeros).
    @inlinable public var pixelColumns: Range<Int> {
        let lower = min(padLeft, paddedWidth)
        return lower..<max(lower, min(paddedWidth, inputWidth + padLeft))
    }

    /// The plane row under padded row `paddedRow` (counted from the top of the padding), or nil
    /// where the padding is.
    @inlinable public func planeRow(_ paddedRow: Int) -> Int? {
        let y = paddedRow - padTop
        return y >= 0 && y < inputHeight ? y : nil
    }
}

/// The activation an output transform applies to what it writes (the engine's
/// `FusedActivation`): `max(x, 0)`, or `min(max(x, a), b)`, as `Swift.max` and `Swift.min` take them.
public enum WinogradOutputActivation: Sendable, Equatable {
    case none
    case relu
    case clip(minimum: Float, maximum: Float)
}

/// One build's transforms, as `WinogradConvolution` calls them (each build's entry points have
/// these signatures): F(2×2, 3×3) in `WinogradF2TransformKernels.swift`, F(4×4, 3×3) in
/// `WinogradF4TransformKernels.swift`, the helpers both use here.
public enum WinogradTransformKernels {
    /// The even (or odd) columns of a padded row for F(2×2), `tiles + 1`, rounded up to whole
    /// 16-float vectors.
    public static func halfRowLength(tileColumns: Int) -> Int { (tileColumns + 1 + 15) / 16 * 16 }

    /// The length of one column phase of a padded row for F(4×4): `tiles + 1`, rounded up to 16 floats.
    public static func quarterRowLength(tileColumns: Int) -> Int { (tileColumns + 1 + 15) / 16 * 16 }

    /// `even[j] = source[2j]` and `odd[j] = source[2j + 1]` for the columns `2j`, `2j + 1` in
    /// `columns` (the others are left as they are); 8 pairs at a time where all are inside.
    @inlinable @inline(__always)
    static func deinterleave(_ source: UnsafePointer<Float>, columns: Range<Int>, even: UnsafeMutablePointer<Float>,
                             odd: UnsafeMutablePointer<Float>) {
        let lower = columns.lowerBound, upper = columns.upperBound
        // Whole pairs (2j, 2j + 1) inside: j in ⌈lower/2⌉ ..< ⌊upper/2⌋.
        let first = (lower + 1) / 2, end = max(first, upper / 2)
        if lower % 2 == 1 { odd[lower / 2] = source[lower] }
        var j = first
        while j + 8 <= end {
            let pairs = load(SIMD16<Float>.self, source + 2 * j)
            store(pairs.evenHalf, even + j)
            store(pairs.oddHalf, odd + j)
            j += 8
        }
        while j < end {
            even[j] = source[2 * j]
            odd[j] = source[2 * j + 1]
            j += 1
        }
        if upper % 2 == 1, upper - 1 >= lower { even[upper / 2] = source[upper - 1] }
    }

    /// `phases + q·length` gets the padded row's columns `x ≡ q (mod 4)` at `x / 4`, for the
    /// columns `x` in `columns` (the others are left as they are); 32 columns at a time inside.
    @inlinable @inline(__always)
    static func splitPhases(_ source: UnsafePointer<Float>, columns: Range<Int>, into phases: UnsafeMutablePointer<Float>,
                            length: Int) {
        var x = columns.lowerBound
        while x < columns.upperBound, x % 4 != 0 {
            phases[(x % 4) * length + x / 4] = source[x]
            x += 1
        }
        while x + 32 <= columns.upperBound {
            let a = load(SIMD16<Float>.self, source + x), b = load(SIMD16<Float>.self, source + x + 16)
            let even = SIMD16(lowHalf: a.evenHalf, highHalf: b.evenHalf)
            let odd = SIMD16(lowHalf: a.oddHalf, highHalf: b.oddHalf)
            let t = x / 4
            store(even.evenHalf, phases + t)
            store(odd.evenHalf, phases + length + t)
            store(even.oddHalf, phases + 2 * length + t)
            store(odd.oddHalf, phases + 3 * length + t)
            x += 32
        }
        if x + 16 <= columns.upperBound {
            let a = load(SIMD16<Float>.self, source + x)
            let even = a.evenHalf, odd = a.oddHalf, t = x / 4
            store(even.evenHalf, phases + t)
            store(odd.evenHalf, phases + length + t)
            store(even.oddHalf, phases + 2 * length + t)
            store(odd.oddHalf, phases + 3 * length + t)
            x += 16
        }
        while x < columns.upperBound {
            phases[(x % 4) * length + x / 4] = source[x]
            x += 1
        }
    }

    /// The activation over `count` written values in place (`.none`: nothing).
    @inlinable @inline(__always)
    static func apply(_ activation: WinogradOutputActivation, _ values: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .none: break
        case .relu: for i in 0..<count { values[i] = Swift.max(values[i], 0) }
        case let .clip(minimum, maximum):
            for i in 0..<count { values[i] = Swift.min(Swift.max(values[i], minimum), maximum) }
        }
    }

    @inlinable @inline(__always)
    static func load<S: SIMD>(_: S.Type, _ p: UnsafePointer<Float>) -> S where S.Scalar == Float {
        UnsafeRawPointer(p).loadUnaligned(as: S.self)
    }

    @inlinable @inline(__always)
    static func load<S: SIMD>(_: S.Type, _ p: UnsafeMutablePointer<Float>) -> S where S.Scalar == Float {
        UnsafeRawPointer(p).loadUnaligned(as: S.self)
    }

    /// A vector load, or (`single`, for a loop's scalar tail) one float in every lane.
    @inlinable @inline(__always)
    static func load<S: SIMD>(_: S.Type, _ p: UnsafePointer<Float>, single: Bool) -> S where S.Scalar == Float {
        single ? S(repeating: p.pointee) : load(S.self, p)
    }

    @inlinable @inline(__always)
    static func load<S: SIMD>(_: S.Type, _ p: UnsafeMutablePointer<Float>, single: Bool) -> S where S.Scalar == Float {
        load(S.self, UnsafePointer(p), single: single)
    }

    @inlinable @inline(__always)
    static func store<S: SIMD>(_ v: S, _ p: UnsafeMutablePointer<Float>) where S.Scalar == Float {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: S.self)
    }

    /// A vector store, or (`single`) lane 0 only.
    @inlinable @inline(__always)
    static func store<S: SIMD>(_ v: S, _ p: UnsafeMutablePointer<Float>, single: Bool) where S.Scalar == Float {
        if single { p.pointee = v[0] } else { store(v, p) }
    }
}

/// The transforms built for baseline x86-64 (or whatever this target is compiled for): the
/// engine's fallback when the CPU has neither AVX-512 nor AVX2.
public enum PortableWinogradTransforms {
    /// `WinogradTransformKernels.inputF2Narrow`, in an entry of its own: with it and
    /// `inputF2Rows` behind one entry, the optimizer called the `VectorKernels` build of one of
    /// them. `WinogradTransformLoops` chooses between the two.
    @inline(never)
    public static func inputF2Narrow(_ x: UnsafePointer<Float>, channels: Range<Int>, geometry: WinogradTileGeometry, inputs: Int,
                                     tileRows: Range<Int>, firstTile: Int, tiles: Int, into v: UnsafeMutablePointer<Float>,
                                     rows: UnsafeMutablePointer<Float>) {
        WinogradTransformKernels.inputF2Narrow(x, channels: channels, geometry: geometry, inputs: inputs, tileRows: tileRows,
                                               firstTile: firstTile, tiles: tiles, into: v, rows: rows)
    }

    @inline(never)
    public static func inputF2Rows(_ x: UnsafePointer<Float>, channels: Range<Int>, geometry: WinogradTileGeometry, inputs: Int,
                                   tileRows: Range<Int>, firstTile: Int, tiles: Int, into v: UnsafeMutablePointer<Float>,
                                   rows: UnsafeMutablePointer<Float>) {
        WinogradTransformKernels.inputF2Rows(x, channels: channels, geometry: geometry, inputs: inputs, tileRows: tileRows,
                                             firstTile: firstTile, tiles: tiles, into: v, rows: rows)
    }

    @inline(never)
    public static func inputF4(_ x: UnsafePointer<Float>, channels: Range<Int>, geometry: WinogradTileGeometry, inputs: Int,
                               tileRows: Range<Int>, firstTile: Int, tiles: Int, into v: UnsafeMutablePointer<Float>,
                               rows: UnsafeMutablePointer<Float>) {
        WinogradTransformKernels.inputF4(x, channels: channels, geometry: geometry, inputs: inputs, tileRows: tileRows,
                                         firstTile: firstTile, tiles: tiles, into: v, rows: rows)
    }

    @inline(never)
    public static func outputF2(_ m: UnsafePointer<Float>, channels: Range<Int>, geometry: WinogradTileGeometry, outputs: Int,
                                tileRows: Range<Int>, firstTile: Int, tiles: Int, into y: UnsafeMutablePointer<Float>,
                                accumulate: Bool, bias: UnsafePointer<Float>?, activation: WinogradOutputActivation,
                                rows: UnsafeMutablePointer<Float>) {
        WinogradTransformKernels.outputF2(m, channels: channels, geometry: geometry, outputs: outputs, tileRows: tileRows,
                                          firstTile: firstTile, tiles: tiles, into: y, accumulate: accumulate, bias: bias,
                                          activation: activation, rows: rows)
    }

    @inline(never)
    public static func outputF4(_ m: UnsafePointer<Float>, channels: Range<Int>, geometry: WinogradTileGeometry, outputs: Int,
                                tileRows: Range<Int>, firstTile: Int, tiles: Int, into y: UnsafeMutablePointer<Float>,
                                accumulate: Bool, bias: UnsafePointer<Float>?, activation: WinogradOutputActivation,
                                rows: UnsafeMutablePointer<Float>) {
        WinogradTransformKernels.outputF4(m, channels: channels, geometry: geometry, outputs: outputs, tileRows: tileRows,
                                          firstTile: firstTile, tiles: tiles, into: y, accumulate: accumulate, bias: bias,
                                          activation: activation, rows: rows)
    }
}
