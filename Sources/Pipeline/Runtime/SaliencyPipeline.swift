import Engine
import Foundation
import Logging

/// The streaming pipeline: socket → decode → queue → worker (batch) → reorder → publish.
///
/// ``start()`` binds and connects every socket (and throws, naming the endpoint, before any
/// thread starts if one fails), then runs one ingest thread per source, `workers.count` compute
/// threads and one publisher thread. ``stop(drainTimeout:)`` stops reading, lets the workers
/// finish what was accepted, publishes it, and closes the sockets.
public final class SaliencyPipeline: @unchecked Sendable {
    /// A failure to start.
    public enum StartError: Error, CustomStringConvertible {
        case socket(role: String, endpoint: String, ZeroMQError)
        case unsupportedModel(String)

        public var description: String {
            switch self {
            case let .socket(role, endpoint, error): return "\(role): cannot open \(endpoint): \(error.reason)"
            case let .unsupportedModel(reason): return "the model cannot be served: \(reason)"
            }
        }
    }

    /// How a stop went.
    public struct DrainReport: Sendable {
        /// Whether every accepted frame was computed and published before the deadline.
        public var completed: Bool
        /// Frames still queued at the deadline (counted as dropped, `shutdown`).
        public var abandoned: Int
    }

    private enum State { case created, running, stopped }

    public let configuration: PipelineConfiguration
    public let bundle: ModelBundle
    public let identity: ModelIdentity
    public let statistics: PipelineStatistics
    private let logger: Logger
    private let context = ZeroMQContext()
    private let scheduler: FrameScheduler
    private var state = State.created
    private var readers: [SourceReader] = []
    private var workers: [SaliencyWorker] = []
    private var publisher: Publisher?
    private var readerThreads: [DedicatedThread] = []
    private var workerThreads: [DedicatedThread] = []
    private var publisherThread: DedicatedThread?
    /// The endpoints actually bound or connected, wildcard ports resolved: the output's, and each
    /// source's by name.
    public private(set) var outputEndpoint = ""
    public private(set) var sourceEndpoints: [String: [String]] = [:]

    public init(configuration: PipelineConfiguration, bundle: ModelBundle, logger: Logger = Logger(label: "saliencyd.pipeline"),
                observer: (any PipelineObserver)? = nil) throws {
        self.configuration = configuration
        self.bundle = bundle
        self.logger = logger
        identity = try ModelIdentity(bundle)
        statistics = PipelineStatistics(sourceNames: configuration.sources.map(\.name), workers: configuration.workers.count,
                                        observer: observer)
        scheduler = FrameScheduler(queues: configuration.sources.map { ($0.queueCapacity, $0.effectivePolicy) })
        guard bundle.model.auxiliaryInputCount == 0 else {
            throw StartError.unsupportedModel("it has \(bundle.model.auxiliaryInputCount) input(s) besides the image")
        }
    }

    /// Opens every socket, then starts the threads.
    public func start() throws {
        precondition(state == .created, "a pipeline starts once")
        let output = try openOutput()
        var sockets: [ZeroMQSocket] = []
        for source in configuration.sources {
            do {
                sockets.append(try openSource(source))
            } catch {
                sockets.forEach { $0.close() }
                output.close()
                throw error
            }
        }
        BLAS.threadCount = configuration.workers.blasThreads
        let names = configuration.sources.map(\.name)
        let reorderCapacity = max(16, 4 * configuration.workers.count * configuration.workers.maxBatch)
        let publisher = Publisher(socket: output, sourceNames: names, statistics: statistics, reorderCapacity: reorderCapacity,
                                  logger: logger)
        self.publisher = publisher
        let rateLimitedLog = RateLimitedLog(logger: logger)
        for (index, source) in configuration.sources.enumerated() {
            readers.append(try SourceReader(
                index: index, configuration: source, socket: sockets[index], limits: configuration.limits, bundle: bundle,
                scheduler: scheduler, publisher: publisher, statistics: statistics, topicPrefix: configuration.output.topicPrefix,
                rateLimitedLog: rateLimitedLog))
        }
        for index in 0..<configuration.workers.count {
            workers.append(SaliencyWorker(index: index, bundle: bundle, identity: identity, configuration: configuration,
                                          scheduler: scheduler, publisher: publisher, statistics: statistics, logger: logger))
        }
        publisherThread = DedicatedThread(name: "publisher") { publisher.run() }
        workerThreads = workers.map { worker in DedicatedThread(name: "worker-\(worker.index)", stackSize: 16 << 20) { worker.run() } }
        readerThreads = readers.map { reader in DedicatedThread(name: "source-\(reader.configuration.name)") { reader.run() } }
        state = .running
        logger.info("serving \(identity.name) (sha256 \(identity.sha256)) on \(configuration.sources.count) source(s) with \(workers.count) worker(s); maps on \(outputEndpoint)")
    }

    private func openOutput() throws -> ZeroMQSocket {
        let endpoint = configuration.output.endpoint
        do {
            let socket = try ZeroMQSocket(context, type: configuration.output.socketType)
            try socket.setSendHighWaterMark(configuration.output.sendHighWaterMark)
            try socket.setLinger(milliseconds: configuration.output.lingerMilliseconds)
            try socket.setSendTimeout(milliseconds: 100)
            try socket.bind(endpoint)
            outputEndpoint = socket.lastEndpoint
            return socket
        } catch {
            throw StartError.socket(role: "output", endpoint: endpoint, error)
        }
    }

    private func openSource(_ source: SourceConfiguration) throws -> ZeroMQSocket {
        var endpoint = source.endpoints.first ?? ""
        do {
            let socket = try ZeroMQSocket(context, type: source.socketType)
            try socket.setReceiveHighWaterMark(source.receiveHighWaterMark)
            // Messages over the payload limit are received and rejected (counted, answered); only
            // beyond 4× the limit does libzmq cut the peer off, to bound memory.
            try socket.setMaximumMessageSize(ZeroMQSocket.hardMessageLimit(forPayloadLimit: configuration.limits.maxPayloadBytes))
            if source.socketType == .sub { try socket.subscribe(source.topic) }
            var resolved: [String] = []
            for current in source.endpoints {
                endpoint = current
                if source.binds {
                    try socket.bind(current)
                    resolved.append(socket.lastEndpoint)
                } else {
                    try socket.connect(current)
                    resolved.append(current)
                }
            }
            sourceEndpoints[source.name] = resolved
            return socket
        } catch {
            throw StartError.socket(role: "source \(source.name)", endpoint: endpoint, error)
        }
    }

    /// Frames waiting in the queues, per source name.
    public var queueDepths: [String: Int] {
        Dictionary(uniqueKeysWithValues: configuration.sources.enumerated().map { ($1.name, scheduler.depth(source: $0)) })
    }

    /// Stops reading every source, computes and publishes what was accepted within
    /// `drainTimeout`, and closes the sockets (the output lingers up to its linger time).
    /// Frames still queued at the deadline are counted as dropped (`shutdown`).
    @discardableResult
    public func stop(drainTimeout: Duration = .seconds(10)) -> DrainReport {
        guard state == .running else { return DrainReport(completed: true, abandoned: 0) }
        state = .stopped
        let deadline = Date().addingTimeInterval(drainTimeout.timeInterval)
        readers.forEach { $0.stop() }
        readerThreads.forEach { $0.join() }
        scheduler.close()
        var completed = true
        for thread in workerThreads {
            let remaining = max(0, deadline.timeIntervalSinceNow)
            if !thread.join(timeout: .milliseconds(Int(remaining * 1000))) { completed = false }
        }
        var abandoned = 0
        if !completed {
            let removed = scheduler.removeAll()
            abandoned = removed.count
            for frame in removed { statistics.dropped(frame.sourceName, .shutdown) }
            logger.warning("drain timeout: \(abandoned) queued frame(s) abandoned, a worker is still busy")
        }
        publisher?.finish(deadline: deadline.addingTimeInterval(0.5))
        publisherThread?.join()
        return DrainReport(completed: completed, abandoned: abandoned)
    }

    /// Lets a worker wedged on purpose (``WorkerConfiguration/wedgeAfterBatches``) go on.
    public func releaseWedgedWorkers() { workers.forEach { $0.releaseWedge() } }
}
