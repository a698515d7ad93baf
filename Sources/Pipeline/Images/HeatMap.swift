/// Renders raw `H×W` saliency maps (`[Float]`, row-major, as ``Engine`` produces them) as RGB
/// ``Image``s, and blends them over the input image.
public enum HeatMap: Sendable {
    /// The map `values` (`height×width`, row-major) normalised to the colour map's domain:
    ///
    /// - sequential maps are min–max normalised to 0…1; a map whose max equals its min becomes
    ///   all zeros (as `PAPER.md` decides);
    /// - diverging (signed) maps are divided by their largest absolute value, to −1…1, so 0 stays
    ///   0 (neutral); an all-zero map stays all zeros.
    ///
    /// Non-finite values are ignored when finding the range and map to 0.
    public static func normalized(_ values: [Float], for kind: ColorMap.Kind) -> [Float] {
        let finite = values.lazy.filter(\.isFinite)
        switch kind {
        case .sequential:
            guard let low = finite.min(), let high = finite.max(), high > low else {
                return [Float](repeating: 0, count: values.count)
            }
            return values.map { $0.isFinite ? ($0 - low) / (high - low) : 0 }
        case .diverging:
            let scale = finite.map(abs).max() ?? 0
            guard scale > 0 else { return [Float](repeating: 0, count: values.count) }
            return values.map { $0.isFinite ? $0 / scale : 0 }
        }
    }

    /// The map `values` (`height×width`, row-major) as a `height×width×3` RGB image: normalised
    /// for `colorMap`'s kind (see ``normalized(_:for:)``) and coloured by it. Use a sequential map
    /// (``ColorMap/viridis``) for unsigned maps and a diverging one (``ColorMap/redBlue``) for
    /// signed maps.
    public static func render(_ values: [Float], width: Int, height: Int, colorMap: ColorMap = .viridis) -> Image {
        precondition(values.count == width * height, "a \(width)×\(height) map has \(width * height) values, got \(values.count)")
        var pixels = [UInt8](repeating: 0, count: 3 * values.count)
        for (i, value) in normalized(values, for: colorMap.kind).enumerated() {
            let color = colorMap.color(value)
            pixels[3 * i] = color.x
            pixels[3 * i + 1] = color.y
            pixels[3 * i + 2] = color.z
        }
        return Image(width: width, height: height, channels: 3, pixels: pixels)
    }

    /// `heatMap` blended over `image`: `image` is converted to RGB and resized to the heat map's
    /// size (``ImageResizer``), then each sample is `round((1 − alpha)·image + alpha·heatMap)`.
    /// `heatMap` must be RGB; `alpha` is in 0…1 (0 shows only the image, 1 only the heat map).
    public static func overlay(_ heatMap: Image, on image: Image, alpha: Float = 0.5) -> Image {
        precondition(heatMap.channels == 3, "the heat map must be RGB, got \(heatMap.channels) channels")
        precondition((0...1).contains(alpha), "alpha must be in 0…1, got \(alpha)")
        let base = ImageResizer.resize(image.rgb(), width: heatMap.width, height: heatMap.height)
        let pixels = zip(base.pixels, heatMap.pixels).map { background, heat in
            FloatImage.byte((1 - alpha) * Float(background) + alpha * Float(heat))
        }
        return Image(width: heatMap.width, height: heatMap.height, channels: 3, pixels: pixels)
    }
}
