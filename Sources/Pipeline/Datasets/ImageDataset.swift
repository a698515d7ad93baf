import Engine
import Foundation

/// A set of 8-bit images of one size with optional labels, as evaluation reads them.
///
/// Images are `N×H×W×C` interleaved (C = 1 for grey, 3 for RGB), row-major.
public struct ImageDataset: Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]
    public var labels: [Int]?
    /// Where it came from, for messages.
    public var source: String

    public var count: Int { pixels.count / max(width * height * channels, 1) }

    /// A dataset problem, naming the file and the reason.
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// The first `limit` images (all when `nil`).
    public func prefix(_ limit: Int?) -> ImageDataset {
        guard let limit, limit < count else { return self }
        var result = self
        result.pixels = Array(pixels[0..<(limit * width * height * channels)])
        result.labels = labels.map { Array($0.prefix(limit)) }
        return result
    }

    /// Image `index` as a `C×H×W` float tensor in `[0, 1]` (planar, the model's layout).
    public func planarImage(_ index: Int) -> [Float] {
        let plane = width * height
        let base = index * plane * channels
        var result = [Float](repeating: 0, count: plane * channels)
        for p in 0..<plane {
            for c in 0..<channels { result[c * plane + p] = Float(pixels[base + p * channels + c]) / 255 }
        }
        return result
    }

    /// Loads a dataset from `path` (use ``ImageFolder`` for a folder of class folders): an IDX images file (`*-images-idx3-ubyte`, gzip or not, labels
    /// read from the `*-labels-idx1-ubyte[.gz]` beside it), or a `.npy` uint8 array `N×H×W` or
    /// `N×H×W×C` with labels from `labels` (a `.npy` or a text file with one integer per line).
    public static func load(_ path: String, labels labelsPath: String? = nil) throws(Error) -> ImageDataset {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw Error(path: path, reason: "is a folder; load folders with ImageFolder.load")
        }
        if path.hasSuffix(".npy") { return try loadNumpy(path, labels: labelsPath) }
        return try loadIDX(path, labels: labelsPath)
    }

    /// Image `index` as an ``Image`` (`H×W×C` bytes).
    public func image(_ index: Int) -> Image {
        let size = width * height * channels
        return Image(width: width, height: height, channels: channels, pixels: Array(pixels[(index * size)..<((index + 1) * size)]))
    }

    private static func read(_ path: String) throws(Error) -> Data {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw Error(path: path, reason: "cannot be read (\(error.localizedDescription))")
        }
        do { return try Gzip.decompressIfNeeded(data, source: path) } catch {
            throw Error(path: path, reason: error.description)
        }
    }

    /// IDX: big-endian magic `0x00 0x00 type ndims`, `ndims` big-endian UInt32 sizes, then data.
    private static func idx(_ path: String) throws(Error) -> (dims: [Int], bytes: [UInt8]) {
        let data = [UInt8](try read(path))
        guard data.count >= 4, data[0] == 0, data[1] == 0, data[2] == 0x08 else {
            throw Error(path: path, reason: "is not an unsigned-byte IDX file")
        }
        let rank = Int(data[3])
        guard data.count >= 4 + 4 * rank else { throw Error(path: path, reason: "IDX header is truncated") }
        let dims = (0..<rank).map { axis in
            (0..<4).reduce(0) { $0 << 8 | Int(data[4 + 4 * axis + $1]) }
        }
        let body = Array(data[(4 + 4 * rank)...])
        guard body.count == dims.reduce(1, *) else {
            throw Error(path: path, reason: "IDX holds \(body.count) bytes, dims \(dims) need \(dims.reduce(1, *))")
        }
        return (dims, body)
    }

    private static func loadIDX(_ path: String, labels labelsPath: String?) throws(Error) -> ImageDataset {
        let (dims, bytes) = try idx(path)
        guard dims.count == 3 || dims.count == 4 else {
            throw Error(path: path, reason: "IDX images must be N×H×W or N×H×W×C, got \(dims)")
        }
        var dataset = ImageDataset(width: dims[2], height: dims[1], channels: dims.count == 4 ? dims[3] : 1,
                                   pixels: bytes, labels: nil, source: path)
        let name = URL(fileURLWithPath: path).lastPathComponent
        let guessed = URL(fileURLWithPath: path).deletingLastPathComponent()
            .appendingPathComponent(name.replacingOccurrences(of: "images-idx3", with: "labels-idx1")).path
        let labelFile = labelsPath ?? (guessed != path && FileManager.default.fileExists(atPath: guessed) ? guessed : nil)
        if let labelFile {
            let (labelDims, labelBytes) = try idx(labelFile)
            guard labelDims == [dataset.count] else {
                throw Error(path: labelFile, reason: "has \(labelDims) labels for \(dataset.count) images")
            }
            dataset.labels = labelBytes.map(Int.init)
        }
        return dataset
    }

    private static func loadNumpy(_ path: String, labels labelsPath: String?) throws(Error) -> ImageDataset {
        let array: NumpyArray
        do { array = try NumpyArray(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw Error(path: path, reason: error.reason)
        }
        guard array.descriptor.hasSuffix("u1"), array.shape.count == 3 || array.shape.count == 4 else {
            throw Error(path: path, reason: "must be a uint8 array N×H×W or N×H×W×C, got '\(array.descriptor)' \(array.shape)")
        }
        var dataset = ImageDataset(width: array.shape[2], height: array.shape[1],
                                   channels: array.shape.count == 4 ? array.shape[3] : 1,
                                   pixels: array.values.map { UInt8($0) }, labels: nil, source: path)
        if let labelsPath {
            if labelsPath.hasSuffix(".npy") {
                do { dataset.labels = try NumpyArray(contentsOf: URL(fileURLWithPath: labelsPath)).values.map { Int($0) } } catch {
                    throw Error(path: labelsPath, reason: error.reason)
                }
            } else {
                let text: String
                do { text = try String(contentsOfFile: labelsPath, encoding: .utf8) } catch {
                    throw Error(path: labelsPath, reason: "cannot be read")
                }
                dataset.labels = text.split(whereSeparator: \.isNewline).compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            }
            guard dataset.labels?.count == dataset.count else {
                throw Error(path: labelsPath, reason: "has \(dataset.labels?.count ?? 0) labels for \(dataset.count) images")
            }
        }
        return dataset
    }
}
