import Logging
import Metrics
import Pipeline
import Prometheus

/// Everything `serve` needs to be watched, in the order `serve` uses it:
/// ``start(settings:logger:)`` (metrics registry, observer, and the HTTP endpoint bound — a bind
/// failure is a startup error naming the address), ``attach(_:)`` once the pipeline exists,
/// ``markReady()`` before `ready:` is logged, ``markStopping()`` and ``stop()`` on shutdown.
final class Observability: Sendable {
    let registry: PrometheusCollectorRegistry
    let observer: PrometheusObserver
    /// What `/readyz` reports.
    let health: HealthState
    /// `nil` when `[metrics] address` is empty.
    let server: MetricsServer?

    private init(registry: PrometheusCollectorRegistry, observer: PrometheusObserver, health: HealthState, server: MetricsServer?) {
        self.registry = registry
        self.observer = observer
        self.health = health
        self.server = server
    }

    /// Creates the registry and the pipeline observer, makes the registry swift-metrics' backend
    /// (once per process), and binds the metrics address if one is configured.
    static func start(settings: ServeSettings, logger: Logger) throws -> Observability {
        let registry = PrometheusCollectorRegistry()
        let factory = DocumentedMetricsFactory.daemon(registry: registry)
        MetricsSystem.bootstrap(factory)
        let observer = PrometheusObserver(sources: settings.pipeline.sources.map(\.name), workers: settings.pipeline.workers.count,
                                          factory: factory)
        let health = HealthState()
        health.setNotReady("loading the model")
        var server: MetricsServer?
        if let address = settings.observability.metrics {
            do {
                server = try MetricsServer.start(address: address, registry: registry, observer: observer, health: health,
                                                 logger: Logger(label: "saliencyd.metrics"))
            } catch let error as MetricsServer.StartError {
                throw CommandFailure(error.description)
            }
            logger.info("metrics: /metrics, /healthz and /readyz on http://\(server!.boundAddress)")
        }
        return Observability(registry: registry, observer: observer, health: health, server: server)
    }

    /// Takes the model's identity and the pipeline's queue depths (call again after a reload).
    func attach(_ pipeline: SaliencyPipeline) {
        observer.setModel(name: pipeline.identity.name, sha256: pipeline.identity.sha256)
        observer.setQueueDepths { [pipeline] in pipeline.queueDepths }
        health.setNotReady("binding sockets")
    }

    /// The model is loaded and every socket bound: `/readyz` answers 200.
    func markReady() { health.setReady() }

    /// Shutting down: `/readyz` answers 503 again while the pipeline drains.
    func markStopping() { health.setNotReady("stopping") }

    /// Closes the metrics endpoint.
    func stop() { server?.stop() }
}
