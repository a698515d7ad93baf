import Engine
import Foundation
import Pipeline
import TOMLKit

/// Everything `saliencyd serve` can be told, from the TOML file and then the flags (flags win).
/// `docs/configuration.md` lists every key with its flag, default and meaning.
struct ServeSettings: Sendable {
    /// `[model]`
    var modelPath: String?
    var inputSize: String?
    var scale: Double?
    var mean: [Double]?
    var std: [Double]?
    var channelOrder: String?
    /// `[output]`, `[workers]`, `[limits]`, `[[sources]]`
    var pipeline = PipelineConfiguration()
    /// `[service]`
    var drainTimeout: Duration = .seconds(10)
    var statusInterval: Duration = .seconds(5)
    /// How long a worker may stay on one batch (or a source or the publisher go without turning
    /// its loop) before the pipeline counts as stuck and the systemd watchdog pings stop.
    var stallTimeout: Duration = .seconds(60)
    /// `[metrics]`, `[logging]` (ObservabilitySettings.swift)
    var observability = ObservabilitySettings()

    static let sourceKeys = ["name", "endpoints", "socket", "bind", "topic", "channel_order", "policy", "queue_capacity", "receive_hwm"]

    /// Reads `text` (a TOML document) over the defaults.
    mutating func apply(toml text: String, file: String) throws(ConfigurationError) {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(key: "line \(error.source.begin.line), column \(error.source.begin.column)",
                                     reason: "not valid TOML: \(error.description)", file: file)
        } catch {
            throw ConfigurationError(key: "(document)", reason: "not valid TOML: \(error)", file: file)
        }
        do {
            try apply(TOMLReader(table))
        } catch var error {
            error.file = file
            throw error
        }
    }

    private mutating func apply(_ root: TOMLReader) throws(ConfigurationError) {
        if let model = try root.table("model") {
            modelPath = try model.string("path") ?? modelPath
            inputSize = try model.string("input_size") ?? inputSize
            scale = try model.double("scale") ?? scale
            mean = try model.numbers("mean") ?? mean
            std = try model.numbers("std") ?? std
            channelOrder = try model.string("channel_order") ?? channelOrder
            try model.finish()
        }
        if let output = try root.table("output") {
            if let value = try output.string("endpoint") { pipeline.output.endpoint = value }
            if let value = try output.string("socket") { pipeline.output.socketType = try Self.outputSocket(value, key: output.key("socket")) }
            if let value = try output.int("send_hwm") { pipeline.output.sendHighWaterMark = value }
            if let value = try output.string("topic_prefix") { pipeline.output.topicPrefix = value }
            if let value = try output.strings("maps") { pipeline.output.maps = try Self.methods(value, key: output.key("maps")) }
            if let value = try output.string("encoding") { pipeline.output.encoding = try Self.encoding(value, key: output.key("encoding")) }
            if let value = try output.int("linger_ms") { pipeline.output.lingerMilliseconds = value }
            try output.finish()
        }
        if let workers = try root.table("workers") {
            if let value = try workers.int("count") { pipeline.workers.count = value }
            if let value = try workers.int("threads") { pipeline.workers.threads = value }
            if let value = try workers.int("blas_threads") { pipeline.workers.blasThreads = value }
            if let value = try workers.int("max_batch") { pipeline.workers.maxBatch = value }
            if let value = try workers.double("max_batch_delay_ms") { pipeline.workers.maxBatchDelay = .milliseconds(value) }
            try workers.finish()
        }
        if let limits = try root.table("limits") {
            if let value = try limits.int("max_width") { pipeline.limits.maxWidth = value }
            if let value = try limits.int("max_height") { pipeline.limits.maxHeight = value }
            if let value = try limits.int("max_payload_bytes") { pipeline.limits.maxPayloadBytes = value }
            try limits.finish()
        }
        if let service = try root.table("service") {
            if let value = try service.double("drain_timeout_s") { drainTimeout = .milliseconds(value * 1000) }
            if let value = try service.double("status_interval_s") { statusInterval = .milliseconds(value * 1000) }
            if let value = try service.double("stall_timeout_s") { stallTimeout = .milliseconds(value * 1000) }
            try service.finish()
        }
        try observability.apply(root)
        if let sources = try root.tables("sources") {
            pipeline.sources = try sources.map { reader throws(ConfigurationError) in try Self.source(reader) }
        }
        try root.finish()
    }

    private static func source(_ reader: TOMLReader) throws(ConfigurationError) -> SourceConfiguration {
        var source = SourceConfiguration()
        guard let name = try reader.string("name") else {
            throw ConfigurationError(key: reader.key("name"), reason: "every source needs a name")
        }
        source.name = name
        if let value = try reader.strings("endpoints") { source.endpoints = value }
        if let value = try reader.string("socket") { source.socketType = try sourceSocket(value, key: reader.key("socket")) }
        source.bind = try reader.bool("bind")
        if let value = try reader.string("topic") { source.topic = value }
        if let value = try reader.string("channel_order") { source.channelOrder = try rawChannelOrder(value, key: reader.key("channel_order")) }
        if let value = try reader.string("policy") { source.policy = try policy(value, key: reader.key("policy")) }
        if let value = try reader.int("queue_capacity") { source.queueCapacity = value }
        if let value = try reader.int("receive_hwm") { source.receiveHighWaterMark = value }
        try reader.finish(known: sourceKeys)
        return source
    }

    /// Parses a `--source` flag: `key=value` pairs separated by commas, with the keys of a
    /// `[[sources]]` table (`endpoint=` may repeat; `endpoints=` takes `+`-separated endpoints).
    static func source(flag: String) throws(ConfigurationError) -> SourceConfiguration {
        var source = SourceConfiguration()
        var endpoints: [String] = []
        var named = false
        for pair in flag.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw ConfigurationError(key: "--source", reason: "'\(pair)' is not key=value (e.g. name=cam0,socket=sub,endpoint=tcp://10.0.0.5:5555)")
            }
            let (name, value) = (parts[0].trimmingCharacters(in: .whitespaces), parts[1])
            let key = "--source \(name)"
            switch name {
            case "name": source.name = value; named = true
            case "endpoint": endpoints.append(value)
            case "endpoints": endpoints += value.split(separator: "+").map(String.init)
            case "socket": source.socketType = try sourceSocket(value, key: key)
            case "bind":
                guard let bind = Bool(value) else { throw ConfigurationError(key: key, reason: "expected true or false, got '\(value)'") }
                source.bind = bind
            case "topic": source.topic = value
            case "channel_order": source.channelOrder = try rawChannelOrder(value, key: key)
            case "policy": source.policy = try policy(value, key: key)
            case "queue_capacity", "receive_hwm":
                guard let number = Int(value) else { throw ConfigurationError(key: key, reason: "expected an integer, got '\(value)'") }
                if name == "queue_capacity" { source.queueCapacity = number } else { source.receiveHighWaterMark = number }
            default:
                throw ConfigurationError(key: key, reason: "unknown key (known: endpoint, \(sourceKeys.joined(separator: ", ")))")
            }
        }
        if !endpoints.isEmpty { source.endpoints = endpoints }
        if !named { source.name = "default" }
        return source
    }

    // MARK: Value parsers

    static func outputSocket(_ value: String, key: String) throws(ConfigurationError) -> ZeroMQSocketType {
        guard let type = ZeroMQSocketType(rawValue: value.lowercased()), type == .pub || type == .push else {
            throw ConfigurationError(key: key, reason: "'\(value)' is not an output socket type (pub or push)")
        }
        return type
    }

    static func sourceSocket(_ value: String, key: String) throws(ConfigurationError) -> ZeroMQSocketType {
        guard let type = ZeroMQSocketType(rawValue: value.lowercased()), [.sub, .pull, .rep].contains(type) else {
            throw ConfigurationError(key: key, reason: "'\(value)' is not a source socket type (sub, pull or rep)")
        }
        return type
    }

    static func methods(_ values: [String], key: String) throws(ConfigurationError) -> [SaliencyMethod] {
        do { return try MethodList.parse(values) } catch { throw ConfigurationError(key: key, reason: error.description) }
    }

    static func encoding(_ value: String, key: String) throws(ConfigurationError) -> MapEncoding {
        guard let encoding = MapEncoding(rawValue: value.lowercased()) else {
            throw ConfigurationError(key: key, reason: "'\(value)' is not a map encoding (f32, f16 or u8)")
        }
        return encoding
    }

    static func policy(_ value: String, key: String) throws(ConfigurationError) -> BackpressurePolicy {
        guard let policy = BackpressurePolicy(rawValue: value.lowercased()) else {
            throw ConfigurationError(key: key, reason: "'\(value)' is not a backpressure policy (latest, drop-new or block)")
        }
        return policy
    }

    static func rawChannelOrder(_ value: String, key: String) throws(ConfigurationError) -> ChannelOrder {
        guard let order = ChannelOrder(rawValue: value.lowercased()), order != .gray else {
            throw ConfigurationError(key: key, reason: "'\(value)' is not a channel order for raw 3-channel arrays (bgr or rgb)")
        }
        return order
    }

    // MARK: Validation

    /// Checks every value that has an impossible range, naming its key.
    func validate() throws(ConfigurationError) {
        let p = pipeline
        func positive(_ value: Int, _ key: String, atMost limit: Int = .max) throws(ConfigurationError) {
            guard value >= 1 else { throw ConfigurationError(key: key, reason: "must be at least 1, got \(value)") }
            guard value <= limit else { throw ConfigurationError(key: key, reason: "must be at most \(limit), got \(value)") }
        }
        try positive(p.workers.count, "workers.count", atMost: 256)
        try positive(p.workers.threads, "workers.threads", atMost: 256)
        try positive(p.workers.blasThreads, "workers.blas_threads", atMost: 256)
        try positive(p.workers.maxBatch, "workers.max_batch", atMost: 1024)
        guard p.workers.maxBatchDelay >= .zero else { throw ConfigurationError(key: "workers.max_batch_delay_ms", reason: "must not be negative") }
        try positive(p.output.sendHighWaterMark, "output.send_hwm")
        guard p.output.lingerMilliseconds >= 0 else { throw ConfigurationError(key: "output.linger_ms", reason: "must not be negative") }
        try positive(p.limits.maxWidth, "limits.max_width")
        try positive(p.limits.maxHeight, "limits.max_height")
        try positive(p.limits.maxPayloadBytes, "limits.max_payload_bytes")
        guard drainTimeout >= .zero else { throw ConfigurationError(key: "service.drain_timeout_s", reason: "must not be negative") }
        guard stallTimeout > .zero else { throw ConfigurationError(key: "service.stall_timeout_s", reason: "must be positive") }
        guard statusInterval >= .zero else { throw ConfigurationError(key: "service.status_interval_s", reason: "must not be negative (0 turns the status line off)") }
        try observability.validate()
        guard !p.output.endpoint.isEmpty else { throw ConfigurationError(key: "output.endpoint", reason: "must not be empty") }
        guard !p.sources.isEmpty else { throw ConfigurationError(key: "sources", reason: "configure at least one source") }
        var names: Set<String> = []
        for (index, source) in p.sources.enumerated() {
            let key = "sources[\(index)]"
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
            guard !source.name.isEmpty, source.name.unicodeScalars.allSatisfy(allowed.contains) else {
                throw ConfigurationError(key: "\(key).name", reason: "'\(source.name)' must be non-empty letters, digits, '-', '_' or '.'")
            }
            guard names.insert(source.name).inserted else {
                throw ConfigurationError(key: "\(key).name", reason: "'\(source.name)' names two sources")
            }
            guard !source.endpoints.isEmpty, source.endpoints.allSatisfy({ $0.contains("://") }) else {
                throw ConfigurationError(key: "\(key).endpoints", reason: "give at least one endpoint such as tcp://127.0.0.1:5555, got \(source.endpoints)")
            }
            try positive(source.queueCapacity, "\(key).queue_capacity", atMost: 1 << 20)
            try positive(source.receiveHighWaterMark, "\(key).receive_hwm")
            if source.socketType == .sub && source.effectivePolicy == .block {
                // Allowed, but it cannot be lossless: say so once at start (see docs/protocol.md).
            }
            if source.socketType != .sub && !source.topic.isEmpty {
                throw ConfigurationError(key: "\(key).topic", reason: "only a SUB source subscribes to a topic")
            }
        }
    }
}

extension Duration {
    /// A duration of `value` milliseconds (fractions kept to the microsecond).
    static func milliseconds(_ value: Double) -> Duration { .microseconds(Int64((value * 1000).rounded())) }
}
