import CTurboJPEG

extension ImageDecoder {
    /// Decodes a JPEG with TurboJPEG to grey (grayscale JPEGs) or RGB, `H×W×C` interleaved.
    static func decodeJPEG(_ bytes: UnsafeRawBufferPointer, source: String, maxPixels: Int) throws(ImageError) -> Image {
        func failure(_ reason: String) -> ImageError { .invalid(source: source, format: .jpeg, reason: reason) }
        guard let handle = tjInitDecompress() else { throw failure("cannot create a TurboJPEG decompressor") }
        defer { tjDestroy(handle) }
        let jpeg = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let size = UInt(bytes.count)
        func libraryMessage() -> String { String(cString: tjGetErrorStr2(handle)) }

        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        guard tjDecompressHeader3(handle, jpeg, size, &width, &height, &subsampling, &colorspace) == 0 else {
            throw failure(libraryMessage())
        }
        let format: (pixel: TJPF, channels: Int)
        switch UInt32(bitPattern: colorspace) {
        case TJCS_GRAY.rawValue: format = (TJPF_GRAY, 1)
        case TJCS_RGB.rawValue, TJCS_YCbCr.rawValue: format = (TJPF_RGB, 3)
        default: throw failure("CMYK and YCCK JPEGs are not supported")
        }
        try checkDimensions(width: Int(width), height: Int(height), format: .jpeg, maxPixels: maxPixels, source: source)

        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * format.channels)
        let flags = TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS
        let status = pixels.withUnsafeMutableBufferPointer {
            tjDecompress2(handle, jpeg, size, $0.baseAddress, width, 0, height, Int32(format.pixel.rawValue), flags)
        }
        guard status == 0 else { throw failure(libraryMessage()) }
        return Image(width: Int(width), height: Int(height), channels: format.channels, pixels: pixels)
    }
}
