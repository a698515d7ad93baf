import Foundation

extension NumpyArray {
    /// `.npy` (version 1.0) bytes of a float32 C-order array of `shape`.
    public static func float32Data(_ values: [Float], shape: [Int]) -> Data {
        precondition(values.count == shape.reduce(1, *), "NumpyArray: \(values.count) values for shape \(shape)")
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBufferPointer { buffer in
            for value in buffer {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    /// Writes a float32 `.npy` file.
    public static func write(_ values: [Float], shape: [Int], to url: URL) throws {
        try float32Data(values, shape: shape).write(to: url, options: .atomic)
    }
}
