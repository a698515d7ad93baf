import Foundation

/// A received signed-map message, parsed (for `saliencyd tap` and tests): the header and one
/// float array per map, decoded from its encoding.
public struct MapsMessage: Sendable {
    public var topic: String
    public var header: MapsHeader
    /// `H×W` row-major floats per map, in ``MapsHeader/maps`` order; u8 maps are scaled back with
    /// the header's min and max.
    public var maps: [[Float]]

    /// What a received message turned out to be.
    public enum Parsed: Sendable {
        case maps(MapsMessage)
        case error(topic: String, ErrorEventHeader)
    }

    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses `frames` as a maps message or an error event; without `decodeMaps` the maps are
    /// left empty (only the header is read).
    public static func parse(_ frames: [[UInt8]], decodeMaps: Bool = true) throws -> Parsed {
        guard frames.count >= 2 else { throw Malformed(description: "\(frames.count) frame(s); a message has a topic and a header") }
        let topic = String(decoding: frames[0], as: UTF8.self)
        let data = Data(frames[1])
        let schema = (try? JSONDecoder().decode(SchemaField.self, from: data))?.schema
        switch schema {
        case ErrorEventHeader.schemaName:
            return .error(topic: topic, try JSONDecoder().decode(ErrorEventHeader.self, from: data))
        case MapsHeader.schemaName:
            let header = try JSONDecoder().decode(MapsHeader.self, from: data)
            guard frames.count == 2 + header.maps.count else {
                throw Malformed(description: "the header lists \(header.maps.count) maps but \(frames.count - 2) map frames followed")
            }
            var maps: [[Float]] = []
            for (map, bytes) in zip(header.maps, frames[2...]) where decodeMaps {
                maps.append(try decode(bytes, map))
            }
            return .maps(MapsMessage(topic: topic, header: header, maps: maps))
        default:
            throw Malformed(description: "unknown schema \(schema ?? "(none)")")
        }
    }

    /// Only the header's `schema`, to choose the type to decode (the other keys are skipped).
    private struct SchemaField: Decodable { var schema: String? }

    static func decode(_ bytes: [UInt8], _ map: MapsHeader.Map) throws -> [Float] {
        let count = map.width * map.height
        let size = map.dtype == "float32" ? 4 : map.dtype == "float16" ? 2 : map.dtype == "uint8" ? 1 : 0
        guard size > 0 else { throw Malformed(description: "map \(map.name): unknown dtype \(map.dtype)") }
        guard bytes.count == count * size else {
            throw Malformed(description: "map \(map.name): \(bytes.count) bytes for \(map.width)×\(map.height) \(map.dtype)")
        }
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { index in
                switch size {
                case 4: return Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
                case 2: return Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))))
                default: return map.min + Float(raw[index]) * (map.max - map.min) / 255
                }
            }
        }
    }
}
