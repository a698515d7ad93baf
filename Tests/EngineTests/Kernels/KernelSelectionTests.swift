import Testing
@testable import Engine

#if arch(x86_64)
/// `KernelSelection.choose` on x86-64 (elsewhere it always answers portable).
@Suite struct KernelSelectionTests {
    static let avx512Flags: Set<String> = CPUFlags.avx512.union(CPUFlags.avx2)

    @Test func autoTakesTheWidestKernelsTheCPUHas() {
        #expect(KernelSelection.choose(request: nil, cpuFlags: Self.avx512Flags).kernels == .avx512)
        #expect(KernelSelection.choose(request: "auto", cpuFlags: CPUFlags.avx2.union(["avx512f"])).kernels == .avx2)
        #expect(KernelSelection.choose(request: nil, cpuFlags: CPUFlags.avx2).kernels == .avx2)
        // AVX2 and FMA without Haswell's BMI2 (the AVX2 target may emit it): portable.
        #expect(KernelSelection.choose(request: nil, cpuFlags: CPUFlags.avx2.subtracting(["bmi2"])).kernels == .portable)
        #expect(KernelSelection.choose(request: nil, cpuFlags: nil).kernels == .portable)
    }

    @Test func explicitRequests() {
        #expect(KernelSelection.choose(request: "portable", cpuFlags: Self.avx512Flags) == (.portable, nil))
        #expect(KernelSelection.choose(request: "AVX512", cpuFlags: Self.avx512Flags) == (.avx512, nil))
        let refused = KernelSelection.choose(request: "avx512", cpuFlags: CPUFlags.avx2)
        #expect(refused.kernels == .avx2)
        #expect(refused.note?.contains("does not report AVX-512") == true)
        #expect(KernelSelection.choose(request: "avx2", cpuFlags: Self.avx512Flags) == (.avx2, nil))
        let refusedAVX2 = KernelSelection.choose(request: "avx2", cpuFlags: ["sse2"])
        #expect(refusedAVX2.kernels == .portable)
        #expect(refusedAVX2.note?.contains("does not report Haswell's AVX2") == true)
        let unknown = KernelSelection.choose(request: "openblas", cpuFlags: Self.avx512Flags)
        #expect(unknown.kernels == .avx512)
        #expect(unknown.note?.contains("SALIENCYD_KERNELS=openblas ignored") == true)
    }
}
#endif
