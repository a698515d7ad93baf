import Foundation
import Pipeline

/// systemd's notify protocol (sd_notify(3)) without libsystemd: newline-separated `KEY=VALUE`
/// lines in one datagram to the AF_UNIX socket named by `$NOTIFY_SOCKET` — a path (`/run/…`) or
/// an abstract name (`@…`, the `@` standing for a leading NUL byte).
struct SystemdNotifier: Sendable {
    /// The socket address's path bytes (a leading 0 for an abstract name).
    private let address: [UInt8]
    /// `$WATCHDOG_USEC` when it applies to this process (`$WATCHDOG_PID` unset or ours).
    let watchdogMicroseconds: UInt64?

    /// The notifier for this process's environment, or `nil` when not run by systemd (or
    /// anything else that sets `NOTIFY_SOCKET`).
    init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let socket = environment["NOTIFY_SOCKET"], socket.hasPrefix("/") || socket.hasPrefix("@"), socket.utf8.count > 1 else {
            return nil
        }
        var bytes = Array(socket.utf8)
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else { return nil }
        address = bytes
        let pid = environment["WATCHDOG_PID"].flatMap { Int32($0) }
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0, pid == nil || pid == getpid() {
            watchdogMicroseconds = usec
        } else {
            watchdogMicroseconds = nil
        }
    }

    /// Sends the lines as one datagram; returns whether it was sent (a missing listener is not
    /// an error worth stopping for: the caller logs it once).
    @discardableResult
    func notify(_ lines: [String]) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { path in
            for (index, byte) in address.enumerated() { path[index] = byte }
        }
        // Abstract names are exactly as long as given; paths count their terminating NUL too.
        let length = MemoryLayout<sa_family_t>.size + address.count + (address.first == 0 ? 0 : 1)
        let message = Array(lines.joined(separator: "\n").utf8)
        let sent = withUnsafePointer(to: &addr) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, socklen_t(length)) }
            }
        }
        return sent == message.count
    }

    /// `MONOTONIC_USEC=` for `RELOADING=1`: CLOCK_MONOTONIC in microseconds.
    static var monotonicMicroseconds: UInt64 { monotonicNanoseconds() / 1000 }
}
