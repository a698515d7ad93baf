import CPNG

extension ImageDecoder {
    /// Decodes a PNG with libpng's simplified API to 8-bit grey or RGB, `H×W×C` interleaved;
    /// see ``ImageDecoder`` for how 16-bit, palette and alpha inputs are converted.
    static func decodePNG(_ bytes: UnsafeRawBufferPointer, source: String, maxPixels: Int) throws(ImageError) -> Image {
        func failure(_ image: png_image) -> ImageError {
            .invalid(source: source, format: .png, reason: image.messageText)
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        // libpng frees `image` itself whenever one of its calls fails.
        guard png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count) != 0 else {
            throw failure(image)
        }
        let width = Int(image.width), height = Int(image.height)
        do throws(ImageError) {
            try checkDimensions(width: width, height: height, format: .png, maxPixels: maxPixels, source: source)
        } catch {
            png_image_free(&image)
            throw error
        }
        let isColor = image.format & PNG_FORMAT_FLAG_COLOR != 0
        let hasAlpha = image.format & PNG_FORMAT_FLAG_ALPHA != 0
        let channels = isColor ? 3 : 1
        let channelsRead = channels + (hasAlpha ? 1 : 0)
        // Reading with the alpha channel keeps the colour samples as stored; we drop it below.
        image.format = (isColor ? PNG_FORMAT_FLAG_COLOR : 0) | (hasAlpha ? PNG_FORMAT_FLAG_ALPHA : 0)
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)

        var buffer = [UInt8](repeating: 0, count: width * height * channelsRead)
        let status = buffer.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, 0, nil)
        }
        guard status != 0 else { throw failure(image) }
        guard hasAlpha else { return Image(width: width, height: height, channels: channels, pixels: buffer) }
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for pixel in 0..<(width * height) {
            for c in 0..<channels { pixels[pixel * channels + c] = buffer[pixel * channelsRead + c] }
        }
        return Image(width: width, height: height, channels: channels, pixels: pixels)
    }
}

extension png_image {
    /// The error or warning text libpng left in `message` (NUL-terminated, at most 64 bytes).
    var messageText: String {
        withUnsafeBytes(of: message) { raw in
            let text = raw.prefix { $0 != 0 }
            return text.isEmpty ? "libpng reported an unspecified error" : String(decoding: text, as: UTF8.self)
        }
    }
}
