import Foundation

/// Plays systemd's side of the notify protocol: a bound AF_UNIX datagram socket (a path, or an
/// abstract name) that records every datagram with the time it arrived.
final class NotifyListener: @unchecked Sendable {
    struct Message { var time: Date; var lines: [String] }

    /// What to put in `NOTIFY_SOCKET`.
    let address: String
    /// Shared with the receiving thread, which outlives nothing it does not own.
    private final class Inbox: @unchecked Sendable {
        let lock = NSLock()
        var received: [Message] = []
        var closed = false
    }
    private let inbox = Inbox()

    init(abstract: Bool) throws {
        let name = abstract ? "@saliencyd-test-\(UUID().uuidString.prefix(8))"
            : FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8)).sock").path
        address = name
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &addr.sun_path) { path in for (i, b) in bytes.enumerated() { path[i] = b } }
        let length = MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) } }
        guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let inbox = self.inbox
        let path = abstract ? nil : name
        Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !inbox.lock.withLock({ inbox.closed }) {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count > 0 {
                    let text = String(decoding: buffer[0..<count], as: UTF8.self)
                    inbox.lock.withLock { inbox.received.append(Message(time: Date(), lines: text.split(separator: "\n").map(String.init))) }
                }
            }
            close(fd)
            if let path { unlink(path) }
        }.start()
    }

    deinit {
        inbox.lock.withLock { inbox.closed = true }
    }

    var messages: [Message] { inbox.lock.withLock { inbox.received } }

    /// Times of messages holding `line`.
    func times(of line: String) -> [Date] { messages.filter { $0.lines.contains(line) }.map(\.time) }

    /// Waits until a message holds a line with `prefix`; returns the line.
    func wait(for prefix: String, timeout: TimeInterval = 60) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = messages.flatMap(\.lines).first(where: { $0.hasPrefix(prefix) }) { return line }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return nil
    }
}
