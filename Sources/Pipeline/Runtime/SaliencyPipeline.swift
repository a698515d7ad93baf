import Engine
import Foundation
import Logging

/// The streaming pipeline: socket → decode → queue → worker (batch) → reorder → publish.
///
/// ``start()`` binds and connects every socket (and throws, naming the endpoint, before any
/// thread starts if one fails), then runs one ingest thread per source, `workers.count` compute
/// threads and one publisher thread. ``reload(configuration:bundle:)`` swaps the model and the
/// sources without losing queued frames; ``stop(drainTimeout:)`` stops reading, lets the workers
/// finish what was accepted, publishes it, and closes the sockets.
///
/// The control methods (start, reload, stop, health) are called from one control thread.
public final class SaliencyPipeline: @unchecked Sendable {
    /// A failure to start or reload.
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

    /// How a stop or a reload's drain went.
    public struct DrainReport: Sendable {
        /// Whether every accepted frame was computed and published before the deadline.
        public var completed: Bool
        /// Frames still queued at the deadline (counted as dropped, `shutdown`).
        public var abandoned: Int
    }

    /// Whether the pipeline is making progress (what the systemd watchdog pings on).
    public struct Health: Sendable, Equatable {
        public var healthy: Bool
        /// Why not, naming the thread.
        public var problems: [String]
    }

    private enum State { case created, running, stopped }

    /// The threads and queues of one configuration and model; a reload replaces them.
    private struct Generation {
        var configuration: PipelineConfiguration
        var bundle: ModelBundle
        var identity: ModelIdentity
        var scheduler: FrameScheduler
        var readers: [SourceReader] = []
        var workers: [SaliencyWorker] = []
        var readerThreads: [DedicatedThread] = []
        var workerThreads: [DedicatedThread] = []
    }

    public let statistics: PipelineStatistics
    private let logger: Logger
    private let context = ZeroMQContext()
    private var state = State.created
    /// Read from any thread (status, metrics, health), replaced by the control thread: guarded.
    private let generationLock = NSLock()
    private var currentGeneration: Generation
    private var generation: Generation {
        get { generationLock.withLock { currentGeneration } }
        set { generationLock.withLock { currentGeneration = newValue } }
    }
    private var publisher: Publisher?
    private var publisherThread: DedicatedThread?
    private let rateLimitedLog: RateLimitedLog

    /// The configuration and model in force.
    public var configuration: PipelineConfiguration { generation.configuration }
    public var bundle: ModelBundle { generation.bundle }
    public var identity: ModelIdentity { generation.identity }
    /// The endpoints actually bound or connected, wildcard ports resolved: the output's, and each
    /// source's by name.
    public private(set) var outputEndpoint = ""
    public private(set) var sourceEndpoints: [String: [String]] = [:]

    public init(configuration: PipelineConfiguration, bundle: ModelBundle, logger: Logger = Logger(label: "saliencyd.pipeline"),
                observer: (any PipelineObserver)? = nil) throws {
        self.logger = logger
        rateLimitedLog = RateLimitedLog(logger: logger)
        statistics = PipelineStatistics(sourceNames: configuration.sources.map(\.name), workers: configuration.workers.count,
                                        observer: observer)
        currentGeneration = try Self.generation(configuration, bundle)
    }

    private static func generation(_ configuration: PipelineConfiguration, _ bundle: ModelBundle) throws -> Generation {
        guard bundle.model.auxiliaryInputCount == 0 else {
            throw StartError.unsupportedModel("it has \(bundle.model.auxiliaryInputCount) input(s) besides the image")
        }
        return Generation(configuration: configuration, bundle: bundle, identity: try ModelIdentity(bundle),
                          scheduler: FrameScheduler(queues: configuration.sources.map { ($0.queueCapacity, $0.effectivePolicy) }))
    }

    /// Opens every socket, then starts the threads.
    public func start() throws {
        precondition(state == .created, "a pipeline starts once")
        let output = try openOutput(generation.configuration.output)
        var sockets: [ZeroMQSocket] = []
        for source in generation.configuration.sources {
            do {
                sockets.append(try openSource(source))
            } catch {
                sockets.forEach { $0.close() }
                output.close()
                throw error
            }
        }
        startPublisher(output)
        try launch(sockets: sockets, seqs: [:])
        state = .running
        logger.info("serving \(identity.name) (sha256 \(identity.sha256)) on \(configuration.sources.count) source(s) with \(configuration.workers.count) worker(s); maps on \(outputEndpoint)")
    }

    private func startPublisher(_ output: ZeroMQSocket) {
        let configuration = generation.configuration
        let publisher = Publisher(socket: output, sourceNames: configuration.sources.map(\.name), statistics: statistics,
                                  reorderCapacity: Self.reorderCapacity(configuration), logger: logger)
        self.publisher = publisher
        publisherThread = DedicatedThread(name: "publisher") { publisher.run() }
    }

    private static func reorderCapacity(_ configuration: PipelineConfiguration) -> Int {
        max(16, 4 * configuration.workers.count * configuration.workers.maxBatch)
    }

    /// Starts the current generation's readers and workers on `sockets` (one per source).
    private func launch(sockets: [ZeroMQSocket], seqs: [String: UInt64]) throws {
        var generation = self.generation
        defer { self.generation = generation }
        let configuration = generation.configuration
        BLAS.threadCount = configuration.workers.blasThreads
        let publisher = self.publisher!
        for (index, source) in configuration.sources.enumerated() {
            generation.readers.append(try SourceReader(
                index: index, configuration: source, socket: sockets[index], limits: configuration.limits, bundle: generation.bundle,
                scheduler: generation.scheduler, publisher: publisher, statistics: statistics,
                topicPrefix: configuration.output.topicPrefix, rateLimitedLog: rateLimitedLog, firstSeq: seqs[source.name] ?? 0))
        }
        for index in 0..<configuration.workers.count {
            generation.workers.append(SaliencyWorker(
                index: index, bundle: generation.bundle, identity: generation.identity, configuration: configuration,
                scheduler: generation.scheduler, publisher: publisher, statistics: statistics, logger: logger))
        }
        generation.workerThreads = generation.workers.map { worker in
            DedicatedThread(name: "worker-\(worker.index)", stackSize: 16 << 20) { worker.run() }
        }
        generation.readerThreads = generation.readers.map { reader in
            DedicatedThread(name: "source-\(reader.configuration.name)") { reader.run() }
        }
    }

    private func openOutput(_ output: OutputConfiguration) throws -> ZeroMQSocket {
        do {
            let socket = try ZeroMQSocket(context, type: output.socketType)
            try socket.setSendHighWaterMark(output.sendHighWaterMark)
            try socket.setLinger(milliseconds: output.lingerMilliseconds)
            try socket.setSendTimeout(milliseconds: 100)
            try Self.bindRetrying(socket, output.endpoint)
            outputEndpoint = socket.lastEndpoint
            return socket
        } catch {
            throw StartError.socket(role: "output", endpoint: output.endpoint, error)
        }
    }

    /// Binds, retrying `EADDRINUSE` for up to a second: after a reload closed the previous
    /// socket on the same endpoint, libzmq releases the port asynchronously.
    private static func bindRetrying(_ socket: ZeroMQSocket, _ endpoint: String) throws(ZeroMQError) {
        let deadline = Date().addingTimeInterval(1)
        while true {
            do {
                return try socket.bind(endpoint)
            } catch where error.code == EADDRINUSE && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
    }

    private func openSource(_ source: SourceConfiguration) throws -> ZeroMQSocket {
        var endpoint = source.endpoints.first ?? ""
        do {
            let socket = try ZeroMQSocket(context, type: source.socketType)
            try socket.setReceiveHighWaterMark(source.receiveHighWaterMark)
            // Messages over the payload limit are received and rejected (counted, answered); only
            // beyond 4× the limit does libzmq cut the peer off, to bound memory.
            try socket.setMaximumMessageSize(ZeroMQSocket.hardMessageLimit(forPayloadLimit: generation.configuration.limits.maxPayloadBytes))
            if source.socketType == .sub { try socket.subscribe(source.topic) }
            var resolved: [String] = []
            for current in source.endpoints {
                endpoint = current
                if source.binds {
                    try Self.bindRetrying(socket, current)
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
        let current = generation
        return Dictionary(uniqueKeysWithValues: current.configuration.sources.enumerated().map { ($1.name, current.scheduler.depth(source: $0)) })
    }

    // MARK: Drain, stop, reload

    /// Stops the readers (their sockets stay open), lets the workers finish every queued frame
    /// by `deadline`, and returns the readers' next seq per source name.
    private func drainGeneration(deadline: Date) -> (DrainReport, seqs: [String: UInt64]) {
        generation.readers.forEach { $0.stop() }
        generation.readerThreads.forEach { $0.join() }
        generation.scheduler.close()
        var completed = true
        for thread in generation.workerThreads {
            let remaining = max(0, deadline.timeIntervalSinceNow)
            if !thread.join(timeout: .milliseconds(Int(remaining * 1000))) { completed = false }
        }
        var abandoned = 0
        if !completed {
            let removed = generation.scheduler.removeAll()
            abandoned = removed.count
            for frame in removed { statistics.dropped(frame.sourceName, .shutdown) }
            logger.warning("drain timeout: \(abandoned) queued frame(s) abandoned, a worker is still busy")
        }
        let seqs = Dictionary(uniqueKeysWithValues: generation.readers.map { ($0.configuration.name, $0.nextSeq) })
        return (DrainReport(completed: completed, abandoned: abandoned), seqs)
    }

    /// Stops reading every source, computes and publishes what was accepted within
    /// `drainTimeout`, and closes the sockets (the output lingers up to its linger time).
    /// Frames still queued at the deadline are counted as dropped (`shutdown`).
    @discardableResult
    public func stop(drainTimeout: Duration = .seconds(10)) -> DrainReport {
        guard state == .running else { return DrainReport(completed: true, abandoned: 0) }
        state = .stopped
        let deadline = Date().addingTimeInterval(drainTimeout.timeInterval)
        let (report, _) = drainGeneration(deadline: deadline)
        generation.readers.forEach { $0.ownedSocket.close() }
        publisher?.finish(deadline: deadline.addingTimeInterval(0.5))
        publisherThread?.join()
        return report
    }

    /// Swaps in a new configuration and model (SIGHUP): stops reading, computes and publishes
    /// every queued frame with the old model (within `drainTimeout`), then starts the new
    /// sources and workers. A source whose socket settings (type, endpoints, bind, topic,
    /// receive_hwm) and name are unchanged keeps its socket, so nothing its senders queued in
    /// ZeroMQ is lost and its seq continues; the output keeps its socket unless its endpoint,
    /// type or high-water mark changed. Throws if a new socket cannot be opened (the sources
    /// that did open keep serving).
    public func reload(configuration: PipelineConfiguration, bundle: ModelBundle, drainTimeout: Duration = .seconds(10)) throws -> DrainReport {
        precondition(state == .running, "reload a running pipeline")
        let next = try Self.generation(configuration, bundle)
        let deadline = Date().addingTimeInterval(drainTimeout.timeInterval)
        let (report, seqs) = drainGeneration(deadline: deadline)
        let old = generation
        _ = publisher?.waitUntilIdle(timeout: max(0.1, deadline.timeIntervalSinceNow))

        // Keep the sockets whose settings did not change; close the others.
        var kept: [String: ZeroMQSocket] = [:]
        for reader in old.readers {
            let previous = reader.configuration
            if let same = configuration.sources.first(where: { $0.name == previous.name }), Self.sameSocket(same, previous),
               old.configuration.limits.maxPayloadBytes == configuration.limits.maxPayloadBytes {
                kept[previous.name] = reader.ownedSocket
            } else {
                reader.ownedSocket.close()
                sourceEndpoints[previous.name] = nil
            }
        }
        let oldOutput = old.configuration.output
        let outputChanged = oldOutput.endpoint != configuration.output.endpoint || oldOutput.socketType != configuration.output.socketType
            || oldOutput.sendHighWaterMark != configuration.output.sendHighWaterMark || oldOutput.lingerMilliseconds != configuration.output.lingerMilliseconds
        generation = next
        if outputChanged {
            publisher?.finish(deadline: deadline)
            publisherThread?.join()
            startPublisher(try openOutput(configuration.output))
        } else {
            publisher?.reconfigure(sourceNames: configuration.sources.map(\.name))
        }
        var sockets: [ZeroMQSocket] = []
        var failure: Error?
        var opened = generation.configuration
        opened.sources = []
        for source in configuration.sources {
            if let socket = kept[source.name] {
                sockets.append(socket)
                opened.sources.append(source)
                continue
            }
            do {
                sockets.append(try openSource(source))
                opened.sources.append(source)
            } catch {
                logger.error("reload: \(error)")
                failure = failure ?? error
            }
        }
        if failure != nil {
            // Serve what could be opened.
            generation = try Self.generation(opened, bundle)
            publisher?.reconfigure(sourceNames: opened.sources.map(\.name))
        }
        try launch(sockets: sockets, seqs: seqs)
        logger.info("reloaded: serving \(identity.name) (sha256 \(identity.sha256)) on \(self.configuration.sources.count) source(s) with \(self.configuration.workers.count) worker(s)")
        if let failure { throw failure }
        return report
    }

    private static func sameSocket(_ a: SourceConfiguration, _ b: SourceConfiguration) -> Bool {
        a.socketType == b.socketType && a.endpoints == b.endpoints && a.binds == b.binds && a.topic == b.topic
            && a.receiveHighWaterMark == b.receiveHighWaterMark
    }

    // MARK: Health

    /// Healthy when every worker is waiting for frames or has been on its current batch for less
    /// than `stallTimeout`, and every source thread and the publisher have turned their loops
    /// within `stallTimeout` (they turn every 50–100 ms while alive).
    public func health(stallTimeout: Duration) -> Health {
        let now = monotonicNanoseconds()
        let limit = UInt64(max(0, stallTimeout.timeInterval) * 1e9)
        var problems: [String] = []
        for worker in generation.workers {
            let since = worker.busySince.load(ordering: .relaxed)
            if since != 0 && now > since && now - since > limit {
                problems.append(String(format: "worker %d has been on one batch for %.1f s", worker.index, Double(now - since) / 1e9))
            }
        }
        for reader in generation.readers {
            let beat = reader.heartbeat.load(ordering: .relaxed)
            if now > beat && now - beat > limit {
                problems.append(String(format: "source %@ has not turned its loop for %.1f s", reader.configuration.name, Double(now - beat) / 1e9))
            }
        }
        if let publisher {
            let beat = publisher.heartbeat.load(ordering: .relaxed)
            if now > beat && now - beat > limit {
                problems.append(String(format: "the publisher has not turned its loop for %.1f s", Double(now - beat) / 1e9))
            }
        }
        return Health(healthy: problems.isEmpty, problems: problems)
    }

    /// Lets a worker wedged on purpose (``WorkerConfiguration/wedgeAfterBatches``) go on.
    public func releaseWedgedWorkers() { generation.workers.forEach { $0.releaseWedge() } }
}
