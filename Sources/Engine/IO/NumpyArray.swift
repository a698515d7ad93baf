import Foundation

/// An array read from a NumPy `.npy` file (format versions 1–3): C-order `float32`, `float64`,
/// `uint8`, `int32` or `int64` data, widened or narrowed to `Float`.
public struct NumpyArray: Sendable, Equatable {
    /// The array's shape, outermost first.
    public var shape: [Int]
    /// The values in C (row-major) order.
    public var values: [Float]
    /// The NumPy type descriptor the file declared (e.g. `<f4`, `|u1`).
    public var descriptor: String

    /// Why a `.npy` file could not be read; names the file.
    public struct ReadError: Error, CustomStringConvertible, Equatable {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Reads the `.npy` file at `url`.
    public init(contentsOf url: URL) throws(ReadError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ReadError(path: url.path, reason: "cannot be read (\(error.localizedDescription))")
        }
        try self.init(data: data, path: url.path)
    }

    /// Decodes `.npy` bytes; `path` names them in errors.
    public init(data: Data, path: String = "<memory>") throws(ReadError) {
        let bytes = [UInt8](data)
        func fail(_ reason: String) -> ReadError { ReadError(path: path, reason: reason) }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw fail("is not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerStart = major == 1 ? 10 : 12
        guard major >= 1 && major <= 3, bytes.count >= headerStart else { throw fail("unsupported .npy version \(major)") }
        let headerLength = major == 1
            ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard bytes.count >= headerStart + headerLength,
              let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1)
        else { throw fail("header is truncated") }

        guard let descriptor = Self.field("descr", in: header)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\" ")) else {
            throw fail("header has no 'descr'")
        }
        guard Self.field("fortran_order", in: header)?.trimmingCharacters(in: .whitespaces) != "True" else {
            throw fail("Fortran-order arrays are not supported")
        }
        guard let shapeText = Self.field("shape", in: header) else { throw fail("header has no 'shape'") }
        let shape = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .compactMap { Int($0) }
        let count = shape.reduce(1, *)

        let elementSize: Int
        switch descriptor {
        case "<f4", "<i4": elementSize = 4
        case "<f8", "<i8": elementSize = 8
        case "|u1", "<u1", "u1": elementSize = 1
        default: throw fail("dtype '\(descriptor)' is not supported (float32, float64, uint8, int32, int64)")
        }
        let body = headerStart + headerLength
        guard bytes.count - body == count * elementSize else {
            throw fail("holds \(bytes.count - body) data bytes, shape \(shape) of '\(descriptor)' needs \(count * elementSize)")
        }
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let base = body
            for i in 0..<count {
                let offset = base + i * elementSize
                switch descriptor {
                case "<f4": values[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                case "<f8": values[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
                case "<i4": values[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
                case "<i8": values[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
                default: values[i] = Float(raw[offset])
                }
            }
        }
        self.shape = shape
        self.values = values
        self.descriptor = descriptor
    }

    /// The text of `key`'s value in the header dictionary (up to the next top-level comma).
    private static func field(_ key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\""),
              let colon = header[keyRange.upperBound...].firstIndex(of: ":") else { return nil }
        var depth = 0
        var end = header.index(after: colon)
        while end < header.endIndex {
            let character = header[end]
            if character == "(" || character == "[" { depth += 1 }
            if character == ")" || character == "]" { depth -= 1 }
            if (character == "," && depth == 0) || character == "}" { break }
            end = header.index(after: end)
        }
        return String(header[header.index(after: colon)..<end])
    }
}
