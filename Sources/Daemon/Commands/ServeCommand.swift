import ArgumentParser
import Engine
import Foundation
import Logging
import Pipeline

/// `saliencyd serve`: the daemon. Subscribes to image streams, computes the maps, publishes them.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve saliency maps: image streams in over ZeroMQ, signed-map messages out.",
        discussion: """
        Without --config or flags it serves the bundled model on a REP source at tcp://127.0.0.1:5555 \
        (imagezmq's default hub) and publishes on tcp://127.0.0.1:5560. Every configuration key is also a \
        flag; flags override the file. docs/configuration.md lists them, docs/protocol.md specifies the \
        messages. SIGINT/SIGTERM drain and exit 0.
        """)

    @Option(help: "TOML configuration file.") var config: String?
    @Flag(help: "Check the configuration and load the model, then exit (0 when it would serve).") var checkConfig = false
    // [model]
    @Option(help: "The ONNX model (model.path; default: the bundled model).") var model: String?
    @Option(help: "Input size HxW for models with dynamic height and width (model.input_size).") var inputSize: String?
    @Option(help: "Pixel-value multiplier (model.scale; default the sidecar's).") var scale: Double?
    @Option(help: "Per-channel mean, comma-separated (model.mean).") var mean: String?
    @Option(help: "Per-channel standard deviation, comma-separated (model.std).") var std: String?
    @Option(help: "Channel order the model expects: rgb, bgr or gray (model.channel_order).") var channelOrder: String?
    // [[sources]]
    @Option(name: .customLong("source"), help: ArgumentHelp(
        "A source as key=value pairs (replaces the configured sources; repeat for several).",
        discussion: "Keys: name, endpoint (repeatable), socket (sub|pull|rep), bind, topic, channel_order (bgr|rgb), policy (latest|drop-new|block), queue_capacity, receive_hwm. Example: --source name=cam0,socket=sub,endpoint=tcp://10.0.0.5:5555"))
    var sources: [String] = []
    // [output]
    @Option(help: "Output endpoint, bound (output.endpoint).") var output: String?
    @Option(help: "Output socket: pub or push (output.socket).") var outputSocket: String?
    @Option(help: "Output send high-water mark (output.send_hwm).") var sendHwm: Int?
    @Option(help: "Topic prefix (output.topic_prefix).") var topicPrefix: String?
    @Option(help: "Maps to publish, comma-separated (output.maps).") var maps: String?
    @Option(help: "Map encoding: f32, f16 or u8 (output.encoding).") var encoding: String?
    @Option(help: "Output linger on close, ms (output.linger_ms).") var lingerMs: Int?
    // [workers]
    @Option(help: "Worker threads (workers.count; default: cores).") var workers: Int?
    @Option(help: "Engine threads per worker (workers.threads).") var workerThreads: Int?
    @Option(help: "OpenBLAS threads (workers.blas_threads).") var blasThreads: Int?
    @Option(help: "Largest batch (workers.max_batch).") var maxBatch: Int?
    @Option(help: "How long a worker waits to fill a batch, ms (workers.max_batch_delay_ms).") var maxBatchDelayMs: Double?
    // [limits]
    @Option(help: "Widest frame accepted (limits.max_width).") var maxWidth: Int?
    @Option(help: "Tallest frame accepted (limits.max_height).") var maxHeight: Int?
    @Option(help: "Largest message accepted, bytes (limits.max_payload_bytes).") var maxPayloadBytes: Int?
    // [service]
    @Option(help: "Longest drain on SIGTERM, seconds (service.drain_timeout_s).") var drainTimeout: Double?
    @Option(help: "Status line period, seconds; 0 for none (service.status_interval_s).") var statusInterval: Double?
    @Option(help: "Seconds a worker may spend on one batch before the watchdog pings stop (service.stall_timeout_s).") var stallTimeout: Double?
    // [metrics], [logging]
    @OptionGroup var observabilityOptions: ObservabilityOptions
    // Testing aids, not for production.
    @Option(help: .hidden) var debugWorkerDelayMs: Double?
    @Option(help: .hidden) var debugWedgeAfterBatches: Int?

    /// The file's settings with the flags applied, validated.
    func settings() throws -> ServeSettings {
        var settings = ServeSettings()
        if let config {
            let text: String
            do {
                text = try String(contentsOfFile: config, encoding: .utf8)
            } catch {
                throw ConfigurationError(key: "--config", reason: "cannot read \(config): \(error.localizedDescription)")
            }
            try settings.apply(toml: text, file: config)
        }
        if let model { settings.modelPath = model }
        if let inputSize { settings.inputSize = inputSize }
        if let scale { settings.scale = scale }
        if let mean { settings.mean = try Self.numbers(mean, flag: "--mean") }
        if let std { settings.std = try Self.numbers(std, flag: "--std") }
        if let channelOrder { settings.channelOrder = channelOrder }
        if !sources.isEmpty {
            settings.pipeline.sources = try sources.map { flag throws(ConfigurationError) in try ServeSettings.source(flag: flag) }
        }
        var p = settings.pipeline
        if let output { p.output.endpoint = output }
        if let outputSocket { p.output.socketType = try ServeSettings.outputSocket(outputSocket, key: "--output-socket") }
        if let sendHwm { p.output.sendHighWaterMark = sendHwm }
        if let topicPrefix { p.output.topicPrefix = topicPrefix }
        if let maps { p.output.maps = try ServeSettings.methods(maps.split(separator: ",").map(String.init), key: "--maps") }
        if let encoding { p.output.encoding = try ServeSettings.encoding(encoding, key: "--encoding") }
        if let lingerMs { p.output.lingerMilliseconds = lingerMs }
        if let workers { p.workers.count = workers }
        if let workerThreads { p.workers.threads = workerThreads }
        if let blasThreads { p.workers.blasThreads = blasThreads }
        if let maxBatch { p.workers.maxBatch = maxBatch }
        if let maxBatchDelayMs { p.workers.maxBatchDelay = .milliseconds(maxBatchDelayMs) }
        if let maxWidth { p.limits.maxWidth = maxWidth }
        if let maxHeight { p.limits.maxHeight = maxHeight }
        if let maxPayloadBytes { p.limits.maxPayloadBytes = maxPayloadBytes }
        if let debugWorkerDelayMs { p.workers.artificialDelay = .milliseconds(debugWorkerDelayMs) }
        p.workers.wedgeAfterBatches = debugWedgeAfterBatches
        settings.pipeline = p
        if let drainTimeout { settings.drainTimeout = .milliseconds(drainTimeout * 1000) }
        if let statusInterval { settings.statusInterval = .milliseconds(statusInterval * 1000) }
        if let stallTimeout { settings.stallTimeout = .milliseconds(stallTimeout * 1000) }
        try observabilityOptions.apply(to: &settings.observability)
        do {
            try settings.validate()
        } catch var error {
            // The value came from the file unless a flag replaced it; name the file either way.
            error.file = config.map { "\($0) (with the flags given)" }
            throw error
        }
        return settings
    }

    private static func numbers(_ text: String, flag: String) throws(ConfigurationError) -> [Double] {
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else {
            throw ConfigurationError(key: flag, reason: "expected comma-separated numbers, got '\(text)'")
        }
        return values.map { $0! }
    }

    /// The settings, with configuration errors reported as such.
    func loadSettings() throws -> ServeSettings {
        do {
            return try self.settings()
        } catch let error as ConfigurationError {
            throw CommandFailure("configuration: \(error)")
        }
    }

    /// Loads the model `settings` name.
    static func loadModel(_ settings: ServeSettings) throws -> ModelBundle {
        try ModelOptions.load(path: settings.modelPath, inputSize: settings.inputSize, scale: settings.scale.map(Float.init),
                              mean: settings.mean?.map(Float.init), std: settings.std?.map(Float.init),
                              channelOrder: settings.channelOrder)
    }

    /// Loads the settings and the model they name (what a reload does).
    func load() throws -> (ServeSettings, ModelBundle) {
        let settings = try loadSettings()
        return (settings, try Self.loadModel(settings))
    }

    func run() throws {
        let settings = try loadSettings()
        if checkConfig {
            let bundle = try Self.loadModel(settings)
            print("configuration OK: model \(bundle.name) (\(bundle.url.path)), \(settings.pipeline.sources.count) source(s) "
                  + "(\(settings.pipeline.sources.map { "\($0.name): \($0.socketType.rawValue) \($0.endpoints.joined(separator: " "))" }.joined(separator: "; "))), "
                  + "output \(settings.pipeline.output.socketType.rawValue) \(settings.pipeline.output.endpoint)")
            return
        }
        LoggingSetup.bootstrap(format: settings.observability.logFormat, level: settings.observability.logLevel)
        let logger = Logger(label: "saliencyd")
        let observability = try Observability.start(settings: settings, logger: logger)
        let bundle = try Self.loadModel(settings)
        let kernels = BLASCoreSelection.currentKernelReport()
        if kernels.narrowerThanCPU { logger.notice("engine: \(kernels.message)") } else { logger.info("engine: \(kernels.message)") }
        if let note = KernelSelection.current.note { logger.warning("engine: \(note)") }
        for source in settings.pipeline.sources where source.socketType == .sub && source.effectivePolicy == .block {
            logger.warning("source \(source.name): policy block on a SUB source cannot be lossless — a PUB sender drops at its high-water mark")
        }
        let pipeline = try SaliencyPipeline(configuration: settings.pipeline, bundle: bundle, logger: logger,
                                            observer: observability.observer)
        observability.attach(pipeline)
        // Signals are caught from here on; they are handled once serving starts.
        let controller = ServiceController(pipeline: pipeline, settings: settings, loader: load, logger: logger,
                                           observability: observability)
        do {
            try pipeline.start()
        } catch let error as SaliencyPipeline.StartError {
            throw CommandFailure(error.description)
        }
        for (name, endpoints) in pipeline.sourceEndpoints.sorted(by: { $0.key < $1.key }) {
            let source = settings.pipeline.sources.first { $0.name == name }!
            logger.info("source \(name): \(source.socketType.rawValue.uppercased()) \(source.binds ? "bound to" : "connected to") \(endpoints.joined(separator: ", ")), policy \(source.effectivePolicy.rawValue), queue \(source.queueCapacity)")
        }
        observability.markReady()
        logger.info("ready: maps on \(pipeline.outputEndpoint) (\(settings.pipeline.output.socketType.rawValue.uppercased()), topic prefix '\(settings.pipeline.output.topicPrefix)')")
        controller.run()
        observability.stop()
    }
}
