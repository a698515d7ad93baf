import Foundation
import Logging

/// `[logging]` / `--log-format`: how log lines look on stderr.
enum LogFormat: String, Sendable, CaseIterable {
    /// `<level> <label>: message key=value` (``TextLogHandler``).
    case text
    /// One JSON object per line (``JSONLogHandler``).
    case json
}

/// Installs the daemon's log handler, once per process (swift-log allows one bootstrap).
enum LoggingSetup {
    /// Every logger made after this writes to stderr in `format`, at `level` and above.
    /// `destination` is where stderr goes (decides timestamps, colour and journald prefixes for
    /// the text format; JSON lines are the same everywhere).
    static func bootstrap(format: LogFormat, level: Logger.Level,
                          destination: LogDestination = .standardError()) {
        LoggingSystem.bootstrap { label in
            makeHandler(label: label, format: format, level: level, destination: destination)
        }
    }

    static func makeHandler(label: String, format: LogFormat, level: Logger.Level, destination: LogDestination,
                            output: LogOutput = .standardError) -> any LogHandler {
        switch format {
        case .text:
            var handler = TextLogHandler(label: label, destination: destination, output: output)
            handler.logLevel = level
            return handler
        case .json:
            var handler = JSONLogHandler(label: label, output: output)
            handler.logLevel = level
            return handler
        }
    }

    /// Parses a `[logging] level` / `--log-level` value, naming `key` when it is not a level.
    static func level(_ value: String, key: String) throws(ConfigurationError) -> Logger.Level {
        guard let level = Logger.Level(rawValue: value.lowercased()) else {
            throw ConfigurationError(key: key, reason: "'\(value)' is not a log level (\(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return level
    }

    /// Parses a `[logging] format` / `--log-format` value, naming `key` when it is not a format.
    static func format(_ value: String, key: String) throws(ConfigurationError) -> LogFormat {
        guard let format = LogFormat(rawValue: value.lowercased()) else {
            throw ConfigurationError(key: key, reason: "'\(value)' is not a log format (text or json)")
        }
        return format
    }
}
