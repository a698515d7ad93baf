// Tests for ONNXModelFile / ONNXTensorData / Onnx_NodeProto attribute helpers.
//
// The conformance tests read Debian's ONNX backend test data (package libonnx-testdata);
// the rest build small models and tensors in memory or in a temporary folder.

import Foundation
import Testing

@testable import Engine

/// Debian's copy of ONNX's `test_conv_with_strides_padding` node test (from libonnx-testdata).
private let convTestFolder = URL(
    fileURLWithPath: "/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding", isDirectory: true)

/// The conformance model file, failing the test with an install hint when the package is missing.
private func conformanceModelURL() throws -> URL {
    let url = convTestFolder.appendingPathComponent("model.onnx")
    try #require(
        FileManager.default.fileExists(atPath: url.path),
        "ONNX conformance data missing: apt-get install libonnx-testdata")
    return url
}

/// Runs `body` with a fresh temporary folder, removed afterwards.
private func withTemporaryFolder<T>(_ body: (URL) throws -> T) throws -> T {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("onnx-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try body(folder)
}

/// Little-endian IEEE 754 bytes of `values`, as ONNX stores them in raw_data.
private func rawFloats(_ values: [Float]) -> Data {
    var data = Data()
    for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    return data
}

/// A tensor proto with the given name, type, dims and raw bytes.
private func tensor(
    _ name: String, _ type: Onnx_TensorProto.DataType, dims: [Int64], raw: Data? = nil
) -> Onnx_TensorProto {
    var tensor = Onnx_TensorProto()
    tensor.name = name
    tensor.dataType = Int32(type.rawValue)
    tensor.dims = dims
    if let raw { tensor.rawData = raw }
    return tensor
}

/// A minimal valid model importing the given default-domain opsets.
private func model(opsets: [(domain: String, version: Int64)]) throws -> Data {
    var model = Onnx_ModelProto()
    model.irVersion = 7
    model.graph.name = "g"
    model.opsetImport = opsets.map { opset in
        var entry = Onnx_OperatorSetIdProto()
        entry.domain = opset.domain
        entry.version = opset.version
        return entry
    }
    return try model.serializedData()
}

@Suite("ONNX model files")
struct ONNXModelFileTests {
    // MARK: Conformance data

    @Test("loads Debian's conv conformance model and reads its opset and attributes")
    func loadsConformanceModel() throws {
        let file = try ONNXModelFile(contentsOf: try conformanceModelURL())
        #expect(try file.defaultDomainOpsetVersion() == 11)
        let node = try #require(file.model.graph.node.first)
        #expect(node.opType == "Conv")
        #expect(node.input == ["x", "W"])
        #expect(try node.intsAttribute("kernel_shape") == [3, 3])
        #expect(try node.intsAttribute("pads") == [1, 1, 1, 1])
        #expect(try node.intsAttribute("strides") == [2, 2])
        #expect(try node.intsAttribute("dilations", default: [1, 1]) == [1, 1])
        #expect(try node.intAttribute("group", default: 1) == 1)
        #expect(try node.stringAttribute("auto_pad", default: "NOTSET") == "NOTSET")

        #expect(throws: ONNXFileError.missingAttribute(node: "", opType: "Conv", attribute: "group")) {
            try node.intAttribute("group")
        }
        let mismatch = #expect(throws: ONNXFileError.self) { try node.intAttribute("strides") }
        #expect(mismatch?.description.contains("has type INTS, expected INT") == true)
    }

    @Test("decodes the conformance input and output tensors")
    func decodesConformanceTensors() throws {
        _ = try conformanceModelURL()
        let dataSet = convTestFolder.appendingPathComponent("test_data_set_0")

        let x = try ONNXTensorData(contentsOf: dataSet.appendingPathComponent("input_0.pb"))
        #expect(x.name == "x")
        #expect(x.dataType == .float)
        #expect(x.dims == [1, 1, 7, 5])
        #expect(try x.floats() == (0..<35).map { Float($0) })

        let w = try ONNXTensorData(contentsOf: dataSet.appendingPathComponent("input_1.pb"))
        #expect(w.dims == [1, 1, 3, 3])
        #expect(try w.floats() == Array(repeating: 1, count: 9))

        let y = try ONNXTensorData(contentsOf: dataSet.appendingPathComponent("output_0.pb"))
        #expect(y.dims == [1, 1, 4, 3])
        #expect(try y.floats() == [12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124])
    }

    @Test("a truncated copy of the model is an error, at every length")
    func truncatedModelIsAnError() throws {
        let original = try conformanceModelURL()
        let bytes = try Data(contentsOf: original)
        try withTemporaryFolder { folder in
            let truncated = folder.appendingPathComponent("truncated.onnx")
            try bytes.prefix(bytes.count / 2).write(to: truncated)
            let error = #expect(throws: ONNXFileError.self) { try ONNXModelFile(contentsOf: truncated) }
            #expect(error?.description.contains(truncated.path) == true)
        }
        // Cuts at field boundaries decode as protobuf; they must still be rejected as models.
        for length in 0..<bytes.count {
            #expect(throws: ONNXFileError.self, "prefix of \(length) bytes") {
                try ONNXModelFile(serializedBytes: bytes.prefix(length), url: original)
            }
        }
    }

    // MARK: Files and opsets

    @Test("missing files, folders and garbage are clear errors")
    func fileErrors() throws {
        try withTemporaryFolder { folder in
            let missing = folder.appendingPathComponent("nope.onnx")
            #expect(throws: ONNXFileError.fileNotFound(path: missing.path)) {
                try ONNXModelFile(contentsOf: missing)
            }
            #expect(throws: ONNXFileError.self) { try ONNXModelFile(contentsOf: folder) }

            let garbage = folder.appendingPathComponent("garbage.onnx")
            try Data("this is not a protobuf\n".utf8).write(to: garbage)
            let error = #expect(throws: ONNXFileError.self) { try ONNXModelFile(contentsOf: garbage) }
            #expect(error?.description.contains("garbage.onnx") == true)
        }
    }

    @Test("default-domain opset lookup accepts \"\" and \"ai.onnx\" within 11...21 only")
    func opsetRange() throws {
        let url = URL(fileURLWithPath: "/models/m.onnx")
        let aiOnnx = try ONNXModelFile(
            serializedBytes: try model(opsets: [("ai.onnx", 21), ("com.microsoft", 1)]), url: url)
        #expect(try aiOnnx.defaultDomainOpsetVersion() == 21)

        let tooNew = try ONNXModelFile(serializedBytes: try model(opsets: [("", 22)]), url: url)
        #expect(throws: ONNXFileError.unsupportedOpset(path: url.path, version: 22, supported: 11...21)) {
            try tooNew.defaultDomainOpsetVersion()
        }
        let tooOld = try ONNXModelFile(serializedBytes: try model(opsets: [("", 10)]), url: url)
        #expect(throws: ONNXFileError.self) { try tooOld.defaultDomainOpsetVersion() }
        let noDefault = try ONNXModelFile(serializedBytes: try model(opsets: [("com.microsoft", 1)]), url: url)
        #expect(throws: ONNXFileError.self) { try noDefault.defaultDomainOpsetVersion() }
    }

    // MARK: Tensor decoding

    @Test("raw_data whose length does not match the dims is an error naming the tensor")
    func rawDataMismatch() throws {
        let short = tensor("conv1.weight", .float, dims: [2, 3], raw: rawFloats([1, 2, 3, 4, 5]))
        let error = #expect(throws: ONNXFileError.self) { try ONNXTensorData(short) }
        #expect(error?.description.contains("\"conv1.weight\"") == true)
        #expect(error?.description.contains("20 bytes") == true)

        var typed = tensor("bias", .float, dims: [3])
        typed.floatData = [1, 2]
        #expect(throws: ONNXFileError.self) { try ONNXTensorData(typed) }

        #expect(throws: ONNXFileError.self) { try ONNXTensorData(tensor("neg", .float, dims: [-1], raw: Data())) }
        #expect(throws: ONNXFileError.self) {
            try ONNXTensorData(tensor("huge", .float, dims: [Int64.max, 4], raw: Data()))
        }
    }

    @Test("unsupported data types are errors naming the tensor and the type")
    func unsupportedDataType() throws {
        var strings = tensor("labels", .string, dims: [1])
        strings.stringData = [Data("cat".utf8)]
        let stringError = #expect(throws: ONNXFileError.self) { try ONNXTensorData(strings) }
        #expect(stringError?.description == "ONNX tensor \"labels\": data type STRING is not supported")
        var unknown = tensor("odd", .float, dims: [])
        unknown.dataType = 99
        let error = #expect(throws: ONNXFileError.self) { try ONNXTensorData(unknown) }
        #expect(error?.description.contains("UNKNOWN(99)") == true)
    }

    @Test("FLOAT16 from raw_data and int32_data, DOUBLE, and typed FLOAT fields")
    func floatingTypes() throws {
        let halfBits: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x8000]
        let expected: [Float] = [1, -2, 65504, 0x1p-24, .infinity, -0.0]
        var raw = Data()
        for bits in halfBits { withUnsafeBytes(of: bits.littleEndian) { raw.append(contentsOf: $0) } }
        #expect(try ONNXTensorData(tensor("h", .float16, dims: [6], raw: raw)).floats() == expected)

        var typedHalf = tensor("h2", .float16, dims: [2, 3])
        typedHalf.int32Data = halfBits.map { Int32($0) }
        let decoded = try ONNXTensorData(typedHalf)
        #expect(decoded.dims == [2, 3])
        #expect(try decoded.floats() == expected)

        var doubles = tensor("d", .double, dims: [2])
        doubles.doubleData = [0.5, -1.25]
        #expect(try ONNXTensorData(doubles).floats() == [0.5, -1.25])

        var floats = tensor("f", .float, dims: [])
        floats.floatData = [3.5]
        let scalar = try ONNXTensorData(floats)
        #expect(scalar.dims == [] && scalar.count == 1)
        #expect(try scalar.floats() == [3.5])
        #expect(throws: ONNXFileError.self) { try scalar.ints() }
    }

    @Test("INT64/INT32 decode to Int; UINT8/INT8/BOOL read either way")
    func integerTypes() throws {
        var raw = Data()
        for value: Int64 in [1, -1, 1 << 40] { withUnsafeBytes(of: value.littleEndian) { raw.append(contentsOf: $0) } }
        let shape = try ONNXTensorData(tensor("shape", .int64, dims: [3], raw: raw))
        #expect(try shape.ints() == [1, -1, 1 << 40])
        let error = #expect(throws: ONNXFileError.self) { try shape.floats() }
        #expect(error?.description.contains("\"shape\": data type INT64") == true)

        var axes = tensor("axes", .int64, dims: [2])
        axes.int64Data = [0, -1]
        #expect(try ONNXTensorData(axes).ints() == [0, -1])
        var int32 = tensor("i32", .int32, dims: [2])
        int32.int32Data = [7, -8]
        #expect(try ONNXTensorData(int32).ints() == [7, -8])

        let bytes = try ONNXTensorData(tensor("u8", .uint8, dims: [3], raw: Data([0, 128, 255])))
        #expect(try bytes.ints() == [0, 128, 255])
        #expect(try bytes.floats() == [0, 128, 255])
        #expect(try ONNXTensorData(tensor("i8", .int8, dims: [2], raw: Data([0xFF, 0x80]))).ints() == [-1, -128])
        #expect(try ONNXTensorData(tensor("mask", .bool, dims: [3], raw: Data([0, 1, 2]))).floats() == [0, 1, 1])
    }

    // MARK: External data

    @Test("external data is read relative to the model folder, bounds-checked and confined to it")
    func externalData() throws {
        try withTemporaryFolder { folder in
            let weights = rawFloats([9, 1, 2, 3, 4, 5, 6])  // 4 junk bytes, then six floats
            try weights.write(to: folder.appendingPathComponent("weights.bin"))
            let modelURL = folder.appendingPathComponent("model.onnx")
            try model(opsets: [("", 13)]).write(to: modelURL)
            let file = try ONNXModelFile(contentsOf: modelURL)

            func external(_ entries: [String: String]) -> Onnx_TensorProto {
                var proto = tensor("w", .float, dims: [2, 3])
                proto.dataLocation = .external
                proto.externalData = entries.sorted { $0.key < $1.key }.map { key, value in
                    var entry = Onnx_StringStringEntryProto()
                    entry.key = key
                    entry.value = value
                    return entry
                }
                return proto
            }

            let good = try file.tensorData(external(["location": "weights.bin", "offset": "4", "length": "24"]))
            #expect(try good.floats() == [1, 2, 3, 4, 5, 6])
            let toEnd = try file.tensorData(external(["location": "weights.bin", "offset": "4"]))
            #expect(try toEnd.floats() == [1, 2, 3, 4, 5, 6])

            let refused: [[String: String]] = [
                ["location": "../weights.bin"],
                ["location": "sub/../../etc/passwd"],
                ["location": "/etc/passwd"],
                ["location": ""],
                [:],
                ["location": "missing.bin"],
                ["location": "weights.bin", "offset": "29"],
                ["location": "weights.bin", "offset": "8", "length": "24"],
                ["location": "weights.bin", "offset": "-4"],
                ["location": "weights.bin", "length": "lots"],
            ]
            for entries in refused {
                #expect(throws: ONNXFileError.self, "\(entries)") { try file.tensorData(external(entries)) }
            }
            let escape = #expect(throws: ONNXFileError.self) {
                try file.tensorData(external(["location": "../secret.bin"]))
            }
            #expect(escape?.description.contains("\"w\": external data") == true)
            // Without a model folder there is nothing to resolve the location against.
            #expect(throws: ONNXFileError.self) { try ONNXTensorData(external(["location": "weights.bin"])) }
        }
    }

    // MARK: Attributes

    @Test("attribute helpers return values and defaults, and name the node in errors")
    func attributes() throws {
        var node = Onnx_NodeProto()
        node.name = "gemm_1"
        node.opType = "Gemm"
        var alpha = Onnx_AttributeProto()
        alpha.name = "alpha"
        alpha.type = .float
        alpha.f = 0.5
        var scales = Onnx_AttributeProto()
        scales.name = "scales"
        scales.floats = [1, 2]  // no `type`, as in old models: inferred from the field
        var mode = Onnx_AttributeProto()
        mode.name = "mode"
        mode.type = .string
        mode.s = Data("linear".utf8)
        var value = Onnx_AttributeProto()
        value.name = "value"
        value.type = .tensor
        value.t = tensor("value", .float, dims: [1], raw: rawFloats([4]))
        var bad = Onnx_AttributeProto()
        bad.name = "bad"
        bad.type = .string
        bad.s = Data([0xFF, 0xFE])
        node.attribute = [alpha, scales, mode, value, bad]

        #expect(try node.floatAttribute("alpha") == 0.5)
        #expect(try node.floatAttribute("beta", default: 1) == 1)
        #expect(try node.floatsAttribute("scales") == [1, 2])
        #expect(try node.stringAttribute("mode") == "linear")
        #expect(try ONNXTensorData(node.tensorAttribute("value")).floats() == [4])
        #expect(try node.intAttribute("transA", default: 0) == 0)

        let missing = #expect(throws: ONNXFileError.self) { try node.tensorAttribute("other") }
        #expect(missing?.description == "ONNX node \"gemm_1\" (Gemm): required attribute \"other\" is missing")
        let wrongType = #expect(throws: ONNXFileError.self) { try node.intsAttribute("alpha") }
        #expect(wrongType?.description == "ONNX node \"gemm_1\" (Gemm): attribute \"alpha\" has type FLOAT, expected INTS")
        #expect(throws: ONNXFileError.self) { try node.stringAttribute("bad") }
    }
}
