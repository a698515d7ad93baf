/// The paper's deletion evaluation ("allegiance"), exactly as `../shared/PAPER.md` states it:
/// for each percentage `p`, the pixels whose map value is above the value at rank `round(p·H·W)`
/// (0-based, descending, Python's round: ties to even) and non-zero are set to a substitute in
/// every channel of the `[0, 1]` image; allegiance at `p` is the share of images whose predicted
/// class is unchanged; the curve's area is the trapezoid rule over the percentages.
public enum DeletionProtocol {
    /// The paper's percentages, `0, 0.03, 0.05, 0.07, 0.1, 0.2, …, 0.9`.
    public static let percentages: [Double] = [0, 0.03, 0.05, 0.07, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]

    /// The 0-based rank whose value is the threshold for `percentage` of `pixels` pixels.
    public static func rank(percentage: Double, pixels: Int) -> Int {
        Int((percentage * Double(pixels)).rounded(.toNearestOrEven))
    }

    /// The threshold: the value at ``rank(percentage:pixels:)`` of the map sorted descending.
    /// `sortedDescending` is the map's values sorted from largest to smallest.
    public static func threshold(sortedDescending: [Float], percentage: Double) -> Float {
        let rank = rank(percentage: percentage, pixels: sortedDescending.count)
        return sortedDescending[min(rank, sortedDescending.count - 1)]
    }

    /// The pixels deleted at `percentage`: value above the threshold and non-zero.
    public static func selection(map: [Float], percentage: Double) -> [Bool] {
        let threshold = threshold(sortedDescending: map.sorted(by: >), percentage: percentage)
        return map.map { $0 > threshold && $0 != 0 }
    }

    /// `image` (`C×H×W` in `[0, 1]`) with the selected pixels set to `substitute` in every channel.
    public static func substitute(_ image: [Float], channels: Int, selection: [Bool], value: Float) -> [Float] {
        var result = image
        let plane = selection.count
        for p in 0..<plane where selection[p] {
            for c in 0..<channels { result[c * plane + p] = value }
        }
        return result
    }

    /// The area under an allegiance curve sampled at ``percentages``, by the trapezoid rule.
    public static func area(_ curve: [Double], percentages: [Double] = percentages) -> Double {
        precondition(curve.count == percentages.count, "one allegiance value per percentage")
        var area = 0.0
        for i in 1..<percentages.count {
            area += (percentages[i] - percentages[i - 1]) * (curve[i] + curve[i - 1]) / 2
        }
        return area
    }
}
