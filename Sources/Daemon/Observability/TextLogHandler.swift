import Foundation
import Logging

/// The daemon's plain-text log lines on stderr: `<level> <label>: message key=value …`.
///
/// How a line looks depends on where stderr goes (``LogDestination``):
/// - **A terminal**: a local timestamp first, and the level in colour.
/// - **journald** (systemd sets `JOURNAL_STREAM` to stderr's device and inode): no timestamp —
///   journald stamps every line itself, and a second, different clock in the text only makes
///   `journalctl` output harder to read — no colour, and a `<N>` syslog priority prefix
///   (sd-daemon(3)) so `journalctl -p warning` filters and highlights by level.
/// - **Anything else** (a pipe, a file, a test harness): no timestamp and no colour either. Whoever
///   collects a pipe (a supervisor, a container runtime, `make run`) stamps lines as it receives
///   them; a log written to a plain file that needs times should use `--log-format json`, whose
///   every line has an RFC 3339 `time`.
///
/// Metadata follows the message as `key=value`, sorted by key; a value with spaces, quotes or `=`
/// is written as a quoted string so a line splits unambiguously.
struct TextLogHandler: LogHandler {
    let label: String
    let destination: LogDestination
    let output: LogOutput
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, destination: LogDestination, output: LogOutput = .standardError, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.destination = destination
        self.output = output
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = ""
        switch destination {
        case .journal:
            line += "<\(Self.syslogPriority(event.level))>"
        case .terminal:
            line += Self.timestamp() + " "
        case .plain:
            break
        }
        let level = event.level.rawValue
        if destination == .terminal, let colour = Self.colour(event.level) {
            line += "\u{1B}[\(colour)m\(level)\u{1B}[0m"
        } else {
            line += level
        }
        line += " \(label): \(event.message)"
        let merged = LogMetadataMerge.merge(handler: metadata, provider: metadataProvider, event: event.metadata, error: event.error)
        for key in merged.keys.sorted() {
            line += " \(key)=\(Self.render(merged[key]!))"
        }
        line += "\n"
        output.write(line)
    }

    /// syslog(3) priorities as journald reads them from a `<N>` prefix.
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    private static func colour(_ level: Logger.Level) -> String? {
        switch level {
        case .trace, .debug: return "2"       // dim
        case .info: return nil
        case .notice: return "36"             // cyan
        case .warning: return "33"            // yellow
        case .error: return "31"              // red
        case .critical: return "1;31"         // bold red
        }
    }

    private static func timestamp() -> String {
        var now = timeval()
        gettimeofday(&now, nil)
        var seconds = time_t(now.tv_sec)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%03d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, Int(now.tv_usec) / 1000)
    }

    /// A metadata value as one token: bare when it has no space, quote, `=` or control character,
    /// else a double-quoted string with `\` escapes. Arrays and dictionaries use `[a, b]` and `[k: v]`.
    static func render(_ value: Logger.Metadata.Value) -> String {
        let text: String
        switch value {
        case .string(let string): text = string
        case .stringConvertible(let convertible): text = convertible.description
        case .array(let array): text = "[" + array.map { render($0) }.joined(separator: ", ") + "]"
        case .dictionary(let dictionary):
            text = "[" + dictionary.keys.sorted().map { "\($0): \(render(dictionary[$0]!))" }.joined(separator: ", ") + "]"
        }
        let needsQuotes = text.isEmpty || text.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.value < 0x20 || $0 == "\\" }
        guard needsQuotes else { return text }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            case "\r": quoted += "\\r"
            default:
                if scalar.value < 0x20 { quoted += String(format: "\\x%02x", scalar.value) } else { quoted.unicodeScalars.append(scalar) }
            }
        }
        return quoted + "\""
    }
}

/// Where stderr goes, which decides timestamps, colour and priority prefixes.
enum LogDestination: Sendable, Equatable {
    case terminal, journal, plain

    /// Looks at file descriptor 2: a TTY, the journal's stream (its device and inode equal
    /// `JOURNAL_STREAM`, see systemd.exec(5)), or something else.
    static func standardError(environment: [String: String] = ProcessInfo.processInfo.environment) -> LogDestination {
        if isatty(STDERR_FILENO) == 1 { return .terminal }
        if let stream = environment["JOURNAL_STREAM"] {
            var status = stat()
            let parts = stream.split(separator: ":")
            if parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]), fstat(STDERR_FILENO, &status) == 0,
               UInt64(status.st_dev) == device, UInt64(status.st_ino) == inode {
                return .journal
            }
        }
        return .plain
    }
}

/// Where log lines are written: stderr (one `write(2)` per line under a lock, so lines from
/// different threads never interleave), or a closure (tests).
struct LogOutput: Sendable {
    let sink: @Sendable (String) -> Void

    func write(_ line: String) { sink(line) }

    static let standardError = LogOutput { line in
        standardErrorLock.withLock {
            var bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { Glibc.write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return  // nowhere left to report a failing stderr
                }
                offset += written
            }
        }
    }
}

private let standardErrorLock = NSLock()

/// The metadata a handler emits for one event: the handler's own, then the provider's, then the
/// call's (later wins), plus the event's error under `error` when it has one.
enum LogMetadataMerge {
    static func merge(handler: Logger.Metadata, provider: Logger.MetadataProvider?, event: Logger.Metadata?,
                      error: (any Error)?) -> Logger.Metadata {
        var merged = handler
        if let provided = provider?.get(), !provided.isEmpty { merged.merge(provided) { $1 } }
        if let event, !event.isEmpty { merged.merge(event) { $1 } }
        if let error, merged["error"] == nil { merged["error"] = .string(String(describing: error)) }
        return merged
    }
}
