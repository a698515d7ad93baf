import ArgumentParser
import Foundation
import Pipeline

/// `saliencyd send`: replays images as imagezmq-compatible messages.
struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Replay images (files, folders, IDX, .npy) as imagezmq messages over REQ, PUSH or PUB.",
        discussion: """
        JPEG and PNG files go as their file bytes (imagezmq's send_jpg); IDX and .npy datasets, and files \
        with --raw, go as uint8 arrays (send_image; 3-channel arrays in BGR, as OpenCV holds them). Each \
        header carries "msg" and the extra keys "index" and "file". Over REQ every message waits for the \
        hub's reply, at most --timeout seconds.
        """)

    @Option(help: "Endpoint (default: imagezmq's tcp://127.0.0.1:5555).") var endpoint = "tcp://127.0.0.1:5555"
    @Option(help: "Socket type: req (imagezmq's default), push or pub.") var socket = "req"
    @Flag(help: "Bind instead of connect (PUB binds by default).") var bind = false
    @Option(help: "Frames per second; 0 sends as fast as the receiver allows.") var rate: Double = 0
    @Option(help: "The header's msg (imagezmq senders put their name there).") var msg = ProcessInfo.processInfo.hostName
    @Option(help: "A leading topic frame (PUB).") var topic: String?
    @Flag(help: "Send image files as decoded arrays instead of file bytes.") var raw = false
    @Flag(name: .customLong("loop"), help: "Start over after the last image, until interrupted or --count is reached.") var loops = false
    @Option(help: "Stop after this many messages.") var count: Int?
    @Option(help: "Seconds to wait for a REQ reply before giving up.") var timeout: Double = 10
    @Option(help: "Seconds to wait after connecting before the first frame (lets PUB/SUB subscriptions arrive).") var settle: Double = 0.3
    @Flag(help: "Print one line per message.") var verbose = false
    @Argument(help: "JPEG/PNG files, folders of them, IDX image files or .npy uint8 arrays (N×H×W[×C]).") var inputs: [String]

    func run() throws {
        guard let type = ZeroMQSocketType(rawValue: socket.lowercased()), [.req, .push, .pub].contains(type) else {
            throw ValidationError("--socket takes req, push or pub, got '\(socket)'")
        }
        guard rate >= 0 else { throw ValidationError("--rate must not be negative") }
        let replay = try Replay(inputs: inputs, raw: raw)
        guard replay.count > 0 else { throw CommandFailure("no images in \(inputs.joined(separator: ", "))") }

        let context = ZeroMQContext()
        let zmq = try ZeroMQSocket(context, type: type)
        try zmq.setLinger(milliseconds: 5000)
        try zmq.setReceiveTimeout(milliseconds: Int(timeout * 1000))
        if bind || type == .pub { try zmq.bind(endpoint) } else { try zmq.connect(endpoint) }
        if settle > 0 { Thread.sleep(forTimeInterval: settle) }

        let total = count ?? (loops ? Int.max : replay.count)
        let started = Date()
        var sent = 0, accepted = 0, refused = 0
        while sent < total {
            if rate > 0 {
                let due = started.addingTimeInterval(Double(sent) / rate)
                let wait = due.timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            }
            let frames = try replay.message(sent % replay.count, msg: .string(msg), topic: topic)
            try zmq.send(frames)
            sent += 1
            var reply = ""
            if type == .req {
                guard let answer = try zmq.receive() else {
                    throw CommandFailure("no reply from \(endpoint) within \(timeout) s after message \(sent - 1); sent \(sent - 1) before it")
                }
                reply = answer.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
                if reply == "OK" { accepted += 1 } else { refused += 1 }
            }
            if verbose { print("sent \(sent - 1): \(replay.name(sent % replay.count == 0 ? replay.count - 1 : (sent - 1) % replay.count))\(reply.isEmpty ? "" : " → \(reply)")") }
        }
        let seconds = Date().timeIntervalSince(started)
        print(String(format: "sent %d message(s) in %.2f s (%.1f/s) to %@", sent, seconds, Double(sent) / max(seconds, 1e-9), endpoint)
              + (type == .req ? ", \(accepted) OK, \(refused) refused" : ""))
        zmq.close()
        if refused > 0 { throw CommandFailure("\(refused) message(s) were not accepted (see the replies with --verbose)") }
    }
}

/// The images `send` replays, in order.
struct Replay {
    private enum Item {
        case file(String)
        case dataset(ImageDataset, Int)
    }
    private var items: [Item] = []
    private let raw: Bool

    init(inputs: [String], raw: Bool) throws {
        self.raw = raw
        let manager = FileManager.default
        for input in inputs {
            var isFolder: ObjCBool = false
            guard manager.fileExists(atPath: input, isDirectory: &isFolder) else { throw CommandFailure("\(input): no such file or folder") }
            if isFolder.boolValue {
                let files = (manager.enumerator(atPath: input)?.compactMap { $0 as? String } ?? [])
                    .filter { ["png", "jpg", "jpeg"].contains(URL(fileURLWithPath: $0).pathExtension.lowercased()) }.sorted()
                items += files.map { .file("\(input)/\($0)") }
            } else if ["png", "jpg", "jpeg"].contains(URL(fileURLWithPath: input).pathExtension.lowercased()) {
                items.append(.file(input))
            } else {
                let dataset = try ImageDataset.load(input)
                items += (0..<dataset.count).map { .dataset(dataset, $0) }
            }
        }
    }

    var count: Int { items.count }

    func name(_ index: Int) -> String {
        switch items[index] {
        case let .file(path): return path
        case let .dataset(dataset, position): return "\(dataset.source)[\(position)]"
        }
    }

    func message(_ index: Int, msg: JSONValue, topic: String?) throws -> [[UInt8]] {
        let extra: [String: JSONValue] = ["index": .integer(Int64(index)), "file": .string(name(index))]
        switch items[index] {
        case let .file(path):
            if raw {
                let image = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: path))
                return ImageMessages.array(msg: msg, image: image.channels == 3 ? image.swappingRedAndBlue() : image, extra: extra, topic: topic)
            }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            return ImageMessages.compressed(msg: msg, bytes: Array(bytes), extra: extra, topic: topic)
        case let .dataset(dataset, position):
            let image = dataset.image(position)
            return ImageMessages.array(msg: msg, image: image.channels == 3 ? image.swappingRedAndBlue() : image, extra: extra, topic: topic)
        }
    }
}
