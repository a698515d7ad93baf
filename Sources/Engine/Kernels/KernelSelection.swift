import Foundation

/// Which build of the engine's own kernels runs: its AVX-512 kernels (`AVX512Kernels`: the
/// matrix product of ``GEMM`` and the activations' vector loops), its AVX2 kernels
/// (`AVX2Kernels`: the same two), or the portable ones (OpenBLAS's `sgemm`, the vector loops
/// compiled for baseline x86-64 in `VectorKernels`).
///
/// `auto` takes the AVX-512 kernels when `/proc/cpuinfo` lists AVX-512 F, CD, BW, DQ and VL,
/// else the AVX2 kernels when it lists AVX2, FMA and Haswell's other extensions (``CPUFlags/avx2``); `SALIENCYD_KERNELS=portable` (or `avx512`,
/// `avx2`) overrides the choice for the process.
public enum KernelSelection {
    public enum Kernels: String, Sendable {
        case portable
        case avx2
        case avx512
    }

    /// The kernels `SALIENCYD_KERNELS` (`auto`, `avx512`, `avx2`, `portable`, or unset) and the
    /// CPU's flags select, and a note when the request could not be followed.
    public static func choose(request: String?, cpuFlags: Set<String>?) -> (kernels: Kernels, note: String?) {
        #if arch(x86_64)
        let hasAVX512 = cpuFlags.map { $0.isSuperset(of: CPUFlags.avx512) } ?? false
        let hasAVX2 = cpuFlags.map { $0.isSuperset(of: CPUFlags.avx2) } ?? false
        #else
        let (hasAVX512, hasAVX2) = (false, false)
        #endif
        let best: Kernels = hasAVX512 ? .avx512 : hasAVX2 ? .avx2 : .portable
        switch request?.lowercased() {
        case nil, "", "auto":
            return (best, nil)
        case "portable":
            return (.portable, nil)
        case "avx512":
            return hasAVX512 ? (.avx512, nil)
                : (best, "SALIENCYD_KERNELS=avx512 ignored: this CPU does not report AVX-512 (F, CD, BW, DQ, VL)")
        case "avx2":
            return hasAVX2 ? (.avx2, nil)
                : (best, "SALIENCYD_KERNELS=avx2 ignored: this CPU does not report Haswell's AVX2, FMA, BMI1/2, F16C, MOVBE and LZCNT")
        case let other?:
            return (best, "SALIENCYD_KERNELS=\(other) ignored: expected auto, avx512, avx2 or portable")
        }
    }

    /// This process's choice, made on first use.
    public static let current = choose(request: ProcessInfo.processInfo.environment["SALIENCYD_KERNELS"],
                                       cpuFlags: CPUFlags.current())
}
