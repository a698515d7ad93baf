@testable import Daemon
import Foundation
import Testing

/// Which OpenBLAS kernel set saliencyd switches to, from the core OpenBLAS chose and the CPU's
/// flags; and, end to end, that an explicit `OPENBLAS_CORETYPE` is respected.
@Suite struct BLASCoreSelectionTests {
    static let avx2: Set<String> = ["sse3", "avx", "avx2", "fma"]
    static let avx512 = avx2.union(["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"])

    /// From OpenBLAS's SSE fallbacks (a VM whose CPU model it does not know) to the widest kernels
    /// the flags allow.
    @Test(arguments: [
        ("Prescott", avx512, "SkylakeX"), ("Prescott", avx2, "Haswell"), ("Core2", avx512, "SkylakeX"),
        ("ATOM", avx2, "Haswell"),
    ] as [(String, Set<String>, String)])
    func upgradesFromAFallback(core: String, flags: Set<String>, expected: String) {
        #expect(BLASCoreSelection.upgrade(from: core, cpuFlags: flags) == expected)
    }

    @Test(arguments: [
        // OpenBLAS recognised the CPU: its choice stands, even where wider kernels would run.
        ("Haswell", avx512), ("Cooperlake", avx512), ("SkylakeX", avx512), ("Zen", avx2),
        // A fallback on a CPU without AVX2 + FMA, or missing one of SkylakeX's AVX-512 subsets.
        ("Prescott", ["sse3", "avx"]),
    ] as [(String, Set<String>)])
    func keepsOpenBLASsChoice(core: String, flags: Set<String>) {
        #expect(BLASCoreSelection.upgrade(from: core, cpuFlags: flags) == nil)
    }

    @Test func skylakeXNeedsEveryAVX512SubsetItsKernelsUse() {
        for missing in ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"] {
            #expect(BLASCoreSelection.bestCore(cpuFlags: Self.avx512.subtracting([missing])) == "Haswell", "without \(missing)")
        }
    }

    static func benchCore(environment: [String: String]) throws -> String {
        let run = try ExplainCommandTests.run(["bench", "--json", "--repeats", "1", "--threads", "1"], environment: environment)
        #expect(run.status == 0, "\(run.errors)")
        struct Report: Decodable { var blas_core: String }
        return try JSONDecoder().decode(Report.self, from: Data(run.output.utf8)).blas_core
    }

    /// The executable, run as users run it: an explicit `OPENBLAS_CORETYPE` is used as given, even
    /// a fallback; without one, OpenBLAS's own choice or a switch away from a fallback.
    @Test func theExecutableRespectsAnExplicitCoreAndNeverRunsAFallbackOnAVX2() throws {
        let flags = try #require(BLASCoreSelection.cpuFlags())
        guard BLASCoreSelection.bestCore(cpuFlags: flags) != nil else { return }  // no AVX2: nothing to check
        var environment = ProcessInfo.processInfo.environment
        environment["SALIENCYD_BLAS_CORE"] = nil
        environment["OPENBLAS_CORETYPE"] = "Haswell"
        #expect(try Self.benchCore(environment: environment) == "Haswell")
        environment["OPENBLAS_CORETYPE"] = "Prescott"
        #expect(try Self.benchCore(environment: environment) == "Prescott")
        environment["OPENBLAS_CORETYPE"] = nil
        let chosen = try Self.benchCore(environment: environment)
        #expect(!BLASCoreSelection.fallbackCores.contains(chosen.lowercased()), "ran OpenBLAS's fallback \(chosen)")
    }
}

/// What `serve` logs and `bench` notes about the kernels in use.
@Suite struct BLASKernelReportTests {
    @Test func anExplicitNarrowerCoreIsNamedWithWhatTheCPURuns() {
        let report = BLASCoreSelection.kernelReport(core: "Haswell", explicitCore: "Haswell", cpuFlags: BLASCoreSelectionTests.avx512)
        #expect(report.narrowerThanCPU)
        #expect(report.message.contains("OPENBLAS_CORETYPE=Haswell") && report.message.contains("SkylakeX"))
    }

    @Test(arguments: [
        ("Cooperlake", "Cooperlake", BLASCoreSelectionTests.avx512),  // explicit, as wide as the CPU
        ("Haswell", "Haswell", BLASCoreSelectionTests.avx2),
        ("NeoverseN1", "NeoverseN1", BLASCoreSelectionTests.avx512),  // not compared
    ] as [(String, String, Set<String>)])
    func anExplicitCoreAsWideAsTheCPUIsOnlyNamed(core: String, explicit: String, flags: Set<String>) {
        let report = BLASCoreSelection.kernelReport(core: core, explicitCore: explicit, cpuFlags: flags)
        #expect(!report.narrowerThanCPU)
        #expect(report.message == "OpenBLAS \(core) kernels (OPENBLAS_CORETYPE=\(explicit))")
    }

    @Test func openBLASsOwnChoiceIsOnlyNamed() {
        let report = BLASCoreSelection.kernelReport(core: "Haswell", explicitCore: nil, cpuFlags: BLASCoreSelectionTests.avx512)
        #expect(!report.narrowerThanCPU && report.message == "OpenBLAS Haswell kernels")
    }

    @Test func withTheEnginesGEMMOpenBLASIsNamedForTheRestWithoutTheNotice() {
        let report = BLASCoreSelection.kernelReport(core: "Haswell", explicitCore: "Haswell",
                                                    cpuFlags: BLASCoreSelectionTests.avx512, gemm: .avx512)
        #expect(!report.narrowerThanCPU)
        #expect(report.message == "GEMM on saliencyd's AVX-512 kernels (SALIENCYD_KERNELS=portable for OpenBLAS's); "
                + "other BLAS calls on OpenBLAS Haswell kernels (OPENBLAS_CORETYPE=Haswell)")
        let avx2 = BLASCoreSelection.kernelReport(core: "Zen", explicitCore: nil, cpuFlags: BLASCoreSelectionTests.avx2,
                                                  gemm: .avx2)
        #expect(avx2.message == "GEMM on saliencyd's AVX2 kernels (SALIENCYD_KERNELS=portable for OpenBLAS's); "
                + "other BLAS calls on OpenBLAS Zen kernels")
    }

    /// The built binary's `bench` prints the note when the environment pins narrower kernels and
    /// OpenBLAS computes the products (`SALIENCYD_KERNELS=portable`); with the engine's AVX-512
    /// GEMM (the default on an AVX-512 CPU) it names those kernels instead.
    @Test func benchNotesAPinnedNarrowerCore() throws {
        let flags = try #require(BLASCoreSelection.cpuFlags())
        guard BLASCoreSelection.bestCore(cpuFlags: flags) == "SkylakeX" else { return }  // needs an AVX-512 CPU
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_CORETYPE"] = "Haswell"
        environment["SALIENCYD_KERNELS"] = "portable"
        let run = try ExplainCommandTests.run(["bench", "--repeats", "1", "--threads", "1"], environment: environment)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("note       OpenBLAS Haswell kernels, as OPENBLAS_CORETYPE=Haswell asks, although this CPU runs SkylakeX's"))
        #expect(run.output.contains("gemm       engine products on OpenBLAS: "))

        environment["SALIENCYD_KERNELS"] = nil
        let own = try ExplainCommandTests.run(["bench", "--repeats", "1", "--threads", "1"], environment: environment)
        #expect(own.status == 0, "\(own.errors)")
        #expect(own.output.contains("gemm       engine products on saliencyd's AVX-512 kernels: "))
        #expect(!own.output.contains("note "))
    }
}
