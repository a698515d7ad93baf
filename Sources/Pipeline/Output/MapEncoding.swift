/// How a map's `H×W` floats travel in its binary frame (little-endian, row-major).
public enum MapEncoding: String, Sendable, Codable, CaseIterable {
    /// IEEE float32, 4 bytes per pixel: the raw map.
    case f32
    /// IEEE float16, 2 bytes per pixel (rounded to nearest).
    case f16
    /// One byte per pixel: `round(255·(v − min)/(max − min))`, 0 everywhere when max = min;
    /// `v ≈ min + byte·(max − min)/255` restores the scale from the header's min and max.
    case u8

    /// The `dtype` the header gives, numpy's name for it.
    public var dtype: String {
        switch self {
        case .f32: "float32"
        case .f16: "float16"
        case .u8: "uint8"
        }
    }

    /// `map` encoded; `minimum` and `maximum` are its range (for ``u8``).
    public func encode(_ map: [Float], minimum: Float, maximum: Float) -> [UInt8] {
        switch self {
        case .f32:
            var bytes = [UInt8](repeating: 0, count: map.count * 4)
            bytes.withUnsafeMutableBytes { raw in
                for (index, value) in map.enumerated() {
                    raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: index * 4, as: UInt32.self)
                }
            }
            return bytes
        case .f16:
            var bytes = [UInt8](repeating: 0, count: map.count * 2)
            bytes.withUnsafeMutableBytes { raw in
                for (index, value) in map.enumerated() {
                    raw.storeBytes(of: Float16(value).bitPattern.littleEndian, toByteOffset: index * 2, as: UInt16.self)
                }
            }
            return bytes
        case .u8:
            let range = maximum - minimum
            guard range > 0 else { return [UInt8](repeating: 0, count: map.count) }
            return map.map { UInt8(min(255, max(0, (255 * ($0 - minimum) / range).rounded()))) }
        }
    }
}
