extension Image {
    /// The image in grey (1 channel). RGB is weighted by ITU-R BT.601 exactly as PIL's
    /// `convert("L")` does it: `L = (19595·R + 38470·G + 7471·B + 2¹⁵) >> 16`, the fixed-point
    /// form of `R·299/1000 + G·587/1000 + B·114/1000`, rounded. A grey image is returned as is.
    public func grayscale() -> Image {
        guard channels == 3 else { return self }
        var gray = [UInt8](repeating: 0, count: pixelCount)
        pixels.withUnsafeBufferPointer { rgb in
            for i in gray.indices {
                let r = UInt32(rgb[3 * i]), g = UInt32(rgb[3 * i + 1]), b = UInt32(rgb[3 * i + 2])
                gray[i] = UInt8((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16)
            }
        }
        return Image(width: width, height: height, channels: 1, pixels: gray)
    }

    /// The image in RGB (3 channels): a grey sample is repeated in R, G and B. An RGB image is
    /// returned as is.
    public func rgb() -> Image {
        guard channels == 1 else { return self }
        var rgb = [UInt8](repeating: 0, count: 3 * pixelCount)
        for (i, value) in pixels.enumerated() {
            rgb[3 * i] = value
            rgb[3 * i + 1] = value
            rgb[3 * i + 2] = value
        }
        return Image(width: width, height: height, channels: 3, pixels: rgb)
    }

    /// The image with its first and third channels exchanged: BGR (OpenCV's order) to RGB, or
    /// back. A grey image is returned as is.
    public func swappingRedAndBlue() -> Image {
        guard channels == 3 else { return self }
        var swapped = pixels
        for i in stride(from: 0, to: swapped.count, by: 3) { swapped.swapAt(i, i + 2) }
        return Image(width: width, height: height, channels: 3, pixels: swapped)
    }
}
