import Foundation
import Logging

/// `--log-format json`: one JSON object per line on stderr, for log shippers.
///
/// `{"time":"2025-01-31T12:00:00.123Z","level":"info","label":"saliencyd","message":"…","metadata":{…}}`
/// — `time` is UTC in RFC 3339 with milliseconds, `level` is swift-log's level name, `metadata`
/// is always an object (empty when there is none); metadata values are JSON strings, arrays or
/// objects (swift-log's `.stringConvertible` values become their description). Control
/// characters and non-ASCII are escaped, so a line never contains a raw newline.
struct JSONLogHandler: LogHandler {
    let label: String
    let output: LogOutput
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    /// The clock, replaceable in tests.
    var now: @Sendable () -> Date = { Date() }

    init(label: String, output: LogOutput = .standardError, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.output = output
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = LogMetadataMerge.merge(handler: metadata, provider: metadataProvider, event: event.metadata, error: event.error)
        var line = "{\"time\":"
        Self.appendString(Self.timestamp(now()), to: &line)
        line += ",\"level\":"
        Self.appendString(event.level.rawValue, to: &line)
        line += ",\"label\":"
        Self.appendString(label, to: &line)
        line += ",\"message\":"
        Self.appendString(event.message.description, to: &line)
        line += ",\"metadata\":"
        Self.append(.dictionary(merged), to: &line)
        line += "}\n"
        output.write(line)
    }

    /// RFC 3339, UTC, milliseconds: `2025-01-31T12:00:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        let milliseconds = min(999, Int(((interval - interval.rounded(.down)) * 1000).rounded(.down)))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, milliseconds)
    }

    static func append(_ value: Logger.Metadata.Value, to line: inout String) {
        switch value {
        case .string(let string): appendString(string, to: &line)
        case .stringConvertible(let convertible): appendString(convertible.description, to: &line)
        case .array(let array):
            line += "["
            for (index, element) in array.enumerated() {
                if index > 0 { line += "," }
                append(element, to: &line)
            }
            line += "]"
        case .dictionary(let dictionary):
            line += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { line += "," }
                appendString(key, to: &line)
                line += ":"
                append(dictionary[key]!, to: &line)
            }
            line += "}"
        }
    }

    /// A JSON string literal (RFC 8259): `"` and `\` escaped, control characters and everything
    /// outside ASCII as `\uXXXX` (surrogate pairs above the BMP).
    static func appendString(_ string: String, to line: inout String) {
        line += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            default:
                if scalar.value >= 0x20 && scalar.value < 0x7F {
                    line.unicodeScalars.append(scalar)
                } else if scalar.value <= 0xFFFF {
                    line += String(format: "\\u%04x", scalar.value)
                } else {
                    let value = scalar.value - 0x10000
                    line += String(format: "\\u%04x\\u%04x", 0xD800 + (value >> 10), 0xDC00 + (value & 0x3FF))
                }
            }
        }
        line += "\""
    }
}
