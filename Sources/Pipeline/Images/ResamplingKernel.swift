/// The weights that resample one axis from `inputSize` to `outputSize` samples with the
/// triangle (bilinear) filter, widened when shrinking — PIL's `precompute_coeffs` for
/// `BILINEAR`, which torchvision's `antialias=True` reproduces.
///
/// With `scale = inputSize / outputSize` and input pixel `i` centred at coordinate `i`, output
/// sample `o` is centred at `c = (o + 0.5)·scale − 0.5` and is
/// `Σₖ weights[o·taps + k] · input[starts[o] + k]` for `k < counts[o]`, where the weight of input
/// pixel `i` is `max(0, 1 − |i − c| / s)` with `s = max(scale, 1)`, renormalised over the pixels
/// inside the image so the weights sum to 1 (the border is not padded).
struct ResamplingKernel: Sendable, Equatable {
    /// Weights stored per output sample (the widest support); unused slots are 0.
    let taps: Int
    /// The first input pixel of each output sample.
    let starts: [Int]
    /// How many input pixels each output sample reads.
    let counts: [Int]
    /// `outputSize × taps` weights, row `o` for output sample `o`.
    let weights: [Double]
    /// The input size.
    let inputSize: Int

    init(inputSize: Int, outputSize: Int) {
        precondition(inputSize > 0 && outputSize > 0, "cannot resample \(inputSize) samples to \(outputSize)")
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = filterScale  // the triangle's radius, 1, widened by the shrink factor
        let taps = Int(support.rounded(.up)) * 2 + 1
        var starts = [Int](), counts = [Int]()
        var weights = [Double](repeating: 0, count: outputSize * taps)
        for o in 0..<outputSize {
            // PIL's arithmetic, operation for operation so that its 8-bit results are reproduced
            // exactly, in its coordinates (pixel i spans [i, i + 1)); `Int(_:)` truncates like C.
            let center = (Double(o) + 0.5) * scale
            let first = max(Int(center - support + 0.5), 0)
            let end = min(Int(center + support + 0.5), inputSize)
            let row = (first..<end).map { max(0, 1 - abs((Double($0) - center + 0.5) * (1 / filterScale))) }
            let total = row.reduce(0, +)
            for (k, weight) in row.enumerated() {
                weights[o * taps + k] = total == 0 ? weight : weight / total
            }
            starts.append(first)
            counts.append(end - first)
        }
        self.inputSize = inputSize
        self.taps = taps
        self.starts = starts
        self.counts = counts
        self.weights = weights
    }

    var outputSize: Int { starts.count }

    /// PIL's fixed-point weights for 8-bit images: each weight times 2²², rounded half away
    /// from zero (``fixedPointBits``).
    var fixedPointWeights: [Int32] {
        weights.map { Int32(($0 * Double(1 << Self.fixedPointBits)).rounded()) }
    }

    /// The fraction bits of ``fixedPointWeights``: 32 − 8 − 2, as PIL's `PRECISION_BITS`.
    static let fixedPointBits = 22
}
