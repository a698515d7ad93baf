// Reading ONNX model files on top of the generated `Onnx_*` protobuf types (Generated/onnx.pb.swift).
//
// Everything here treats file contents as untrusted: sizes, offsets and counts are checked
// explicitly before any memory is touched, because the Engine target is built with -Ounchecked
// in release, where Swift's own bounds and overflow traps are removed.

import Foundation
import SwiftProtobuf

// MARK: - Errors

/// Everything that can go wrong while reading an ONNX model, tensor or node attribute.
///
/// Each message names the file, tensor or node involved and the reason, so it can be shown to
/// an operator as is.
enum ONNXFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No file exists at `path`.
    case fileNotFound(path: String)
    /// The file exists but could not be read (a directory, no permission, an I/O error).
    case unreadableFile(path: String, reason: String)
    /// The bytes are not a valid protobuf message (empty, truncated or corrupt).
    case invalidProtobuf(path: String, reason: String)
    /// The protobuf decoded but is not a usable model (for example it has no graph).
    case invalidModel(path: String, reason: String)
    /// The default-domain ("" / "ai.onnx") opset is outside the supported range.
    case unsupportedOpset(path: String, version: Int, supported: ClosedRange<Int>)
    /// The tensor's element type cannot be decoded (or not into the requested kind of value).
    case unsupportedDataType(tensor: String, dataType: String, reason: String)
    /// The tensor's stored data does not agree with its dims (byte or element count, bad dims).
    case tensorDataMismatch(tensor: String, reason: String)
    /// The tensor's external data could not be located or read safely.
    case invalidExternalData(tensor: String, reason: String)
    /// A required attribute is absent from the node.
    case missingAttribute(node: String, opType: String, attribute: String)
    /// The attribute exists but has another type or an unusable value.
    case invalidAttribute(node: String, opType: String, attribute: String, reason: String)

    var description: String {
        switch self {
        case .fileNotFound(let path):
            return "ONNX file \(path): no such file"
        case .unreadableFile(let path, let reason):
            return "ONNX file \(path): cannot be read: \(reason)"
        case .invalidProtobuf(let path, let reason):
            return "ONNX file \(path): not a valid protobuf message (truncated or corrupt?): \(reason)"
        case .invalidModel(let path, let reason):
            return "ONNX file \(path): not a usable model: \(reason)"
        case .unsupportedOpset(let path, let version, let supported):
            return "ONNX file \(path): default-domain opset \(version) is not supported "
                + "(supported: \(supported.lowerBound)...\(supported.upperBound))"
        case .unsupportedDataType(let tensor, let dataType, let reason):
            return "ONNX tensor \(Self.quoted(tensor)): data type \(dataType) \(reason)"
        case .tensorDataMismatch(let tensor, let reason):
            return "ONNX tensor \(Self.quoted(tensor)): \(reason)"
        case .invalidExternalData(let tensor, let reason):
            return "ONNX tensor \(Self.quoted(tensor)): external data: \(reason)"
        case .missingAttribute(let node, let opType, let attribute):
            return "ONNX node \(Self.quoted(node)) (\(opType)): required attribute \"\(attribute)\" is missing"
        case .invalidAttribute(let node, let opType, let attribute, let reason):
            return "ONNX node \(Self.quoted(node)) (\(opType)): attribute \"\(attribute)\" \(reason)"
        }
    }

    private static func quoted(_ name: String) -> String {
        name.isEmpty ? "<unnamed>" : "\"\(name)\""
    }
}

// MARK: - Model file

/// An ONNX model decoded from a file, remembering where it came from so that tensors stored as
/// external data can be found next to it.
struct ONNXModelFile: Sendable {
    /// Default-domain opset versions this engine implements.
    static let supportedOpsets: ClosedRange<Int> = 11...21

    /// The file the model was read from; external data paths are relative to its folder.
    let url: URL
    /// The decoded model.
    let model: Onnx_ModelProto

    /// The folder holding the model file, the root for external data.
    var directory: URL { url.deletingLastPathComponent() }

    /// Reads and decodes the model at `url`.
    ///
    /// Throws ``ONNXFileError`` for a missing or unreadable file, bytes that are not a complete
    /// protobuf message, or a message without a graph or opset imports (which is what a file cut
    /// short at a field boundary decodes to).
    init(contentsOf url: URL) throws(ONNXFileError) {
        let bytes = try readFile(url)
        try self.init(serializedBytes: bytes, url: url)
    }

    /// Decodes a model from bytes already in memory; `url` names it in errors and anchors
    /// external data.
    init(serializedBytes bytes: Data, url: URL) throws(ONNXFileError) {
        let model: Onnx_ModelProto = try decodeMessage(bytes, path: url.path)
        guard model.hasGraph else {
            throw .invalidModel(path: url.path, reason: "it has no graph")
        }
        guard !model.opsetImport.isEmpty else {
            throw .invalidModel(path: url.path, reason: "it has no opset_import")
        }
        self.url = url
        self.model = model
    }

    /// The opset version imported for the default ONNX domain ("" or "ai.onnx").
    ///
    /// Throws if the model imports none, imports conflicting versions, or one outside
    /// ``supportedOpsets``.
    func defaultDomainOpsetVersion() throws(ONNXFileError) -> Int {
        let versions = Set(model.opsetImport.filter { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map(\.version))
        guard let version = versions.first else {
            throw .invalidModel(path: url.path, reason: "it imports no opset for the default domain")
        }
        guard versions.count == 1 else {
            throw .invalidModel(
                path: url.path, reason: "it imports conflicting default-domain opsets \(versions.sorted())")
        }
        guard let supported = Int(exactly: version), Self.supportedOpsets.contains(supported) else {
            throw .unsupportedOpset(path: url.path, version: Int(clamping: version), supported: Self.supportedOpsets)
        }
        return supported
    }

    /// Decodes one of this model's tensors (an initializer or a tensor attribute), reading
    /// external data relative to the model's folder.
    func tensorData(_ tensor: Onnx_TensorProto) throws(ONNXFileError) -> ONNXTensorData {
        try ONNXTensorData(tensor, externalDataDirectory: directory)
    }
}

// MARK: - Tensor data

/// The decoded values and shape of an `Onnx_TensorProto`.
///
/// Floating-point tensors (FLOAT, FLOAT16, DOUBLE) are read with ``floats()``, integer tensors
/// meant for shapes and axes (INT32, INT64) with ``ints()``; UINT8, INT8 and BOOL can be read
/// either way. Other element types are rejected when decoding.
struct ONNXTensorData: Sendable, Equatable {
    /// Decoded element storage: floating-point types widen or narrow to `Float`, integer types
    /// to `Int`.
    private enum Values: Sendable, Equatable {
        case floats([Float])
        case ints([Int])
    }

    /// The tensor's name ("" when unnamed).
    let name: String
    /// The ONNX element type.
    let dataType: Onnx_TensorProto.DataType
    /// The shape; empty for a scalar.
    let dims: [Int]
    private let values: Values

    /// Number of elements (the product of ``dims``; 1 for a scalar).
    var count: Int {
        switch values {
        case .floats(let floats): floats.count
        case .ints(let ints): ints.count
        }
    }

    /// Reads a file holding one serialized `TensorProto` (as in ONNX's `test_data_set_*/*.pb`)
    /// and decodes it; external data is looked up next to the file.
    init(contentsOf url: URL) throws(ONNXFileError) {
        let tensor: Onnx_TensorProto = try decodeMessage(try readFile(url), path: url.path)
        try self.init(tensor, externalDataDirectory: url.deletingLastPathComponent())
    }

    /// Decodes `tensor`'s values from `raw_data` (little-endian), the typed repeated field, or
    /// external data under `externalDataDirectory` (an error if that is `nil` and needed).
    init(_ tensor: Onnx_TensorProto, externalDataDirectory: URL? = nil) throws(ONNXFileError) {
        let name = tensor.name
        let typeName = onnxDataTypeName(tensor.dataType)
        guard let dataType = Onnx_TensorProto.DataType(rawValue: Int(tensor.dataType)),
              let elementSize = dataType.decodableElementSize
        else {
            throw .unsupportedDataType(tensor: name, dataType: typeName, reason: "is not supported")
        }
        guard !tensor.hasSegment else {
            throw .tensorDataMismatch(tensor: name, reason: "segmented tensors are not supported")
        }

        var dims: [Int] = []
        var count = 1
        for dim in tensor.dims {
            guard dim >= 0, let value = Int(exactly: dim) else {
                throw .tensorDataMismatch(tensor: name, reason: "negative dimension in dims \(tensor.dims)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: value)
            guard !overflow else {
                throw .tensorDataMismatch(tensor: name, reason: "dims \(tensor.dims) overflow the element count")
            }
            dims.append(value)
            count = product
        }

        let raw: Data?
        if tensor.dataLocation == .external {
            raw = try readExternalData(of: tensor, directory: externalDataDirectory)
        } else {
            raw = tensor.hasRawData ? tensor.rawData : nil
        }

        let values: Values
        if let raw {
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: elementSize)
            guard !overflow, raw.count == byteCount else {
                throw .tensorDataMismatch(
                    tensor: name,
                    reason: "raw data has \(raw.count) bytes but dims \(dims) of \(typeName) need "
                        + (overflow ? "more than Int.max" : "\(byteCount)"))
            }
            values = Self.decodeRaw(raw, as: dataType, count: count)
        } else {
            values = Self.decodeTyped(tensor, as: dataType)
            let stored = switch values {
            case .floats(let floats): floats.count
            case .ints(let ints): ints.count
            }
            guard stored == count else {
                throw .tensorDataMismatch(
                    tensor: name, reason: "holds \(stored) \(typeName) values but dims \(dims) need \(count)")
            }
        }
        self.name = name
        self.dataType = dataType
        self.dims = dims
        self.values = values
    }

    /// The elements as `Float` (FLOAT, FLOAT16, DOUBLE, UINT8, INT8, BOOL as 0/1).
    ///
    /// INT32/INT64 tensors hold shapes, axes or indices: read them with ``ints()``.
    func floats() throws(ONNXFileError) -> [Float] {
        switch values {
        case .floats(let floats):
            return floats
        case .ints(let ints) where dataType == .uint8 || dataType == .int8 || dataType == .bool:
            return ints.map { Float($0) }
        case .ints:
            throw .unsupportedDataType(
                tensor: name, dataType: onnxDataTypeName(Int32(dataType.rawValue)),
                reason: "cannot be read as floats (read it with ints())")
        }
    }

    /// The elements as `Int` (INT64, INT32, UINT8, INT8, BOOL as 0/1), e.g. for shapes and axes.
    func ints() throws(ONNXFileError) -> [Int] {
        switch values {
        case .ints(let ints):
            return ints
        case .floats:
            throw .unsupportedDataType(
                tensor: name, dataType: onnxDataTypeName(Int32(dataType.rawValue)),
                reason: "cannot be read as integers (read it with floats())")
        }
    }

    /// Decodes little-endian `raw`, whose size the caller has checked is `count` elements.
    private static func decodeRaw(_ raw: Data, as dataType: Onnx_TensorProto.DataType, count: Int) -> Values {
        switch dataType {
        case .float: .floats(littleEndian(raw, count, UInt32.self).map(Float.init(bitPattern:)))
        case .float16: .floats(littleEndian(raw, count, UInt16.self).map(floatFromHalfBits))
        case .double: .floats(littleEndian(raw, count, UInt64.self).map { Float(Double(bitPattern: $0)) })
        case .int64: .ints(littleEndian(raw, count, Int64.self).map { Int($0) })
        case .int32: .ints(littleEndian(raw, count, Int32.self).map { Int($0) })
        case .int8: .ints(raw.map { Int(Int8(bitPattern: $0)) })
        case .uint8: .ints(raw.map { Int($0) })
        case .bool: .ints(raw.map { $0 == 0 ? 0 : 1 })
        default: .ints([])  // unreachable: `decodableElementSize` admits only the types above
        }
    }

    /// Decodes the type-specific repeated field that ONNX uses when `raw_data` is absent.
    private static func decodeTyped(_ tensor: Onnx_TensorProto, as dataType: Onnx_TensorProto.DataType) -> Values {
        switch dataType {
        case .float: .floats(tensor.floatData)
        case .float16: .floats(tensor.int32Data.map { floatFromHalfBits(UInt16(truncatingIfNeeded: $0)) })
        case .double: .floats(tensor.doubleData.map { Float($0) })
        case .int64: .ints(tensor.int64Data.map { Int($0) })
        case .int32, .int8, .uint8: .ints(tensor.int32Data.map { Int($0) })
        case .bool: .ints(tensor.int32Data.map { $0 == 0 ? 0 : 1 })
        default: .ints([])  // unreachable: `decodableElementSize` admits only the types above
        }
    }

    /// Reads `count` little-endian `T`s from `raw`, which must hold exactly that many bytes.
    private static func littleEndian<T: FixedWidthInteger>(_ raw: Data, _ count: Int, _: T.Type) -> [T] {
        let size = MemoryLayout<T>.size
        assert(raw.count == count * size, "caller checks the byte count")
        return raw.withUnsafeBytes { bytes in
            (0..<count).map { T(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * size, as: T.self)) }
        }
    }
}

// MARK: - Node attributes

extension Onnx_NodeProto {
    /// The attribute called `name`, if the node has one.
    func attribute(named name: String) -> Onnx_AttributeProto? {
        attribute.first { $0.name == name }
    }

    /// The INT attribute `name`, or `defaultValue` when absent (an error if that is `nil`).
    func intAttribute(_ name: String, default defaultValue: Int? = nil) throws(ONNXFileError) -> Int {
        try attributeValue(name, .int, defaultValue) { Int($0.i) }
    }

    /// The INTS attribute `name`, or `defaultValue` when absent (an error if that is `nil`).
    func intsAttribute(_ name: String, default defaultValue: [Int]? = nil) throws(ONNXFileError) -> [Int] {
        try attributeValue(name, .ints, defaultValue) { $0.ints.map { Int($0) } }
    }

    /// The FLOAT attribute `name`, or `defaultValue` when absent (an error if that is `nil`).
    func floatAttribute(_ name: String, default defaultValue: Float? = nil) throws(ONNXFileError) -> Float {
        try attributeValue(name, .float, defaultValue) { $0.f }
    }

    /// The FLOATS attribute `name`, or `defaultValue` when absent (an error if that is `nil`).
    func floatsAttribute(_ name: String, default defaultValue: [Float]? = nil) throws(ONNXFileError) -> [Float] {
        try attributeValue(name, .floats, defaultValue) { $0.floats }
    }

    /// The STRING attribute `name` decoded as UTF-8, or `defaultValue` when absent (an error if
    /// that is `nil`); bytes that are not UTF-8 are an error.
    func stringAttribute(_ name: String, default defaultValue: String? = nil) throws(ONNXFileError) -> String {
        let bytes = try attributeValue(name, .string, defaultValue.map { Data($0.utf8) }) { $0.s }
        guard let string = String(data: bytes, encoding: .utf8) else {
            throw .invalidAttribute(node: self.name, opType: opType, attribute: name, reason: "is not valid UTF-8")
        }
        return string
    }

    /// The TENSOR attribute `name` (decode it with ``ONNXModelFile/tensorData(_:)``), or
    /// `defaultValue` when absent (an error if that is `nil`).
    func tensorAttribute(
        _ name: String, default defaultValue: Onnx_TensorProto? = nil
    ) throws(ONNXFileError) -> Onnx_TensorProto {
        try attributeValue(name, .tensor, defaultValue) { $0.t }
    }

    /// Looks `name` up, checks it has type `expected`, and extracts its value.
    private func attributeValue<T>(
        _ name: String, _ expected: Onnx_AttributeProto.AttributeType, _ defaultValue: T?,
        _ extract: (Onnx_AttributeProto) -> T
    ) throws(ONNXFileError) -> T {
        guard let attribute = attribute(named: name) else {
            guard let defaultValue else {
                throw .missingAttribute(node: self.name, opType: opType, attribute: name)
            }
            return defaultValue
        }
        let actual = attribute.effectiveType
        // An untyped attribute with no value set is an empty list in models that predate `type`.
        let isEmptyUntypedList = actual == .undefined && [.ints, .floats].contains(expected)
        guard actual == expected || isEmptyUntypedList else {
            throw .invalidAttribute(
                node: self.name, opType: opType, attribute: name,
                reason: "has type \(actual.onnxName), expected \(expected.onnxName)")
        }
        return extract(attribute)
    }
}

extension Onnx_AttributeProto {
    /// The declared `type`, or for old models that omit it, the type implied by the field set.
    fileprivate var effectiveType: AttributeType {
        if hasType { return type }
        if hasF { return .float }
        if hasI { return .int }
        if hasS { return .string }
        if hasT { return .tensor }
        if !floats.isEmpty { return .floats }
        if !ints.isEmpty { return .ints }
        if !strings.isEmpty { return .strings }
        if !tensors.isEmpty { return .tensors }
        return .undefined
    }
}

extension Onnx_AttributeProto.AttributeType {
    /// The name ONNX uses for this type (e.g. "INTS").
    fileprivate var onnxName: String {
        switch self {
        case .undefined: "UNDEFINED"
        case .float: "FLOAT"
        case .int: "INT"
        case .string: "STRING"
        case .tensor: "TENSOR"
        case .graph: "GRAPH"
        case .sparseTensor: "SPARSE_TENSOR"
        case .typeProto: "TYPE_PROTO"
        case .floats: "FLOATS"
        case .ints: "INTS"
        case .strings: "STRINGS"
        case .tensors: "TENSORS"
        case .graphs: "GRAPHS"
        case .sparseTensors: "SPARSE_TENSORS"
        case .typeProtos: "TYPE_PROTOS"
        }
    }
}

extension Onnx_TensorProto.DataType {
    /// Bytes per element in `raw_data` for the types ``ONNXTensorData`` decodes; `nil` for the rest.
    fileprivate var decodableElementSize: Int? {
        switch self {
        case .float, .int32: 4
        case .double, .int64: 8
        case .float16: 2
        case .uint8, .int8, .bool: 1
        default: nil
        }
    }
}

// MARK: - File helpers

/// The ONNX name of a `TensorProto.data_type` value (e.g. "FLOAT16"), or "UNKNOWN(n)".
func onnxDataTypeName(_ rawValue: Int32) -> String {
    let names = [
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL",
        "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
    ]
    guard let index = Int(exactly: rawValue), names.indices.contains(index) else {
        return "UNKNOWN(\(rawValue))"
    }
    return names[index]
}

/// Reads the whole file at `url`, mapping failures to ``ONNXFileError``.
private func readFile(_ url: URL) throws(ONNXFileError) -> Data {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
        throw .fileNotFound(path: url.path)
    }
    guard !isDirectory.boolValue else {
        throw .unreadableFile(path: url.path, reason: "it is a directory")
    }
    do {
        return try Data(contentsOf: url)
    } catch {
        throw .unreadableFile(path: url.path, reason: error.localizedDescription)
    }
}

/// Decodes a complete binary protobuf message; empty input is rejected as a file that is not one.
private func decodeMessage<M: SwiftProtobuf.Message>(_ bytes: Data, path: String) throws(ONNXFileError) -> M {
    guard !bytes.isEmpty else {
        throw .invalidProtobuf(path: path, reason: "the file is empty")
    }
    do {
        return try M(serializedBytes: bytes)
    } catch {
        throw .invalidProtobuf(path: path, reason: "\(error)")
    }
}

/// Reads the bytes an EXTERNAL tensor points to: `location` (relative to `directory`, which it
/// may not leave), optional `offset` and `length`, all bounds-checked against the file size.
private func readExternalData(of tensor: Onnx_TensorProto, directory: URL?) throws(ONNXFileError) -> Data {
    let name = tensor.name
    var entries: [String: String] = [:]
    for entry in tensor.externalData { entries[entry.key] = entry.value }

    guard let location = entries["location"], !location.isEmpty else {
        throw .invalidExternalData(tensor: name, reason: "no \"location\" entry")
    }
    guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
        throw .invalidExternalData(
            tensor: name, reason: "location \"\(location)\" must be a relative path inside the model's folder")
    }
    guard let directory else {
        throw .invalidExternalData(tensor: name, reason: "no model folder is known to resolve \"\(location)\"")
    }
    func integer(_ key: String) throws(ONNXFileError) -> Int? {
        guard let text = entries[key] else { return nil }
        guard let value = Int(text), value >= 0 else {
            throw .invalidExternalData(tensor: name, reason: "\(key) \"\(text)\" is not a non-negative integer")
        }
        return value
    }
    let offset = try integer("offset") ?? 0
    let length = try integer("length")

    let url = directory.appendingPathComponent(location)
    let handle: FileHandle
    do {
        handle = try FileHandle(forReadingFrom: url)
    } catch {
        throw .invalidExternalData(tensor: name, reason: "cannot open \(url.path): \(error.localizedDescription)")
    }
    defer { try? handle.close() }
    do {
        let fileSize = try handle.seekToEnd()
        guard UInt64(offset) <= fileSize else {
            throw ONNXFileError.invalidExternalData(
                tensor: name, reason: "offset \(offset) is past the end of \(location) (\(fileSize) bytes)")
        }
        let available = fileSize - UInt64(offset)
        if let length, UInt64(length) > available {
            throw ONNXFileError.invalidExternalData(
                tensor: name,
                reason: "offset \(offset) + length \(length) is past the end of \(location) (\(fileSize) bytes)")
        }
        guard let wanted = Int(exactly: length.map(UInt64.init) ?? available) else {
            throw ONNXFileError.invalidExternalData(tensor: name, reason: "\(location) is too large")
        }
        try handle.seek(toOffset: UInt64(offset))
        let data = try handle.read(upToCount: wanted) ?? Data()
        guard data.count == wanted else {
            throw ONNXFileError.invalidExternalData(
                tensor: name, reason: "read \(data.count) of \(wanted) bytes from \(location)")
        }
        return data
    } catch let error as ONNXFileError {
        throw error
    } catch {
        throw .invalidExternalData(tensor: name, reason: "reading \(url.path): \(error.localizedDescription)")
    }
}

/// Converts IEEE 754 half-precision bits to `Float` (exact; handles subnormals, infinities, NaN).
///
/// Written out rather than using `Float16`, which is unavailable on Intel macOS.
private func floatFromHalfBits(_ bits: UInt16) -> Float {
    let sign: UInt32 = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1F
    let mantissa = UInt32(bits & 0x3FF)
    switch exponent {
    case 0:  // zero or subnormal: mantissa × 2^-24
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    case 0x1F:  // infinity or NaN
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    default:  // normal: rebias the exponent from 15 to 127
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
}
