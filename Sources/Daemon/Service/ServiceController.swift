import Engine
import Foundation
import Logging
import Pipeline

/// Runs `serve` as a service: tells systemd when it is ready, what it is doing and that it is
/// alive; reloads on SIGHUP; drains and stops on SIGTERM/SIGINT. One serial control queue handles
/// the signals, so a reload and a stop never overlap; the watchdog has its own queue, so it keeps
/// pinging through a long reload as long as the pipeline makes progress.
final class ServiceController: @unchecked Sendable {
    enum State: Equatable { case running, reloading, stopping, stopped }

    /// Loads the settings (re-reading the configuration file) and the model they name.
    typealias Loader = () throws -> (ServeSettings, ModelBundle)

    private let loader: Loader
    private let logger: Logger
    private let notifier: SystemdNotifier?
    private let control = DispatchQueue(label: "saliencyd.control")
    private let watchdogQueue = DispatchQueue(label: "saliencyd.watchdog")
    private let finished = DispatchSemaphore(value: 0)
    private var signalSources: [DispatchSourceSignal] = []
    private var statusTimer: DispatchSourceTimer?
    private var watchdogTimer: DispatchSourceTimer?
    private let lock = NSLock()
    private var state = State.running
    private var settings: ServeSettings
    private let pipeline: SaliencyPipeline
    private let status: StatusReporter
    private var lastHealthProblem: String?
    private let observability: Observability?

    /// Catches SIGINT, SIGTERM and SIGHUP from now on; they are acted on once ``run()`` starts
    /// (the control queue is held until then), so a signal during start-up is never lost.
    init(pipeline: SaliencyPipeline, settings: ServeSettings, loader: @escaping Loader, logger: Logger,
         observability: Observability? = nil) {
        self.pipeline = pipeline
        self.settings = settings
        self.loader = loader
        self.logger = logger
        self.observability = observability
        notifier = SystemdNotifier()
        status = StatusReporter(pipeline: pipeline)
        control.suspend()
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: control)
            source.setEventHandler { [unowned self] in number == SIGHUP ? reload() : stop(signal: number) }
            source.resume()
            signalSources.append(source)
        }
    }

    /// Whether ``run()`` has released the control queue (libdispatch aborts when a suspended
    /// queue is freed, so a failed start must release it too).
    private var controlReleased = false

    deinit {
        signalSources.forEach { $0.cancel() }
        if !controlReleased { control.resume() }
    }

    /// Announces readiness, starts the timers, handles signals, and blocks until stopped.
    func run() {
        controlReleased = true
        control.resume()
        notify(["READY=1", "STATUS=\(status.line())", "MAINPID=\(getpid())"])
        startStatusTimer()
        if let usec = notifier?.watchdogMicroseconds {
            let interval = Double(usec) / 2e6
            let timer = DispatchSource.makeTimerSource(queue: watchdogQueue)
            timer.schedule(deadline: .now(), repeating: interval)
            timer.setEventHandler { [unowned self] in watchdog() }
            timer.resume()
            watchdogTimer = timer
            logger.info("watchdog: pinging every \(String(format: "%.3g", interval)) s while the pipeline makes progress (stall timeout \(settings.stallTimeout))")
        }
        finished.wait()
    }

    private var currentState: State { lock.withLock { state } }

    private func setState(_ new: State) { lock.withLock { state = new } }

    private func notify(_ lines: [String]) {
        guard let notifier else { return }
        if !notifier.notify(lines) { logger.warning("systemd notify: cannot send \(lines.first ?? "") to NOTIFY_SOCKET") }
    }

    private func startStatusTimer() {
        statusTimer?.cancel()
        statusTimer = nil
        guard settings.statusInterval > .zero else { return }
        let interval = settings.statusInterval.timeInterval
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [unowned self] in
            let line = status.line()
            logger.info("status: \(line)")
            notify(["STATUS=\(line)"])
        }
        timer.resume()
        statusTimer = timer
    }

    /// Pings only while the pipeline is healthy: a stuck worker stops the pings, and systemd
    /// restarts the service after WatchdogSec.
    private func watchdog() {
        guard currentState != .stopped else { return }
        let health = pipeline.health(stallTimeout: lock.withLock { settings.stallTimeout })
        if health.healthy {
            if lastHealthProblem != nil { logger.info("watchdog: the pipeline makes progress again; pinging") }
            lastHealthProblem = nil
            notify(["WATCHDOG=1"])
        } else {
            let problem = health.problems.joined(separator: "; ")
            if lastHealthProblem == nil {
                logger.error("watchdog: not pinging systemd: \(problem)")
                notify(["STATUS=stuck: \(problem)"])
            }
            lastHealthProblem = problem
        }
    }

    /// SIGHUP: re-read the configuration and the model; swap them in without losing queued
    /// frames. An invalid configuration is logged and the running one stays.
    private func reload() {
        guard currentState == .running else { return }
        setState(.reloading)
        defer { if currentState == .reloading { setState(.running) } }
        notify(["RELOADING=1", "MONOTONIC_USEC=\(SystemdNotifier.monotonicMicroseconds)", "STATUS=reloading"])
        logger.info("reload: re-reading the configuration")
        let loaded: (ServeSettings, ModelBundle)
        do {
            loaded = try loader()
        } catch {
            logger.error("reload rejected, still serving the previous configuration: \(error)")
            notify(["READY=1", "STATUS=reload rejected (\(error)); \(status.line())"])
            return
        }
        let (next, bundle) = loaded
        do {
            let report = try pipeline.reload(configuration: next.pipeline, bundle: bundle, drainTimeout: next.drainTimeout)
            if !report.completed { logger.warning("reload: the drain timed out; \(report.abandoned) queued frame(s) dropped") }
        } catch {
            logger.error("reload: \(error)")
        }
        lock.withLock { settings = next }
        observability?.attach(pipeline)
        observability?.markReady()
        startStatusTimer()
        notify(["READY=1", "STATUS=\(status.line())"])
    }

    private func stop(signal number: Int32) {
        guard currentState == .running || currentState == .reloading else { return }
        setState(.stopping)
        let drainTimeout = lock.withLock { settings.drainTimeout }
        notify(["STOPPING=1", "STATUS=stopping: draining accepted frames"])
        logger.info("stopping on \(number == SIGTERM ? "SIGTERM" : "SIGINT"): draining accepted frames (at most \(drainTimeout))")
        statusTimer?.cancel()
        observability?.markStopping()
        let report = pipeline.stop(drainTimeout: drainTimeout)
        let snapshot = pipeline.statistics.snapshot()
        logger.info("stopped: received \(snapshot.received), published \(snapshot.published), dropped \(snapshot.dropped), rejected \(snapshot.rejected)\(report.completed ? "" : ", drain timed out with \(report.abandoned) frame(s) abandoned")")
        setState(.stopped)
        watchdogTimer?.cancel()
        finished.signal()
    }
}

/// Turns the statistics into the one-line status (`make run`'s live line; systemd's STATUS=).
final class StatusReporter: @unchecked Sendable {
    private let pipeline: SaliencyPipeline
    private var last: (time: Date, published: UInt64)
    private let lock = NSLock()

    init(pipeline: SaliencyPipeline) {
        self.pipeline = pipeline
        last = (Date(), 0)
    }

    func line() -> String {
        let snapshot = pipeline.statistics.snapshot()
        let now = Date()
        let rate: Double = lock.withLock {
            let rate = Double(snapshot.published - last.published) / max(now.timeIntervalSince(last.time), 1e-3)
            last = (now, snapshot.published)
            return rate
        }
        let depth = pipeline.queueDepths.values.reduce(0, +)
        return String(format: "%.1f frames/s, published %llu, queued %d, dropped %llu, rejected %llu",
                      rate, snapshot.published, depth, snapshot.dropped, snapshot.rejected)
    }
}
