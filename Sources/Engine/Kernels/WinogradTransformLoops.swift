import AVX2Kernels
import AVX512Kernels
import VectorKernels

/// One build of the Winograd input and output transforms (`VectorKernels`'
/// `WinogradTransformKernels`): compiled for AVX-512 (`AVX512WinogradTransforms`), for AVX2
/// (`AVX2WinogradTransforms`) or for baseline x86-64 (`PortableWinogradTransforms`), as
/// ``KernelSelection`` chose for the products.
struct WinogradTransformLoops: Sendable {
    typealias Input = @Sendable (UnsafePointer<Float>, Range<Int>, WinogradTileGeometry, Int, Range<Int>, Int, Int,
                                 UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    typealias Output = @Sendable (UnsafePointer<Float>, Range<Int>, WinogradTileGeometry, Int, Range<Int>, Int, Int,
                                  UnsafeMutablePointer<Float>, Bool, UnsafePointer<Float>?, WinogradOutputActivation,
                                  UnsafeMutablePointer<Float>) -> Void

    /// `(x, channels, geometry, inputs, tileRows, firstTile, tiles, v, rows)`: F(2×2)'s input
    /// transform (`WinogradTransformKernels.inputF2Narrow` where `takesNarrowF2`, else
    /// `inputF2Rows`) and `WinogradTransformKernels.inputF4`.
    let inputF2: Input, inputF4: Input
    /// `(m, channels, geometry, outputs, tileRows, firstTile, tiles, y, accumulate, bias,
    /// activation, rows)`: `WinogradTransformKernels.outputF2` and `outputF4`.
    let outputF2: Output, outputF4: Output

    /// The transforms of one build. (Off x86-64 the AVX targets are built without their
    /// instruction-set flags, and ``KernelSelection`` never selects them.)
    static func build(_ kernels: KernelSelection.Kernels) -> WinogradTransformLoops {
        switch kernels {
        case .avx512:
            WinogradTransformLoops(inputF2: inputF2(narrow: AVX512WinogradTransforms.inputF2Narrow,
                                                    rows: AVX512WinogradTransforms.inputF2Rows),
                                   inputF4: AVX512WinogradTransforms.inputF4,
                                   outputF2: AVX512WinogradTransforms.outputF2, outputF4: AVX512WinogradTransforms.outputF4)
        case .avx2:
            WinogradTransformLoops(inputF2: inputF2(narrow: AVX2WinogradTransforms.inputF2Narrow,
                                                    rows: AVX2WinogradTransforms.inputF2Rows),
                                   inputF4: AVX2WinogradTransforms.inputF4,
                                   outputF2: AVX2WinogradTransforms.outputF2, outputF4: AVX2WinogradTransforms.outputF4)
        case .portable:
            WinogradTransformLoops(inputF2: inputF2(narrow: PortableWinogradTransforms.inputF2Narrow,
                                                    rows: PortableWinogradTransforms.inputF2Rows),
                                   inputF4: PortableWinogradTransforms.inputF4,
                                   outputF2: PortableWinogradTransforms.outputF2, outputF4: PortableWinogradTransforms.outputF4)
        }
    }

    /// F(2×2)'s input transform of one build: its narrow-map path or its per-row one, by the map.
    private static func inputF2(narrow: @escaping Input, rows: @escaping Input) -> Input {
        { x, channels, geometry, inputs, tileRows, firstTile, tiles, v, scratch in
            (WinogradTransformKernels.takesNarrowF2(geometry) ? narrow : rows)(x, channels, geometry, inputs, tileRows,
                                                                                firstTile, tiles, v, scratch)
        }
    }

    /// The build ``KernelSelection`` chose for this process.
    static let selected = build(KernelSelection.current.kernels)
}

extension FusedActivation {
    /// The same activation as the transforms' output stage takes it.
    var winogradOutputActivation: WinogradOutputActivation {
        switch self {
        case .none: .none
        case .relu: .relu
        case let .clip(minimum, maximum): .clip(minimum: minimum, maximum: maximum)
        }
    }
}
