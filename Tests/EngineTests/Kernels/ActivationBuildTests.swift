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

    /// A values loop `(x, count, y) -> written` on ``inputs``: how many it wrote, and `y` (NaN
    /// where it wrote nothing).
    typealias ValuesLoop = (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Int
    static func run(_ loop: ValuesLoop) -> (written: Int, values: [Float]) {
        var values = [Float](repeating: .nan, count: inputs.count)
        let written = values.withUnsafeMutableBufferPointer { loop(inputs, inputs.count, $0.baseAddress!) }
        return (written, Array(values[..<written]))
    }

    /// `wide` wrote what `reference` wrote, whole vectors only, bit for bit.
    static func expectSame(_ reference: (written: Int, values: [Float]), _ wide: (written: Int, values: [Float]),
                           _ comment: Comment, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reference.written == inputs.count / 8 * 8 && wide.written == reference.written, comment,
                sourceLocation: sourceLocation)
        #expect(reference.values == wide.values, comment, sourceLocation: sourceLocation)
    }

    @Test(arguments: supported)
    func swishValuesAndDerivativesMatchTheBaselineBuild(_ kernels: KernelSelection.Kernels) {
        let wideLoops = ActivationLoops.build(kernels)
        let reference = Self.run { SwishKernels.values($0, count: $1, into: $2, fused: true) }
        Self.expectSame(reference, Self.run(wideLoops.swishValues), "swish values")

        // The derivatives read the forward's output, everything written above and NaN past it.
        let x = Self.inputs, count = x.count
        let y = reference.values + [Float](repeating: .nan, count: count - reference.written)
        let portableD = Self.run { PortableActivations.swishDerivatives(input: $0, output: y, count: $1, into: $2) }
        let wideD = Self.run { wideLoops.swishDerivatives($0, y, $1, $2) }
        Self.expectSame(portableD, wideD, "swish derivatives")
    }

    /// The portable build (the fallback on CPUs without AVX2) is the same loops with
    /// `fused: false`, bit for bit, and within 4 ulp of each wide build.
    @Test(arguments: supported)
    func portableBuildIsTheUnfusedLoops(_ kernels: KernelSelection.Kernels) {
        let wideLoops = ActivationLoops.build(kernels)
        let cases: [(String, ValuesLoop, ValuesLoop, ValuesLoop)] = [
            ("swish", PortableActivations.swishValues, { SwishKernels.values($0, count: $1, into: $2, fused: false) },
             wideLoops.swishValues),
            ("sigmoid", PortableActivations.sigmoidValues,
             { SigmoidKernels.values($0, count: $1, into: $2, fused: false) }, wideLoops.sigmoidValues),
        ]
        for (name, portableLoop, unfusedLoop, wideLoop) in cases {
            let portable = Self.run(portableLoop), wide = Self.run(wideLoop)
            Self.expectSame(Self.run(unfusedLoop), portable, "\(name): portable against unfused")
            let far = (0..<wide.written).filter { abs(portable.values[$0] - wide.values[$0]) > 4 * wide.values[$0].ulp }
            #expect(far.isEmpty, "\(name): \(far.count) values more than 4 ulp apart, first at x = \(far.first.map { Self.inputs[$0] } ?? 0)")
        }
    }

    @Test(arguments: supported)
    func sigmoidValuesMatchTheBaselineBuild(_ kernels: KernelSelection.Kernels) {
        let wideLoops = ActivationLoops.build(kernels)
        Self.expectSame(Self.run { SigmoidKernels.values($0, count: $1, into: $2, fused: true) },
                        Self.run(wideLoops.sigmoidValues), "sigmoid values")
    }
}
#endif
