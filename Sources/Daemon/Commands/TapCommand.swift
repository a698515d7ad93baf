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
                switch try MapsMessage.parse(frames) {
                case let .maps(message):
                    let h = message.header
                    if json {
                        print(String(decoding: frames[1], as: UTF8.self))
                    } else {
                        let latency = Double(now > h.tReceived ? now - h.tReceived : 0) / 1e6
                        print(String(format: "%@ seq %llu: %@ (class %d, %.3f)  latency %.1f ms (queue %.1f, compute %.1f, batch %d)  msg %@",
                                     h.source, h.seq, h.predicted.label, h.predicted.index, h.predicted.score, latency,
                                     h.queueMs, h.computeMs, h.batch, h.msg.description))
                    }
                    if let save { try write(message, frames: frames, to: save) }
                case let .error(_, event):
                    print(json ? String(decoding: frames[1], as: UTF8.self)
                          : "\(event.source) seq \(event.seq): ERROR \(event.reason): \(event.detail)")
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
