/// A small deterministic random number generator (SplitMix64), so that models built in code and
/// test inputs are the same on every machine and run.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A float uniformly distributed in `range`.
    public mutating func uniform(_ range: ClosedRange<Float>) -> Float { Float.random(in: range, using: &self) }

    /// `count` floats uniformly distributed in `range`.
    public mutating func uniform(count: Int, in range: ClosedRange<Float>) -> [Float] {
        (0..<count).map { _ in uniform(range) }
    }
}
