import Foundation

/// Which build of the engine's own kernels runs: its AVX-512 kernels (`AVX512Kernels`: the
/// matrix product of ``GEMM`` and the activations' vector loops) or the portable ones (OpenBLAS's
/// `sgemm`, the same vector loops compiled for baseline x86-64 in `VectorKernels`).
///
/// `auto` takes the AVX-512 kernels when `/proc/cpuinfo` lists AVX-512 F, CD, BW, DQ and VL;
/// `SALIENCYD_KERNELS=portable` (or `avx512`) overrides the choice for the process.
public enum KernelSelection {
    public enum Kernels: String, Sendable {
        case portable
        case avx512
    }

    /// The kernels `SALIENCYD_KERNELS` (`auto`, `avx512`, `portable`, or unset) and the CPU's flags
    /// select, and a note when the request could not be followed.
    public static func choose(request: String?, cpuFlags: Set<String>?) -> (kernels: Kernels, note: String?) {
        #if arch(x86_64)
        let hasAVX512 = cpuFlags.map { $0.isSuperset(of: CPUFlags.avx512) } ?? false
        #else
        let hasAVX512 = false
        #endif
        switch request?.lowercased() {
        case nil, "", "auto":
            return (hasAVX512 ? .avx512 : .portable, nil)
        case "portable":
            return (.portable, nil)
        case "avx512":
            return hasAVX512 ? (.avx512, nil)
                : (.portable, "SALIENCYD_KERNELS=avx512 ignored: this CPU does not report AVX-512 (F, CD, BW, DQ, VL)")
        case let other?:
            return (hasAVX512 ? .avx512 : .portable,
                    "SALIENCYD_KERNELS=\(other) ignored: expected auto, avx512 or portable")
        }
    }

    /// This process's choice, made on first use.
    public static let current = choose(request: ProcessInfo.processInfo.environment["SALIENCYD_KERNELS"],
                                       cpuFlags: CPUFlags.current())

    /// Whether the AVX-512 kernels run in this process.
    @inline(__always)
    public static var avx512: Bool {
        #if arch(x86_64)
        current.kernels == .avx512
        #else
        false
        #endif
    }
}
