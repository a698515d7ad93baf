import AVX2Kernels
import AVX512Kernels
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
    /// A build of the loops in `VectorKernels` other than the portable one.
    enum Build: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case avx512, avx2

        var testDescription: String { rawValue }

        /// The builds this CPU can run.
        static let supported: [Build] = allCases.filter {
            guard let flags = CPUFlags.current() else { return false }
            return flags.isSuperset(of: $0 == .avx512 ? CPUFlags.avx512 : CPUFlags.avx2)
        }

        func swishValues(_ x: UnsafePointer<Float>, _ count: Int, _ y: UnsafeMutablePointer<Float>) -> Int {
            switch self {
            case .avx512: AVX512Activations.swishValues(x, count: count, into: y)
            case .avx2: AVX2Activations.swishValues(x, count: count, into: y)
            }
        }

        func swishDerivatives(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int,
                              _ d: UnsafeMutablePointer<Float>) -> Int {
            switch self {
            case .avx512: AVX512Activations.swishDerivatives(input: x, output: y, count: count, into: d)
            case .avx2: AVX2Activations.swishDerivatives(input: x, output: y, count: count, into: d)
            }
        }

        func sigmoidValues(_ x: UnsafePointer<Float>, _ count: Int, _ y: UnsafeMutablePointer<Float>) -> Int {
            switch self {
            case .avx512: AVX512Activations.sigmoidValues(x, count: count, into: y)
            case .avx2: AVX2Activations.sigmoidValues(x, count: count, into: y)
            }
        }
    }

    static let inputs: [Float] = {
        var generator = SeededGenerator(seed: 17)
        var values = (0..<997).map { _ in Float.random(in: -90...90, using: &generator) }
        values += [0, -0, 1e-7, -1e-7, 0x1p-21, -0x1p-21, 0x1p-19, 88.7, 89, -87.3, -100, 100, 1, -1]
        return values
    }()

    @Test(arguments: Build.supported)
    func swishValuesAndDerivativesMatchThePortableBuild(_ build: Build) {
        let x = Self.inputs, count = x.count
        var portable = [Float](repeating: .nan, count: count), wide = portable
        let portableCount = PortableActivations.swishValues(x, count: count, into: &portable)
        let wideCount = build.swishValues(x, count, &wide)
        #expect(portableCount == count / 8 * 8 && wideCount == portableCount)
        #expect(Array(portable[..<wideCount]) == Array(wide[..<wideCount]))

        let y = portable
        var portableD = [Float](repeating: .nan, count: count), wideD = portableD
        let portableDCount = PortableActivations.swishDerivatives(input: x, output: y, count: count, into: &portableD)
        let wideDCount = build.swishDerivatives(x, y, count, &wideD)
        #expect(portableDCount == count / 8 * 8 && wideDCount == portableDCount)
        #expect(Array(portableD[..<wideDCount]) == Array(wideD[..<wideDCount]))
    }

    @Test(arguments: Build.supported)
    func sigmoidValuesMatchThePortableBuild(_ build: Build) {
        let x = Self.inputs, count = x.count
        var portable = [Float](repeating: .nan, count: count), wide = portable
        let portableCount = PortableActivations.sigmoidValues(x, count: count, into: &portable)
        let wideCount = build.sigmoidValues(x, count, &wide)
        #expect(portableCount == count / 8 * 8 && wideCount == portableCount)
        #expect(Array(portable[..<wideCount]) == Array(wide[..<wideCount]))
    }
}
#endif
