import Metrics
import Prometheus

/// A swift-metrics backend over a swift-prometheus registry that also gives each metric its
/// `# HELP` text and histogram buckets, by metric name.
///
/// swift-prometheus's own `PrometheusMetricsFactory` registers everything with an empty help
/// text, and its registry refuses (with a fatal error) a second registration of a name with a
/// different help, so the two cannot be mixed for one name; this factory goes to the registry's
/// `make…(descriptor:labels:…)` with a help text instead. Names without an entry get no HELP line and
/// swift-prometheus's default buckets, as with the stock factory.
struct DocumentedMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    var help: [String: String] = [:]
    var durationBuckets: [String: [Duration]] = [:]
    var valueBuckets: [String: [Double]] = [:]
    private let stock: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry, help: [String: String] = [:], durationBuckets: [String: [Duration]] = [:],
         valueBuckets: [String: [Double]] = [:]) {
        self.registry = registry
        self.help = help
        self.durationBuckets = durationBuckets
        self.valueBuckets = valueBuckets
        stock = PrometheusMetricsFactory(registry: registry)
    }

    /// The whole name as the descriptor's `metricName` (the other parts empty), with its help.
    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: help[label] ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions,
                                           buckets: valueBuckets[label] ?? stock.defaultValueHistogramBuckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions,
                                       buckets: durationBuckets[label] ?? stock.defaultDurationHistogramBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) { stock.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { stock.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { stock.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { stock.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { stock.destroyTimer(handler) }
}

extension DocumentedMetricsFactory {
    /// The daemon's factory: ``PrometheusObserver``'s help texts and buckets, over `registry`.
    static func daemon(registry: PrometheusCollectorRegistry) -> DocumentedMetricsFactory {
        typealias Name = PrometheusObserver.Name
        let latency = PrometheusObserver.latencyBuckets
        return DocumentedMetricsFactory(
            registry: registry, help: PrometheusObserver.help,
            durationBuckets: [Name.queueLatency: latency, Name.computeLatency: latency, Name.endToEndLatency: latency],
            valueBuckets: [Name.batchSize: PrometheusObserver.batchBuckets])
    }
}
