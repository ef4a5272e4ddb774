import CARPCore
import EtcdHTTP
import Glibc

/// What the daemon's loop will do with the client, on the real monotonic clock: poll its
/// descriptors (and those of a test server) until its deadline, then hand back what was ready.
enum PollLoop {
    static func now() -> MonotonicInstant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return MonotonicInstant(nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
    }

    /// Runs until `done` says so or `limit` seconds have passed; returns the completions.
    static func run(
        _ client: EtcdHTTPClient, server: CannedHTTPServer? = nil, limit: Double = 5,
        extraDeadline: () -> MonotonicInstant? = { nil },
        onTick: (MonotonicInstant, [EtcdHTTPClient.Completion]) -> Void = { _, _ in },
        done: ([EtcdHTTPClient.Completion]) -> Bool
    ) -> [EtcdHTTPClient.Completion] {
        let end = now() + .nanoseconds(UInt64(limit * 1e9))
        var completions: [EtcdHTTPClient.Completion] = []
        while !done(completions) {
            let start = now()
            guard start < end else { break }
            var fds = client.descriptors.map { pollfd(fd: $0.descriptor, events: $0.events, revents: 0) }
            let serverFDs = server?.descriptors ?? []
            fds += serverFDs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let deadline = [client.nextDeadline, extraDeadline(), end].compactMap { $0 }.min() ?? end
            let timeout = Int32(clamping: deadline.duration(since: start).millisecondsRoundedUp)
            _ = poll(&fds, nfds_t(fds.count), timeout)
            let time = now()
            var batch: [EtcdHTTPClient.Completion] = []
            for entry in fds where entry.revents != 0 {
                if serverFDs.contains(entry.fd) {
                    server?.handle(entry.fd)
                } else {
                    batch += client.socketReady(entry.fd, events: entry.revents, at: time)
                }
            }
            batch += client.deadlinePassed(at: time)
            completions += batch
            onTick(time, batch)
        }
        return completions
    }
}

/// A loopback HTTP/1.1 server for the client's unit tests: answers every request with one
/// canned response (or never, when `answers` is false), and keeps what it was sent.
final class CannedHTTPServer {
    let port: UInt16
    private let listener: Int32
    private var connections: [Int32: [UInt8]] = [:]
    var status = 200
    var body: [UInt8] = Array(#"{"ok":true}"#.utf8)
    var answers = true
    /// Every complete request received: head and body as text.
    private(set) var requests: [String] = []

    init() {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        listen(listener, 8)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = UInt16(bigEndian: bound.sin_port)
    }

    deinit {
        for fd in connections.keys { close(fd) }
        close(listener)
    }

    var url: String { "http://127.0.0.1:\(port)/v3/lease/grant" }

    var descriptors: [Int32] { [listener] + connections.keys.sorted() }

    func handle(_ fd: Int32) {
        if fd == listener {
            let connection = accept(listener, nil, nil)
            if connection >= 0 { connections[connection] = [] }
            return
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else {
            close(fd)
            connections[fd] = nil
            return
        }
        connections[fd, default: []] += buffer[0..<count]
        let text = String(decoding: connections[fd] ?? [], as: UTF8.self)
        guard let headEnd = text.firstRange(of: "\r\n\r\n") else { return }
        let head = text[..<headEnd.lowerBound].lowercased()
        let length =
            head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingPrefix(" ")) } ?? 0
        guard text[headEnd.upperBound...].utf8.count >= length else { return }
        requests.append(text)
        connections[fd] = []
        guard answers else { return }
        let response =
            Array(
                "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
            + body
        _ = response.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
