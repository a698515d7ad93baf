import VectorKernels

/// The Winograd transforms of `VectorKernels` (`WinogradTransformKernels`), inlined here and so
/// compiled for this target's instruction set (AVX-512: each 16-float vector in one register). Same contracts.
public enum AVX512WinogradTransforms {
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
