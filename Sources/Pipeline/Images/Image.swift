/// An 8-bit image, `H×W×C` interleaved and row-major — the layout of `np.asarray(pil_image)`:
/// channel `c` of the pixel at row `y`, column `x` is `pixels[(y·width + x)·channels + c]`.
///
/// `channels` is 1 (grey) or 3 (red, green, blue, in that order). Decoders produce it
/// (``ImageDecoder``), ``PNGEncoder`` writes it, ``ImageResizer`` resizes it and ``HeatMap``
/// renders maps into it.
public struct Image: Sendable, Equatable {
    /// Columns, at least 1.
    public let width: Int
    /// Rows, at least 1.
    public let height: Int
    /// Samples per pixel: 1 (grey) or 3 (RGB).
    public let channels: Int
    /// `height·width·channels` samples, `H×W×C` interleaved, rows top to bottom.
    public let pixels: [UInt8]

    /// Wraps `pixels` (`H×W×C` interleaved); the count must be `height·width·channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "an image has at least one pixel, got \(width)×\(height)")
        precondition(channels == 1 || channels == 3, "an image has 1 (grey) or 3 (RGB) channels, got \(channels)")
        precondition(pixels.count == width * height * channels,
                     "\(width)×\(height)×\(channels) image needs \(width * height * channels) samples, got \(pixels.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// `width·height`.
    public var pixelCount: Int { width * height }
}

/// A float image with the layout of ``Image`` (`H×W×C` interleaved, row-major), for arithmetic
/// such as resizing. Values are not rescaled: converting an ``Image`` keeps 0…255.
public struct FloatImage: Sendable, Equatable {
    /// Columns, at least 1.
    public let width: Int
    /// Rows, at least 1.
    public let height: Int
    /// Samples per pixel (any positive count; 1 and 3 convert back to ``Image``).
    public let channels: Int
    /// `height·width·channels` samples, `H×W×C` interleaved, rows top to bottom.
    public let pixels: [Float]

    /// Wraps `pixels` (`H×W×C` interleaved); the count must be `height·width·channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        precondition(width > 0 && height > 0 && channels > 0, "invalid float image \(width)×\(height)×\(channels)")
        precondition(pixels.count == width * height * channels,
                     "\(width)×\(height)×\(channels) image needs \(width * height * channels) samples, got \(pixels.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// The samples of `image` as floats (0…255), same layout.
    public init(_ image: Image) {
        self.init(width: image.width, height: image.height, channels: image.channels,
                  pixels: image.pixels.map(Float.init))
    }

    /// Rounds every sample to the nearest integer and clamps it to 0…255 (NaN becomes 0).
    /// `channels` must be 1 or 3.
    public func quantized() -> Image {
        Image(width: width, height: height, channels: channels, pixels: pixels.map(Self.byte))
    }

    /// `value` rounded half away from zero and clamped to 0…255; NaN becomes 0.
    static func byte(_ value: Float) -> UInt8 {
        guard value > 0 else { return 0 }
        return value >= 255 ? 255 : UInt8(value.rounded())
    }
}
