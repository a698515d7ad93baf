import Dispatch
import Hummingbird
import Logging
import Pipeline
import Prometheus
import ServiceLifecycle
import Synchronization

/// `[metrics] address` / `--metrics-address`: where `/metrics`, `/healthz` and `/readyz` listen.
struct MetricsAddress: Sendable, Equatable, CustomStringConvertible {
    var host: String
    /// 0 picks a free port (the one bound is logged).
    var port: Int

    static let defaultText = "127.0.0.1:9560"

    /// `host:port` (`[v6]:port` for IPv6), or `nil` for the empty string (metrics off). Names
    /// `key` when the text is neither.
    static func parse(_ text: String, key: String) throws(ConfigurationError) -> MetricsAddress? {
        if text.isEmpty { return nil }
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ConfigurationError(key: key, reason: "'\(text)' is not [IPv6 address]:port")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw ConfigurationError(key: key, reason: "'\(text)' is not host:port (such as 127.0.0.1:9560; \"\" turns metrics off)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw ConfigurationError(key: key, reason: "'\(text)' has no host (0.0.0.0 listens everywhere)") }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ConfigurationError(key: key, reason: "'\(portText)' in '\(text)' is not a port (0-65535)")
        }
        return MetricsAddress(host: String(host), port: port)
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Whether the daemon is ready for traffic: `/readyz` answers 200 when it is, else 503 with the
/// reason (loading the model, binding sockets, stopping).
final class HealthState: Sendable {
    private let notReadyReason = Mutex<String?>("starting")

    /// `nil` when ready, else why not.
    var reason: String? { notReadyReason.withLock { $0 } }
    func setReady() { notReadyReason.withLock { $0 = nil } }
    func setNotReady(_ reason: String) { notReadyReason.withLock { $0 = reason } }
}

/// The HTTP endpoint Prometheus scrapes, served by Hummingbird on Swift's async runtime (NIO's
/// event loops and the cooperative pool), never on the pipeline's threads:
/// - `GET /metrics`: the registry in Prometheus text format 0.0.4, gauges sampled at request time;
/// - `GET /healthz`: 200 while the process runs (liveness);
/// - `GET /readyz`: 200 once the model is loaded and every socket is bound, else 503 (readiness).
final class MetricsServer: Sendable {
    /// A failure to listen, naming the address.
    struct StartError: Error, CustomStringConvertible {
        let address: MetricsAddress
        let reason: String
        var description: String { "metrics.address: cannot listen on \(address): \(reason)" }
    }

    /// The address actually bound (port 0 resolved).
    let boundAddress: MetricsAddress
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let finished: DispatchSemaphore

    private init(boundAddress: MetricsAddress, group: ServiceGroup, task: Task<Void, any Error>, finished: DispatchSemaphore) {
        self.boundAddress = boundAddress
        self.group = group
        self.task = task
        self.finished = finished
    }

    /// Starts listening on `address` and returns once the socket is bound; throws ``StartError``
    /// if it cannot be (in use, no such address) or does not bind within `timeout`.
    static func start(address: MetricsAddress, registry: PrometheusCollectorRegistry, observer: PrometheusObserver,
                      health: HealthState, logger: Logger, timeout: Duration = .seconds(10)) throws -> MetricsServer {
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            observer.refresh()
            let text = registry.emitToBuffer()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.get("healthz") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: "alive\n")))
        }
        router.get("readyz") { _, _ -> Response in
            let reason = health.reason
            return Response(status: reason == nil ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: reason.map { "not ready: \($0)\n" } ?? "ready\n")))
        }

        enum Outcome: Sendable { case bound(host: String, port: Int), failed(String) }
        let outcome = Mutex<Outcome?>(nil)
        let settled = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        // Hummingbird logs its own "Server started" line at info; ours (with the resolved port) is
        // enough, so its logger only speaks about problems.
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "saliencyd",
                                                    reuseAddress: true),
            onServerRunning: { channel in
                let local = channel.localAddress
                outcome.withLock { $0 = .bound(host: local?.ipAddress ?? address.host, port: local?.port ?? address.port) }
                settled.signal()
            },
            logger: serverLogger)
        // No signal handling here: serve owns SIGTERM/SIGINT and calls stop().
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: serverLogger))
        let task = Task<Void, any Error> {
            defer { finished.signal() }
            do {
                try await group.run()
            } catch {
                let first = outcome.withLock { state -> Bool in
                    guard state == nil else { return false }
                    state = .failed(String(describing: error))
                    return true
                }
                if first { settled.signal() } else if !Task.isCancelled { logger.error("metrics server on \(address) stopped: \(error)") }
                throw error
            }
        }
        guard settled.wait(timeout: .now() + timeout.timeInterval) == .success else {
            task.cancel()
            throw StartError(address: address, reason: "not bound after \(timeout)")
        }
        switch outcome.withLock({ $0 })! {
        case let .bound(host, port):
            return MetricsServer(boundAddress: MetricsAddress(host: host, port: port), group: group, task: task, finished: finished)
        case let .failed(reason):
            throw StartError(address: address, reason: reason)
        }
    }

    /// Stops accepting, lets requests in progress finish and closes idle keep-alive connections
    /// (a graceful shutdown); after `timeout`, cancels whatever is left.
    func stop(timeout: Duration = .seconds(2)) {
        let group = self.group
        Task { await group.triggerGracefulShutdown() }
        if finished.wait(timeout: .now() + timeout.timeInterval) == .timedOut {
            task.cancel()
            _ = finished.wait(timeout: .now() + 1)
        }
    }
}
