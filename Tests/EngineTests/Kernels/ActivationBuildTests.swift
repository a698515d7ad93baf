import Testing
import VectorKernels
@testable import Engine

#if arch(x86_64)
/// The activations' vector loops compiled for AVX-512 and for AVX2+FMA against the same loops
/// built for baseline x86-64: the same operations lane by lane, so the same floats, on inputs
/// across the whole range (both signs, |x| below 2⁻²⁰ where the derivative switches formula,
/// the exponential's clamps), and the same count written (the tail is left to the caller). The
/// wide builds take the exponential's steps as fused multiply-adds (`fused: true`), the portable
/// build does not; the reference is the loop with `fused: true` built for baseline x86-64, where
/// each fused step is a correctly rounded `fma` call. Each build runs only on a CPU that reports
/// its instruction set.
struct ActivationBuildTests {
    /// The wide builds this CPU can run (``ActivationLoops/build(_:)`` gives each one's loops).
    static let supported: [KernelSelection.Kernels] = [.avx512, .avx2].filter {
        guard let flags = CPUFlags.current() else { return false }
        return flags.isSuperset(of: $0 == .avx512 ? CPUFlags.avx512 : CPUFlags.avx2)
    }

    static let inputs: [Float] = {
        var generator = SeededGenerator(seed: 17)
        var values = (0..<997).map { _ in Float.random(in: -90...90, using: &generator) }
        values += [0, -0, 1e-7, -1e-7, 0x1p-21, -0x1p-21, 0x1p-19, 88.7, 89, -87.3, -100, 100, 1, -1]
        return values
    }()

    @Test(arguments: supported)
    func swishValuesAndDerivativesMatchTheBaselineBuild(_ kernels: KernelSelection.Kernels) {
        let wideLoops = ActivationLoops.build(kernels)
        let x = Self.inputs, count = x.count
        var reference = [Float](repeating: .nan, count: count), wide = reference
        let referenceCount = SwishKernels.values(x, count: count, into: &reference, fused: true)
        let wideCount = wideLoops.swishValues(x, count, &wide)
        #expect(referenceCount == count / 8 * 8 && wideCount == referenceCount)
        #expect(Array(reference[..<wideCount]) == Array(wide[..<wideCount]))

        let y = reference
        var portableD = [Float](repeating: .nan, count: count), wideD = portableD
        let portableDCount = PortableActivations.swishDerivatives(input: x, output: y, count: count, into: &portableD)
        let wideDCount = wideLoops.swishDerivatives(x, y, count, &wideD)
        #expect(portableDCount == count / 8 * 8 && wideDCount == portableDCount)
        #expect(Array(portableD[..<wideDCount]) == Array(wideD[..<wideDCount]))
    }

    /// The portable build (the fallback on CPUs without AVX2) is the same loops with
    /// `fused: false`, bit for bit, and within 4 ulp of each wide build.
    @Test(arguments: supported)
    func portableBuildIsTheUnfusedLoops(_ kernels: KernelSelection.Kernels) {
        let wideLoops = ActivationLoops.build(kernels)
        let x = Self.inputs, count = x.count
        for sigmoid in [false, true] {
            var portable = [Float](repeating: .nan, count: count), unfused = portable, wide = portable
            if sigmoid {
                _ = PortableActivations.sigmoidValues(x, count: count, into: &portable)
                _ = SigmoidKernels.values(x, count: count, into: &unfused, fused: false)
                _ = wideLoops.sigmoidValues(x, count, &wide)
            } else {
                _ = PortableActivations.swishValues(x, count: count, into: &portable)
                _ = SwishKernels.values(x, count: count, into: &unfused, fused: false)
                _ = wideLoops.swishValues(x, count, &wide)
            }
            let written = count / 8 * 8
            #expect(Array(portable[..<written]) == Array(unfused[..<written]), "sigmoid: \(sigmoid)")
            let far = (0..<written).filter { abs(portable[$0] - wide[$0]) > 4 * wide[$0].ulp }
            #expect(far.isEmpty, "sigmoid: \(sigmoid); \(far.count) values more than 4 ulp apart, first at x = \(far.first.map { x[$0] } ?? 0)")
        }
    }

    @Test(arguments: supported)
    func sigmoidValuesMatchTheBaselineBuild(_ kernels: KernelSelection.Kernels) {
        let wideLoops = ActivationLoops.build(kernels)
        let x = Self.inputs, count = x.count
        var reference = [Float](repeating: .nan, count: count), wide = reference
        let referenceCount = SigmoidKernels.values(x, count: count, into: &reference, fused: true)
        let wideCount = wideLoops.sigmoidValues(x, count, &wide)
        #expect(referenceCount == count / 8 * 8 && wideCount == referenceCount)
        #expect(Array(reference[..<wideCount]) == Array(wide[..<wideCount]))
    }
}
#endif
