import Testing
import VectorKernels
@testable import Engine

#if arch(x86_64)
/// The activations' vector loops compiled for AVX-512 and for AVX2+FMA against their portable
/// build: the same operations lane by lane, so the same floats, on inputs across the whole range
/// (both signs, |x| below 2⁻²⁰ where the derivative switches formula, the exponential's clamps),
/// and the same count written (the tail is left to the caller). Each build runs only on a CPU
/// that reports its instruction set.
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
    func swishValuesAndDerivativesMatchThePortableBuild(_ kernels: KernelSelection.Kernels) {
        let wideLoops = ActivationLoops.build(kernels)
        let x = Self.inputs, count = x.count
        var portable = [Float](repeating: .nan, count: count), wide = portable
        let portableCount = PortableActivations.swishValues(x, count: count, into: &portable)
        let wideCount = wideLoops.swishValues(x, count, &wide)
        #expect(portableCount == count / 8 * 8 && wideCount == portableCount)
        #expect(Array(portable[..<wideCount]) == Array(wide[..<wideCount]))

        let y = portable
        var portableD = [Float](repeating: .nan, count: count), wideD = portableD
        let portableDCount = PortableActivations.swishDerivatives(input: x, output: y, count: count, into: &portableD)
        let wideDCount = wideLoops.swishDerivatives(x, y, count, &wideD)
        #expect(portableDCount == count / 8 * 8 && wideDCount == portableDCount)
        #expect(Array(portableD[..<wideDCount]) == Array(wideD[..<wideDCount]))
    }

    @Test(arguments: supported)
    func sigmoidValuesMatchThePortableBuild(_ kernels: KernelSelection.Kernels) {
        let wideLoops = ActivationLoops.build(kernels)
        let x = Self.inputs, count = x.count
        var portable = [Float](repeating: .nan, count: count), wide = portable
        let portableCount = PortableActivations.sigmoidValues(x, count: count, into: &portable)
        let wideCount = wideLoops.sigmoidValues(x, count, &wide)
        #expect(portableCount == count / 8 * 8 && wideCount == portableCount)
        #expect(Array(portable[..<wideCount]) == Array(wide[..<wideCount]))
    }
}
#endif
