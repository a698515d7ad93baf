import Engine
import Foundation

/// OpenBLAS chooses its kernels from CPUID when the library loads. On virtual machines whose CPU
/// reports a generic model it falls back to `Prescott` (SSE3) kernels — on the project's earlier
/// Xeon VM that was 30 GFLOP/s of `sgemm` instead of 157 with the AVX-512 `SkylakeX` kernels the
/// CPU supports. Since the choice is made before `main`, saliencyd re-executes itself once with
/// `OPENBLAS_CORETYPE` set when OpenBLAS fell back although `/proc/cpuinfo` shows AVX-512 or
/// AVX2. An explicit `OPENBLAS_CORETYPE`, or `SALIENCYD_BLAS_CORE=keep`, is left alone.
enum BLASCoreSelection {
    /// Kernel sets OpenBLAS falls back to when it does not recognise the CPU.
    static let fallbackCores: Set<String> = ["prescott", "core2", "katmai", "coppermine", "northwood", "banias", "atom"]

    static func reexecuteIfNeeded() {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, environment["SALIENCYD_BLAS_CORE"] != "keep",
              let flags = cpuFlags(), let target = upgrade(from: BLAS.coreName, cpuFlags: flags) else { return }
        setenv("OPENBLAS_CORETYPE", target, 1)
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", arguments)
        // execv returns only on failure: carry on with the kernels we have.
        unsetenv("OPENBLAS_CORETYPE")
    }

    /// The kernel set to switch to from `current` (OpenBLAS's core name), or nil to keep it: only
    /// from a fallback, and only to kernels the CPU's flags support.
    static func upgrade(from current: String, cpuFlags flags: Set<String>) -> String? {
        fallbackCores.contains(current.lowercased()) ? bestCore(cpuFlags: flags) : nil
    }

    /// The OpenBLAS kernel set the CPU's flags support, if better than the fallbacks.
    static func bestCore(cpuFlags flags: Set<String>) -> String? {
        if flags.isSuperset(of: CPUFlags.avx512) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The first `flags` line of `/proc/cpuinfo`.
    static func cpuFlags() -> Set<String>? { CPUFlags.current() }

    /// OpenBLAS kernel sets by the widest vector instructions they use: 0 the SSE fallbacks,
    /// 1 AVX, 2 AVX2 + FMA (`Zen` runs on the Haswell kernels), 3 AVX-512. Names not here are
    /// not compared.
    static let kernelLevels: [String: Int] = Dictionary(uniqueKeysWithValues: fallbackCores.map { ($0, 0) })
        .merging(["sandybridge": 1, "haswell": 2, "zen": 2, "skylakex": 3, "cooperlake": 3, "sapphirerapids": 3]) { $1 }

    /// The kernels in use, for the log, and whether an explicit `OPENBLAS_CORETYPE` holds OpenBLAS
    /// to narrower kernels than the CPU's flags allow (on the project's EPYC VM, `Haswell` where
    /// OpenBLAS itself picks `Cooperlake`: resnet18's Jacobian in 1.4× the time). With the
    /// engine's own AVX-512 or AVX2 GEMM selected (`gemm`), OpenBLAS runs only the remaining BLAS
    /// calls, and its kernels are reported without the notice.
    static func kernelReport(core: String, explicitCore: String?, cpuFlags flags: Set<String>?,
                             gemm: GEMM.Kernels = .openBLAS) -> (message: String, narrowerThanCPU: Bool) {
        let openBLAS = openBLASReport(core: core, explicitCore: explicitCore, cpuFlags: flags)
        guard gemm != .openBLAS else { return openBLAS }
        return ("GEMM on \(gemm.description) (SALIENCYD_KERNELS=portable for OpenBLAS's); other BLAS calls on "
                + (explicitCore.map { "OpenBLAS \(core) kernels (OPENBLAS_CORETYPE=\($0))" } ?? "OpenBLAS \(core) kernels"),
                false)
    }

    private static func openBLASReport(core: String, explicitCore: String?, cpuFlags flags: Set<String>?)
        -> (message: String, narrowerThanCPU: Bool) {
        guard let explicitCore else { return ("OpenBLAS \(core) kernels", false) }
        if let flags, let best = bestCore(cpuFlags: flags),
           let level = kernelLevels[core.lowercased()], let bestLevel = kernelLevels[best.lowercased()], bestLevel > level {
            return ("OpenBLAS \(core) kernels, as OPENBLAS_CORETYPE=\(explicitCore) asks, although this CPU runs \(best)'s; "
                    + "unset OPENBLAS_CORETYPE to let OpenBLAS choose", true)
        }
        return ("OpenBLAS \(core) kernels (OPENBLAS_CORETYPE=\(explicitCore))", false)
    }

    /// ``kernelReport(core:explicitCore:cpuFlags:gemm:)`` for this process, whose products run on
    /// `gemm` (by default what ``KernelSelection`` chose).
    static func currentKernelReport(gemm: GEMM.Kernels = GEMM.selectedKernels)
        -> (message: String, narrowerThanCPU: Bool) {
        kernelReport(core: BLAS.coreName, explicitCore: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"],
                     cpuFlags: cpuFlags(), gemm: gemm)
    }
}
