import Foundation

/// A `saliencyd` process left running (serve), whose output is collected as it comes.
final class RunningProcess: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var collectedOutput = Data()
    private var collectedErrors = Data()

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = ExplainCommandTests.binary
        process.arguments = arguments
        process.currentDirectoryURL = ExplainCommandTests.repository
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock { self?.collectedOutput.append(data) }
        }
        errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock { self?.collectedErrors.append(data) }
        }
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    var output: String { lock.withLock { String(decoding: collectedOutput, as: UTF8.self) } }
    var errors: String { lock.withLock { String(decoding: collectedErrors, as: UTF8.self) } }

    /// Waits until `predicate` holds for stderr (true) or `timeout` seconds pass or the process
    /// exits (false).
    func waitForErrors(timeout: TimeInterval = 60, _ predicate: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(errors) { return true }
            if !process.isRunning { return predicate(errors) }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    /// Sends `signal` and waits for the exit; returns the status, or nil after `timeout`.
    func stop(signal: Int32 = SIGTERM, timeout: TimeInterval = 30) -> Int32? {
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { return nil }
        Thread.sleep(forTimeInterval: 0.1)  // let the readability handlers drain
        return process.terminationStatus
    }

    /// The first capture of `pattern`'s first group in stderr, waiting up to `timeout` seconds
    /// for it to appear: a line logged around the moment a test synchronises on (READY=1 is sent
    /// just before serve logs "ready: maps on …") may not have been read from the pipe yet.
    func firstMatch(_ pattern: String, timeout: TimeInterval = 30) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        func capture(_ text: String) -> String? {
            guard let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                  let range = Range(match.range(at: 1), in: text) else { return nil }
            return String(text[range])
        }
        var found: String?
        _ = waitForErrors(timeout: timeout) { text in
            found = capture(text)
            return found != nil
        }
        return found
    }
}
