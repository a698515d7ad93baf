import ArgumentParser
import Engine
import Foundation
import Pipeline

/// `saliencyd tap`: subscribes to the maps and prints one line per message.
struct TapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tap",
        abstract: "Subscribe to published maps; print one line per message, optionally save the maps.")

    @Option(help: "The serve output endpoint.") var endpoint = "tcp://127.0.0.1:5560"
    @Option(help: "Socket type: sub (for a PUB output) or pull (for PUSH).") var socket = "sub"
    @Option(help: "Topic prefix to subscribe to (SUB).") var topic = "saliency/"
    @Option(help: "Exit after this many messages.") var count: Int?
    @Option(help: "Exit after this many seconds without a message.") var idleTimeout: Double?
    @Option(help: "Save each message's maps here: <source>-<seq>.<map>.npy and .png, and the header as .json.") var save: String?
    @Flag(help: "Print each header as one JSON line instead of a summary.") var json = false
    @Flag(help: "Print nothing per message; at exit print one JSON object: count, frames/s, latency percentiles.") var summary = false

    func run() throws {
        guard let type = ZeroMQSocketType(rawValue: socket.lowercased()), type == .sub || type == .pull else {
            throw ValidationError("--socket takes sub or pull, got '\(socket)'")
        }
        let context = ZeroMQContext()
        let zmq = try ZeroMQSocket(context, type: type)
        try zmq.setReceiveTimeout(milliseconds: 200)
        if type == .sub { try zmq.subscribe(topic) }
        try zmq.connect(endpoint)
        if let save { try FileManager.default.createDirectory(atPath: save, withIntermediateDirectories: true) }
        var received = 0
        var lastMessage = Date()
        var statistics = TapStatistics()
        defer { if summary { print(statistics.json()) } }
        while count.map({ received < $0 }) ?? true {
            guard let frames = try zmq.receive() else {
                if let idleTimeout, Date().timeIntervalSince(lastMessage) > idleTimeout {
                    throw CommandFailure("no message for \(idleTimeout) s after \(received) message(s)")
                }
                continue
            }
            lastMessage = Date()
            received += 1
            let now = unixNanoseconds()
            do {
                switch try MapsMessage.parse(frames, decodeMaps: save != nil) {
                case let .maps(message):
                    let h = message.header
                    statistics.add(h, receivedAt: now)
                    if summary {
                        // counted only
                    } else if json {
                        print(String(decoding: frames[1], as: UTF8.self))
                    } else {
                        let latency = Double(now > h.tReceived ? now - h.tReceived : 0) / 1e6
                        print(String(format: "%@ seq %llu: %@ (class %d, %.3f)  latency %.1f ms (queue %.1f, compute %.1f, batch %d)  msg %@",
                                     h.source, h.seq, h.predicted.label, h.predicted.index, h.predicted.score, latency,
                                     h.queueMs, h.computeMs, h.batch, h.msg.description))
                    }
                    if let save { try write(message, frames: frames, to: save) }
                case let .error(_, event):
                    statistics.errors += 1
                    if !summary { print(json ? String(decoding: frames[1], as: UTF8.self)
                          : "\(event.source) seq \(event.seq): ERROR \(event.reason): \(event.detail)") }
                }
            } catch {
                FileHandle.standardError.write(Data("tap: malformed message: \(error)\n".utf8))
            }
            fflush(nil)
        }
    }

    private func write(_ message: MapsMessage, frames: [[UInt8]], to folder: String) throws {
        let stem = "\(folder)/\(message.header.source)-\(message.header.seq)"
        try Data(frames[1]).write(to: URL(fileURLWithPath: "\(stem).json"))
        for (map, values) in zip(message.header.maps, message.maps) {
            try NumpyArray.write(values, shape: [map.height, map.width], to: URL(fileURLWithPath: "\(stem).\(map.name).npy"))
            let heat = HeatMap.render(values, width: map.width, height: map.height, colorMap: map.name == "signed" ? .redBlue : .viridis)
            try PNGEncoder.write(heat, to: URL(fileURLWithPath: "\(stem).\(map.name).png"))
        }
    }
}

/// What `tap --summary` reports: throughput between the first and last maps message received,
/// and latency percentiles (end to end: tap's receipt minus serve's `t_received`).
struct TapStatistics {
    var endToEnd: [Double] = [], queue: [Double] = [], compute: [Double] = [], batch: [Int] = []
    var first: UInt64?, last: UInt64 = 0
    var errors = 0

    mutating func add(_ header: MapsHeader, receivedAt now: UInt64) {
        if first == nil { first = now }
        last = now
        endToEnd.append(Double(now > header.tReceived ? now - header.tReceived : 0) / 1e6)
        queue.append(header.queueMs)
        compute.append(header.computeMs)
        batch.append(header.batch)
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((p / 100 * Double(sorted.count - 1)).rounded()))]
    }

    func json() -> String {
        let seconds = Double(last - (first ?? last)) / 1e9
        let rate = endToEnd.count > 1 && seconds > 0 ? Double(endToEnd.count - 1) / seconds : 0
        let object: [String: Any] = [
            "messages": endToEnd.count, "errors": errors, "seconds": seconds, "frames_per_second": rate,
            "latency_ms": ["p50": Self.percentile(endToEnd, 50), "p90": Self.percentile(endToEnd, 90), "p99": Self.percentile(endToEnd, 99),
                           "max": endToEnd.max() ?? 0],
            "queue_ms_p50": Self.percentile(queue, 50), "compute_ms_p50": Self.percentile(compute, 50),
            "mean_batch": batch.isEmpty ? 0 : Double(batch.reduce(0, +)) / Double(batch.count),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
