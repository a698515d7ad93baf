import Foundation

/// The instruction-set flags Linux reports for this CPU (the first `flags` line of
/// `/proc/cpuinfo`). The kernel clears a flag whose register state it does not save, so a flag
/// listed here is one a program may use.
public enum CPUFlags {
    /// The flags, or nil where `/proc/cpuinfo` is missing or has no `flags` line.
    public static func current() -> Set<String>? {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        return Set(line.split(separator: " ").map(String.init))
    }

    /// The AVX-512 subsets of Skylake-SP (`skylake-avx512`), which the engine's AVX-512 kernels
    /// and OpenBLAS's `SkylakeX` kernels are compiled for.
    public static let avx512: Set<String> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    /// The extensions of Haswell (`haswell`), which the engine's AVX2 kernels are compiled for:
    /// AVX, AVX2 and FMA, and the scalar ones the compiler may also emit (`abm` is LZCNT).
    public static let avx2: Set<String> = ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm", "popcnt"]
}
