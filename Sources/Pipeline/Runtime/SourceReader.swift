import Engine
import Foundation
import Logging
import Synchronization

/// One source's ingest thread: owns the source's socket, receives messages, parses and decodes
/// them, prepares the model input, and queues the frame under the source's policy. A REP source
/// answers `OK` once the frame is queued, `DROPPED: …` when the policy refused it, and
/// `ERROR <reason>: …` when it was rejected.
final class SourceReader: @unchecked Sendable {
    let index: Int
    let configuration: SourceConfiguration
    private let socket: ZeroMQSocket
    private let parser: ImageMessageParser
    private let bundle: ModelBundle
    private let scheduler: FrameScheduler
    private let publisher: Publisher
    private let statistics: PipelineStatistics
    private let rateLimitedLog: RateLimitedLog
    private let topicPrefix: String
    private let stopping = Atomic<Bool>(false)
    /// The next message's seq; read after the thread has returned (a reload carries it over).
    private(set) var nextSeq: UInt64
    /// Monotonic nanoseconds of the loop's last turn (it turns at least every 50 ms unless stuck).
    let heartbeat = Atomic<UInt64>(monotonicNanoseconds())
    /// How long one wait (for a message, or for room) lasts before the loop re-checks `stopping`.
    private let pollInterval = Duration.milliseconds(50)

    init(index: Int, configuration: SourceConfiguration, socket: ZeroMQSocket, limits: IngestLimits, bundle: ModelBundle,
         scheduler: FrameScheduler, publisher: Publisher, statistics: PipelineStatistics, topicPrefix: String,
         rateLimitedLog: RateLimitedLog, firstSeq: UInt64 = 0) throws(ZeroMQError) {
        self.index = index
        nextSeq = firstSeq
        self.configuration = configuration
        self.socket = socket
        parser = ImageMessageParser(limits: limits, rawChannelOrder: configuration.channelOrder)
        self.bundle = bundle
        self.scheduler = scheduler
        self.publisher = publisher
        self.statistics = statistics
        self.topicPrefix = topicPrefix
        self.rateLimitedLog = rateLimitedLog
        try socket.setReceiveTimeout(milliseconds: Int(pollInterval.timeInterval * 1000))
        try socket.setSendTimeout(milliseconds: 1000)
    }

    /// Asks the thread to stop reading; it returns within about 50 ms.
    func stop() { stopping.store(true, ordering: .relaxed) }

    /// The socket, for the pipeline to close or hand to the next reader after a reload.
    var ownedSocket: ZeroMQSocket { socket }

    /// The thread's body. Leaves the socket open: the pipeline closes it, or keeps it across a
    /// reload.
    func run() {
        var seq = nextSeq
        defer { nextSeq = seq }
        let name = configuration.name
        let blocks = configuration.effectivePolicy == .block
        while !stopping.load(ordering: .relaxed) {
            heartbeat.store(monotonicNanoseconds(), ordering: .relaxed)
            if blocks && !scheduler.waitForRoom(source: index, timeout: pollInterval) { continue }
            let frames: [[UInt8]]
            do {
                guard let received = try socket.receive() else { continue }
                frames = received
            } catch {
                rateLimitedLog.warning(key: "\(name)/socket", "source \(name): \(error)")
                continue
            }
            let receivedAt = unixNanoseconds()
            let current = seq
            seq += 1
            statistics.received(name)
            let reply: String
            do {
                let incoming = try parser.parse(frames, label: "source \(name), seq \(current)")
                reply = queue(incoming, seq: current, receivedAt: receivedAt)
            } catch let rejection {
                statistics.rejected(name, rejection.reason)
                rateLimitedLog.warning(key: "\(name)/\(rejection.reason.rawValue)", "rejected: \(rejection.detail)",
                                       metadata: ["source": "\(name)", "reason": "\(rejection.reason.rawValue)"])
                publisher.submit([Publisher.Item(
                    source: index, dispatchIndex: nil,
                    message: ErrorEvents.message(for: rejection, source: name, seq: current, msg: Self.bestEffortMsg(frames),
                                                 receivedAt: receivedAt, prefix: topicPrefix),
                    timing: nil)])
                reply = "ERROR \(rejection.reason.rawValue): \(rejection.detail)"
            }
            if configuration.socketType == .rep {
                do {
                    try socket.send(reply)
                } catch {
                    rateLimitedLog.warning(key: "\(name)/reply", "source \(name): cannot reply: \(error)")
                }
            }
        }
    }

    /// Prepares and queues a parsed frame; returns the REP reply.
    private func queue(_ incoming: IncomingFrame, seq: UInt64, receivedAt: UInt64) -> String {
        let tensor: [Float]
        switch incoming.pixels {
        case let .bytes(image): tensor = FramePreparation.tensor(image, for: bundle, sourceIsBGR: incoming.isBGR)
        case let .floats(image): tensor = FramePreparation.tensor(image, for: bundle, sourceIsBGR: incoming.isBGR)
        }
        let frame = PendingFrame(
            source: index, sourceName: configuration.name, seq: seq, tensor: tensor, msg: incoming.msg, extra: incoming.extra,
            senderTopic: incoming.topic, kind: incoming.kind, originalWidth: incoming.pixels.width,
            originalHeight: incoming.pixels.height, originalChannels: incoming.pixels.channels, receivedAt: receivedAt)
        switch scheduler.offer(frame) {
        case .accepted:
            return "OK"
        case .acceptedDroppingOldest:
            statistics.dropped(configuration.name, .queueFullOldest)
            return "OK"
        case .refused:
            statistics.dropped(configuration.name, .queueFullNew)
            return "DROPPED: queue full"
        case .closed:
            statistics.dropped(configuration.name, .shutdown)
            return "DROPPED: shutting down"
        }
    }

    /// The `msg` of a rejected message's header, if it got that far.
    private static func bestEffortMsg(_ frames: [[UInt8]]) -> JSONValue? {
        guard frames.count == 2 || frames.count == 3,
              case let .object(header)? = try? JSONDecoder().decode(JSONValue.self, from: Data(frames[frames.count - 2]))
        else { return nil }
        return header["msg"]
    }
}
