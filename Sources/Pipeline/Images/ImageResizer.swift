/// Resizes images to `width×height` with a bilinear filter that antialiases when shrinking —
/// the resampling of PIL's `Image.resize((width, height), Image.BILINEAR)` and torchvision's
/// `resize(..., antialias=True)`. ``ResamplingKernel`` states the convention: output pixel `o`
/// is centred at input coordinate `(o + 0.5)·scale − 0.5` (`scale = input / output` size,
/// input pixel centres at integers), and weighs the input pixels by a triangle of radius
/// `max(scale, 1)`: plain bilinear interpolation when enlarging, an average over the whole
/// footprint when shrinking, so fine detail blurs rather than aliases.
///
/// Images stay `H×W×C` interleaved. The two axes are resampled one after the other, in Pillow
/// 13's order: horizontal first, unless the height loses more than twice as many pixels as the
/// width (then vertical first). An axis whose size does not change is left untouched, so
/// resizing to the same size is the identity.
public enum ImageResizer: Sendable {
    /// `image` resampled to `width×height` in float arithmetic, with the same channels.
    public static func resize(_ image: FloatImage, width: Int, height: Int) -> FloatImage {
        let pixels = resizePasses(image.pixels, width: image.width, height: image.height, channels: image.channels,
                                  to: width, height, resample: resample)
        return FloatImage(width: width, height: height, channels: image.channels, pixels: pixels)
    }

    /// `image` resampled to `width×height` in PIL's 8-bit arithmetic — weights in fixed point
    /// with 22 fraction bits, each pass rounded to 8 bits — so the result is PIL's, bit for bit.
    public static func resize(_ image: Image, width: Int, height: Int) -> Image {
        let pixels = resizePasses(image.pixels, width: image.width, height: image.height, channels: image.channels,
                                  to: width, height, resample: resample)
        return Image(width: width, height: height, channels: image.channels, pixels: pixels)
    }

    /// Runs the horizontal and vertical passes that change `width×height` to
    /// `newWidth×newHeight`, in Pillow's order. `resample` is one of the two
    /// ``resample(_:outer:inner:kernel:)`` functions.
    private static func resizePasses<Sample>(
        _ pixels: [Sample], width: Int, height: Int, channels: Int, to newWidth: Int, _ newHeight: Int,
        resample: ([Sample], Int, Int, ResamplingKernel) -> [Sample]
    ) -> [Sample] {
        precondition(newWidth > 0 && newHeight > 0, "cannot resize to \(newWidth)×\(newHeight)")
        func horizontal(_ pixels: [Sample], rows: Int) -> [Sample] {
            guard newWidth != width else { return pixels }
            return resample(pixels, rows, channels, ResamplingKernel(inputSize: width, outputSize: newWidth))
        }
        func vertical(_ pixels: [Sample], columns: Int) -> [Sample] {
            guard newHeight != height else { return pixels }
            return resample(pixels, 1, columns * channels, ResamplingKernel(inputSize: height, outputSize: newHeight))
        }
        let verticalFirst = height - newHeight > 0 && height - newHeight > 2 * (width - newWidth)
        return verticalFirst
            ? horizontal(vertical(pixels, columns: width), rows: newHeight)
            : vertical(horizontal(pixels, rows: height), columns: newWidth)
    }

    /// Resamples the middle axis of an `outer × kernel.inputSize × inner` array to
    /// `kernel.outputSize`: rows (`outer = H`, `inner = C`) or columns (`outer = 1`, `inner = W·C`).
    static func resample(_ input: [Float], outer: Int, inner: Int, kernel: ResamplingKernel) -> [Float] {
        let weights = kernel.weights.map { Float($0) }
        var output = [Float](repeating: 0, count: outer * kernel.outputSize * inner)
        input.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                for line in 0..<outer {
                    for o in 0..<kernel.outputSize {
                        let target = (line * kernel.outputSize + o) * inner
                        for k in 0..<kernel.counts[o] {
                            let weight = weights[o * kernel.taps + k]
                            let source = (line * kernel.inputSize + kernel.starts[o] + k) * inner
                            for i in 0..<inner { output[target + i] += weight * input[source + i] }
                        }
                    }
                }
            }
        }
        return output
    }

    /// ``resample(_:outer:inner:kernel:)`` for 8-bit samples in PIL's fixed point: sums start at
    /// one half (2²¹), are shifted right by 22 bits (rounding half up) and clamped to 0…255.
    static func resample(_ input: [UInt8], outer: Int, inner: Int, kernel: ResamplingKernel) -> [UInt8] {
        let weights = kernel.fixedPointWeights, bits = ResamplingKernel.fixedPointBits
        var output = [UInt8](repeating: 0, count: outer * kernel.outputSize * inner)
        var sums = [Int32](repeating: 0, count: inner)
        input.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                for line in 0..<outer {
                    for o in 0..<kernel.outputSize {
                        for i in 0..<inner { sums[i] = 1 << (bits - 1) }
                        for k in 0..<kernel.counts[o] {
                            let weight = weights[o * kernel.taps + k]
                            let source = (line * kernel.inputSize + kernel.starts[o] + k) * inner
                            for i in 0..<inner { sums[i] &+= Int32(input[source + i]) &* weight }
                        }
                        let target = (line * kernel.outputSize + o) * inner
                        for i in 0..<inner { output[target + i] = UInt8(clamping: sums[i] >> bits) }
                    }
                }
            }
        }
        return output
    }
}
