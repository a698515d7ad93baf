import Foundation

/// A compressed image format the decoder reads, recognised by its leading signature bytes.
public enum ImageFormat: String, Sendable, Equatable {
    /// JPEG (`FF D8 FF`), decoded by libjpeg-turbo's TurboJPEG API.
    case jpeg = "JPEG"
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`), decoded by libpng's simplified API.
    case png = "PNG"

    /// The format whose signature `bytes` start with, or `nil`.
    init?(signatureOf bytes: UnsafeRawBufferPointer) {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else {
            return nil
        }
    }
}

/// Decodes JPEG and PNG bytes into an 8-bit ``Image`` (`H×W×C` interleaved): grey sources
/// (a grayscale JPEG, a grey or grey+alpha PNG) give 1 channel, everything else RGB.
///
/// - JPEG: TurboJPEG with the accurate integer DCT (`TJFLAG_ACCURATEDCT`, libjpeg's default and
///   PIL's), fancy upsampling of subsampled chroma, at most 500 progressive scans. Any libjpeg
///   warning (a truncated or corrupt stream) is an error. CMYK/YCCK JPEGs are rejected.
/// - PNG: libpng's simplified API, to 8-bit grey or RGB. Palettes are expanded; 16-bit samples
///   are scaled to 8 bits with rounding (`round(v·255/65535)`), read as sRGB unless a gAMA, sRGB
///   or iCCP chunk says otherwise; a file gamma other than sRGB's is converted to sRGB. An alpha
///   channel (or tRNS transparency) is dropped — the colour samples are kept as stored, not
///   composited — as PIL's `convert("RGB")` does.
///
/// Nothing here crashes on garbage: every failure is an ``ImageError`` naming `source`.
public enum ImageDecoder: Sendable {
    /// The default bound on `width·height`: 8192×8192.
    public static let defaultMaxPixels = 8192 * 8192

    /// Decodes `bytes`, sniffing the format by signature. `source` names the bytes in errors
    /// (a file name, `frame 17 of source cam0`); an image with more than `maxPixels` pixels is
    /// rejected from its header, before anything is allocated.
    public static func decode(_ bytes: some ContiguousBytes, source: String,
                              maxPixels: Int = defaultMaxPixels) throws(ImageError) -> Image {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(ImageError) in try decode(buffer: buffer, source: source, maxPixels: maxPixels) }
        }.get()
    }

    /// Reads and decodes the file at `url`; errors name its path.
    public static func decode(contentsOf url: URL, maxPixels: Int = defaultMaxPixels) throws(ImageError) -> Image {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(source: url.path, reason: error.localizedDescription)
        }
        return try decode(data, source: url.path, maxPixels: maxPixels)
    }

    static func decode(buffer bytes: UnsafeRawBufferPointer, source: String, maxPixels: Int) throws(ImageError) -> Image {
        switch ImageFormat(signatureOf: bytes) {
        case .jpeg: return try decodeJPEG(bytes, source: source, maxPixels: maxPixels)
        case .png: return try decodePNG(bytes, source: source, maxPixels: maxPixels)
        case nil: throw .unknownFormat(source: source, leadingBytes: Array(bytes.prefix(8)))
        }
    }

    /// Rejects a header's size: empty, or more than `maxPixels` pixels.
    static func checkDimensions(width: Int, height: Int, format: ImageFormat, maxPixels: Int,
                                source: String) throws(ImageError) {
        guard width > 0, height > 0 else {
            throw .invalid(source: source, format: format, reason: "empty image (\(width)×\(height))")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || pixels > maxPixels {
            throw .tooLarge(source: source, width: width, height: height, maxPixels: maxPixels)
        }
    }
}
