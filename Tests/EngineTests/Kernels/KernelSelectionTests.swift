import Testing
@testable import Engine

#if arch(x86_64)
/// `KernelSelection.choose` on x86-64 (elsewhere it always answers portable).
@Suite struct KernelSelectionTests {
    static let avx512Flags: Set<String> = CPUFlags.avx512.union(["avx2", "fma"])

    @Test func autoTakesAVX512OnlyWhereTheCPUHasIt() {
        #expect(KernelSelection.choose(request: nil, cpuFlags: Self.avx512Flags).kernels == .avx512)
        #expect(KernelSelection.choose(request: "auto", cpuFlags: ["avx2", "fma", "avx512f"]).kernels == .portable)
        #expect(KernelSelection.choose(request: nil, cpuFlags: nil).kernels == .portable)
    }

    @Test func explicitRequests() {
        #expect(KernelSelection.choose(request: "portable", cpuFlags: Self.avx512Flags) == (.portable, nil))
        #expect(KernelSelection.choose(request: "AVX512", cpuFlags: Self.avx512Flags) == (.avx512, nil))
        let refused = KernelSelection.choose(request: "avx512", cpuFlags: ["avx2", "fma"])
        #expect(refused.kernels == .portable)
        #expect(refused.note?.contains("does not report AVX-512") == true)
        let unknown = KernelSelection.choose(request: "openblas", cpuFlags: Self.avx512Flags)
        #expect(unknown.kernels == .avx512)
        #expect(unknown.note?.contains("SALIENCYD_KERNELS=openblas ignored") == true)
    }
}
#endif
