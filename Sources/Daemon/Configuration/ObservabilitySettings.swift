import ArgumentParser
import Logging

/// `[metrics]` and `[logging]`: the part of ``ServeSettings`` that says how the daemon is watched.
/// Read once at start (a reload does not rebind the metrics address or change the log format).
struct ObservabilitySettings: Sendable {
    /// `[metrics] address`: `host:port` for `/metrics`, `/healthz`, `/readyz`; `""` turns it off.
    var metricsAddress = MetricsAddress.defaultText
    /// `[logging] format`
    var logFormat = LogFormat.text
    /// `[logging] level`
    var logLevel = Logger.Level.info

    /// The parsed metrics address, `nil` when off (valid after ``validate()``).
    var metrics: MetricsAddress? { try? MetricsAddress.parse(metricsAddress, key: "metrics.address") }

    /// Reads the `[metrics]` and `[logging]` tables of `root`, if present.
    mutating func apply(_ root: TOMLReader) throws(ConfigurationError) {
        if let metrics = try root.table("metrics") {
            if let value = try metrics.string("address") { metricsAddress = value }
            try metrics.finish()
        }
        if let logging = try root.table("logging") {
            if let value = try logging.string("format") { logFormat = try LoggingSetup.format(value, key: logging.key("format")) }
            if let value = try logging.string("level") { logLevel = try LoggingSetup.level(value, key: logging.key("level")) }
            try logging.finish()
        }
    }

    func validate() throws(ConfigurationError) {
        _ = try MetricsAddress.parse(metricsAddress, key: "metrics.address")
    }
}

/// The flags of ``ObservabilitySettings`` (`saliencyd serve --metrics-address … --log-format …`).
struct ObservabilityOptions: ParsableArguments {
    @Option(help: "Listen address for /metrics, /healthz, /readyz, host:port; \"\" for none (metrics.address; default 127.0.0.1:9560).")
    var metricsAddress: String?
    @Option(help: "Log lines on stderr: text or json (logging.format; default text).")
    var logFormat: String?
    @Option(help: "Lowest level logged: trace, debug, info, notice, warning, error, critical (logging.level; default info).")
    var logLevel: String?

    /// Applies the flags given over `settings` (flags win over the file).
    func apply(to settings: inout ObservabilitySettings) throws(ConfigurationError) {
        if let metricsAddress { settings.metricsAddress = metricsAddress }
        if let logFormat { settings.logFormat = try LoggingSetup.format(logFormat, key: "--log-format") }
        if let logLevel { settings.logLevel = try LoggingSetup.level(logLevel, key: "--log-level") }
    }
}
