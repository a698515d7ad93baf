/// The shape of a tensor, outermost dimension first (row-major, C-contiguous).
///
/// Activations in the engine are described by their *frame* shape — the shape of one image's
/// tensor without the leading batch dimension: `C×H×W` for feature maps, `F` for feature vectors.
/// A batch of `N` frames is stored as `N` frames back to back (`N×C×H×W`).
public struct TensorShape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    /// The extent of each dimension, outermost first.
    public var dimensions: [Int]

    public init(_ dimensions: [Int]) { self.dimensions = dimensions }
    public init(arrayLiteral elements: Int...) { self.dimensions = elements }

    /// Number of dimensions.
    public var rank: Int { dimensions.count }
    /// Number of elements (1 for a scalar, rank 0).
    public var elementCount: Int { dimensions.reduce(1, *) }
    public subscript(index: Int) -> Int { dimensions[index] }

    /// `true` when every dimension is positive.
    public var isValid: Bool { dimensions.allSatisfy { $0 > 0 } }

    /// Row-major strides, in elements.
    public var strides: [Int] {
        var result = [Int](repeating: 1, count: rank)
        var running = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            result[axis] = running
            running *= dimensions[axis]
        }
        return result
    }

    /// The shape read as `C×H×W` (channels, height, width); `nil` unless the rank is 3.
    public var channelsHeightWidth: (channels: Int, height: Int, width: Int)? {
        rank == 3 ? (dimensions[0], dimensions[1], dimensions[2]) : nil
    }

    public var description: String {
        rank == 0 ? "[]" : dimensions.map(String.init).joined(separator: "×")
    }
}
