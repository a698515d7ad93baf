import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A strict reader of the Prometheus text exposition format (0.0.4), for checking `/metrics`:
/// every line is `# HELP name text`, `# TYPE name type`, or a sample `name{label="value",…} value`;
/// anything else is an error naming the line. Samples must belong to a family declared by a
/// TYPE line before them (`_bucket`, `_sum`, `_count` for histograms).
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: Int
        var text: String
        var reason: String
        var description: String { "line \(line) '\(text)': \(reason)" }
    }

    var help: [String: String] = [:]
    var types: [String: String] = [:]
    var samples: [Sample] = []

    init(_ text: String) throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (offset, raw) in lines.enumerated() {
            let line = String(raw)
            let number = offset + 1
            func fail(_ reason: String) -> ParseError { ParseError(line: number, text: line, reason: reason) }
            if line.isEmpty {
                guard offset == lines.count - 1 else { throw fail("empty line inside the exposition") }
                continue
            }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
                guard parts.count >= 3, parts[0] == "#", ["HELP", "TYPE"].contains(parts[1]) else { throw fail("a comment that is neither HELP nor TYPE") }
                let name = parts[2]
                guard Self.isMetricName(name) else { throw fail("'\(name)' is not a metric name") }
                if parts[1] == "HELP" {
                    guard help[name] == nil else { throw fail("second HELP for \(name)") }
                    help[name] = parts.count == 4 ? parts[3] : ""
                } else {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw fail("TYPE needs one of counter, gauge, histogram, summary, untyped")
                    }
                    guard types[name] == nil else { throw fail("second TYPE for \(name)") }
                    guard !samples.contains(where: { Self.family(of: $0.name, in: [name: parts[3]]) != nil }) else {
                        throw fail("TYPE for \(name) after its samples")
                    }
                    types[name] = parts[3]
                }
                continue
            }
            let sample = try Self.sample(line, fail: fail)
            guard Self.family(of: sample.name, in: types) != nil else { throw fail("sample \(sample.name) has no TYPE line before it") }
            samples.append(sample)
        }
    }

    /// The family a sample name belongs to: itself, or for a histogram the name without
    /// `_bucket`/`_sum`/`_count`.
    static func family(of name: String, in types: [String: String]) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return nil
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, CharacterSet.letters.contains(first) || first == "_" || first == ":" else { return false }
        return name.unicodeScalars.allSatisfy { ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || $0 == "_" || $0 == ":" }
    }

    private static func sample(_ line: String, fail: (String) -> ParseError) throws -> Sample {
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", line[index] != " " { index = line.index(after: index) }
        let name = String(line[..<index])
        guard isMetricName(name) else { throw fail("'\(name)' is not a metric name") }
        var labels: [String: String] = [:]
        if index < line.endIndex, line[index] == "{" {
            index = line.index(after: index)
            while true {
                guard index < line.endIndex else { throw fail("unterminated label set") }
                if line[index] == "}" { index = line.index(after: index); break }
                let nameStart = index
                while index < line.endIndex, line[index] != "=" { index = line.index(after: index) }
                let labelName = String(line[nameStart..<index])
                guard isMetricName(labelName), !labelName.contains(":") else { throw fail("'\(labelName)' is not a label name") }
                index = line.index(after: index)
                guard index < line.endIndex, line[index] == "\"" else { throw fail("label \(labelName) has no quoted value") }
                index = line.index(after: index)
                var value = ""
                while true {
                    guard index < line.endIndex else { throw fail("unterminated value of label \(labelName)") }
                    let character = line[index]
                    if character == "\"" { index = line.index(after: index); break }
                    if character == "\\" {
                        index = line.index(after: index)
                        guard index < line.endIndex else { throw fail("dangling escape") }
                        switch line[index] {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: throw fail("unknown escape \\\(line[index])")
                        }
                    } else {
                        value.append(character)
                    }
                    index = line.index(after: index)
                }
                guard labels[labelName] == nil else { throw fail("label \(labelName) twice") }
                labels[labelName] = value
                guard index < line.endIndex else { throw fail("unterminated label set") }
                if line[index] == "," { index = line.index(after: index) } else if line[index] != "}" { throw fail("expected , or } after a label") }
            }
        }
        guard index < line.endIndex, line[index] == " " else { throw fail("no space before the value") }
        let rest = line[line.index(after: index)...].split(separator: " ")
        guard rest.count == 1 || rest.count == 2 else { throw fail("expected a value and an optional timestamp") }
        let valueText = String(rest[0])
        let value: Double
        switch valueText {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let parsed = Double(valueText) else { throw fail("'\(valueText)' is not a number") }
            value = parsed
        }
        if rest.count == 2, Int64(rest[1]) == nil { throw fail("'\(rest[1])' is not a timestamp") }
        return Sample(name: name, labels: labels, value: value)
    }

    /// Samples named `name` whose labels include `labels`.
    func samples(_ name: String, _ labels: [String: String] = [:]) -> [Sample] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }
    }

    /// The one sample named `name` with exactly `labels`, or nil.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { $0.name == name && $0.labels == labels }
        return matching.count == 1 ? matching[0].value : nil
    }
}

/// A blocking HTTP GET (URLSession), for `/metrics`, `/healthz`, `/readyz`.
enum HTTP {
    struct Reply { var status: Int; var body: String; var contentType: String? }

    struct Failure: Error, CustomStringConvertible {
        var url: URL
        var reason: String
        var description: String { "GET \(url): \(reason)" }
    }

    static func get(_ url: URL, timeout: TimeInterval = 10) throws -> Reply {
        let done = DispatchSemaphore(value: 0)
        let result = Locked<Result<Reply, Failure>?>(nil)
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "GET"
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                result.set(.failure(Failure(url: url, reason: error.localizedDescription)))
            } else if let http = response as? HTTPURLResponse {
                result.set(.success(Reply(status: http.statusCode, body: String(decoding: data ?? Data(), as: UTF8.self),
                                          contentType: http.value(forHTTPHeaderField: "Content-Type"))))
            } else {
                result.set(.failure(Failure(url: url, reason: "not an HTTP response")))
            }
            done.signal()
        }
        task.resume()
        guard done.wait(timeout: .now() + timeout + 5) == .success, let outcome = result.get() else {
            task.cancel()
            throw Failure(url: url, reason: "no answer within \(timeout) s")
        }
        return try outcome.get()
    }
}

/// A value shared between threads under a lock.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
}
