import AVX512Kernels
import Testing
import VectorKernels
@testable import Engine

#if arch(x86_64)
/// The activations' vector loops compiled for AVX-512 against their portable build: the same
/// operations lane by lane, so the same floats, on inputs across the whole range (both signs,
/// |x| below 2⁻²⁰ where the derivative switches formula, the exponential's clamps), and the same
/// count written (the tail is left to the caller).
@Suite(.enabled(if: CPUFlags.current()?.isSuperset(of: CPUFlags.avx512) == true,
                "this CPU does not report AVX-512"))
struct AVX512ActivationTests {
    static let inputs: [Float] = {
        var generator = SeededGenerator(seed: 17)
        var values = (0..<997).map { _ in Float.random(in: -90...90, using: &generator) }
        values += [0, -0, 1e-7, -1e-7, 0x1p-21, -0x1p-21, 0x1p-19, 88.7, 89, -87.3, -100, 100, 1, -1]
        return values
    }()

    @Test func swishValuesAndDerivativesMatchThePortableBuild() {
        let x = Self.inputs, count = x.count
        var portable = [Float](repeating: .nan, count: count), wide = portable
        let portableCount = PortableActivations.swishValues(x, count: count, into: &portable)
        let wideCount = AVX512Activations.swishValues(x, count: count, into: &wide)
        #expect(portableCount == count / 8 * 8 && wideCount == portableCount)
        #expect(Array(portable[..<wideCount]) == Array(wide[..<wideCount]))

        let y = portable
        var portableD = [Float](repeating: .nan, count: count), wideD = portableD
        let portableDCount = PortableActivations.swishDerivatives(input: x, output: y, count: count, into: &portableD)
        let wideDCount = AVX512Activations.swishDerivatives(input: x, output: y, count: count, into: &wideD)
        #expect(portableDCount == count / 8 * 8 && wideDCount == portableDCount)
        #expect(Array(portableD[..<wideDCount]) == Array(wideD[..<wideDCount]))
    }

    @Test func sigmoidValuesMatchThePortableBuild() {
        let x = Self.inputs, count = x.count
        var portable = [Float](repeating: .nan, count: count), wide = portable
        _ = PortableActivations.sigmoidValues(x, count: count, into: &portable)
        let wideCount = AVX512Activations.sigmoidValues(x, count: count, into: &wide)
        #expect(Array(portable[..<wideCount]) == Array(wide[..<wideCount]))
    }
}
#endif
