import Engine

/// Turns a decoded image into the tensor a model sees: channel count and order converted, resized
/// to the model's input (bilinear, antialiased when shrinking), scaled and normalised per the
/// model's ``Preprocessing``.
public enum FramePreparation {
    /// The image as the model's `C×H×W` input, in `[0, 1]` after `scale` but before mean/std
    /// (the space the paper's deletion protocol substitutes pixels in).
    ///
    /// - Parameter sourceIsBGR: the image's three channels are blue, green, red (OpenCV arrays).
    public static func scaledPlanes(_ image: Image, for bundle: ModelBundle, sourceIsBGR: Bool = false) -> [Float] {
        var converted = image
        if bundle.channels == 1 {
            converted = (sourceIsBGR && image.channels == 3 ? image.swappingRedAndBlue() : image).grayscale()
        } else {
            converted = image.channels == 1 ? image.rgb() : image
            if (bundle.channelOrder == .bgr) != sourceIsBGR { converted = converted.swappingRedAndBlue() }
        }
        return resizedPlanes(FloatImage(converted), for: bundle)
    }

    /// As ``scaledPlanes(_:for:sourceIsBGR:)`` for float pixels in 0…255 units (a float `.npy`
    /// input), converted without rounding to bytes: grey is `0.299·R + 0.587·G + 0.114·B`.
    public static func scaledPlanes(_ image: FloatImage, for bundle: ModelBundle, sourceIsBGR: Bool = false) -> [Float] {
        var pixels = image.pixels
        var channels = image.channels
        if channels == 3 && (sourceIsBGR != (bundle.channels == 3 && bundle.channelOrder == .bgr)) {
            for i in stride(from: 0, to: pixels.count, by: 3) { pixels.swapAt(i, i + 2) }
        }
        let red = sourceIsBGR && bundle.channels == 1 ? 2 : 0, blue = 2 - red
        if bundle.channels == 1 && channels == 3 {
            pixels = stride(from: 0, to: pixels.count, by: 3).map {
                0.299 * pixels[$0 + red] + 0.587 * pixels[$0 + 1] + 0.114 * pixels[$0 + blue]
            }
            channels = 1
        } else if bundle.channels == 3 && channels == 1 {
            pixels = pixels.flatMap { [$0, $0, $0] }
            channels = 3
        }
        return resizedPlanes(FloatImage(width: image.width, height: image.height, channels: channels, pixels: pixels), for: bundle)
    }

    private static func resizedPlanes(_ image: FloatImage, for bundle: ModelBundle) -> [Float] {
        let resized = image.width == bundle.width && image.height == bundle.height
            ? image : ImageResizer.resize(image, width: bundle.width, height: bundle.height)
        return planar(resized, scale: bundle.preprocessing.scale)
    }

    /// The image as the model's normalised `C×H×W` input.
    public static func tensor(_ image: Image, for bundle: ModelBundle, sourceIsBGR: Bool = false) -> [Float] {
        var planes = scaledPlanes(image, for: bundle, sourceIsBGR: sourceIsBGR)
        bundle.preprocessing.normalise(&planes, channels: bundle.channels)
        return planes
    }

    /// The float image (0…255 units) as the model's normalised `C×H×W` input.
    public static func tensor(_ image: FloatImage, for bundle: ModelBundle, sourceIsBGR: Bool = false) -> [Float] {
        var planes = scaledPlanes(image, for: bundle, sourceIsBGR: sourceIsBGR)
        bundle.preprocessing.normalise(&planes, channels: bundle.channels)
        return planes
    }

    /// `H×W×C` interleaved values times `scale`, as `C×H×W` planes. A scale of `1/n` for a whole
    /// `n` divides by `n` instead, so that `1/255` gives exactly what torchvision's `ToTensor`
    /// (`x / 255`) gives.
    static func planar(_ image: FloatImage, scale: Float) -> [Float] {
        let plane = image.width * image.height
        var result = [Float](repeating: 0, count: plane * image.channels)
        let divisor = (1 / Double(scale)).rounded()
        let divides = abs(1 / Double(scale) - divisor) < 1e-4 && divisor >= 1
        let d = Float(divisor)
        for p in 0..<plane {
            for c in 0..<image.channels {
                let value = image.pixels[p * image.channels + c]
                result[c * plane + p] = divides ? value / d : value * scale
            }
        }
        return result
    }
}
