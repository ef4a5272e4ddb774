import CARPCore
import CARPInstance
import Glibc
import SystemPackage

/// The instance's control socket, for `ucarp --reload`: a Unix stream socket named by the
/// daemon's pid in a directory of its user's alone (``ControlDirectory/own``, 0700; the socket
/// 0600), and every connection's peer checked with `SO_PEERCRED` (root, or the daemon's own
/// user), so that nobody else can ask.
///
/// The daemon's poll loop serves it and never blocks on it: the listener and the connections
/// are non-blocking, a request is one short line read as it comes (at most
/// ``requestLimit`` bytes, within ``requestTimeout``), and the answer is a few lines written
/// once. Requests: `identify` (answered with ``InstanceIdentity/lines`` and `pid=`), `reload`.
final class ControlSocket {
    static let requestLimit = 128
    static let requestTimeout = MonotonicDuration.seconds(2)
    static let connectionLimit = 4

    enum Request: String {
        case identify
        case reload
    }

    struct Connection {
        var descriptor: FileDescriptor
        var received: [UInt8] = []
        var deadline: MonotonicInstant
    }

    let listener: FileDescriptor
    let path: FilePath
    private(set) var connections: [Connection] = []

    /// The socket path of the instance of process `pid`.
    static func path(of pid: pid_t) -> FilePath {
        ControlDirectory.own.appending("\(pid).sock")
    }

    /// Opens the socket of this process, the directory made if need be.
    init() throws(DaemonError) {
        try System.makePrivateDirectory(ControlDirectory.runtime, mode: 0o755, rootsToo: true)
        try System.makePrivateDirectory(ControlDirectory.own, mode: 0o700)
        path = Self.path(of: getpid())
        listener = try System.listenUnix(at: path)
    }

    /// The socket a predecessor listened on, inherited across `execve` (so there is no moment
    /// without a socket).
    init(inherited listener: FileDescriptor) throws(DaemonError) {
        self.listener = listener
        path = Self.path(of: getpid())
        try System.setCloseOnExec(listener, subject: path.string)
    }

    /// The listener, then each connection, for poll, appended to `descriptors` (no array of
    /// its own: this runs at every wake-up).
    func appendPollDescriptors(to descriptors: inout [pollfd]) {
        let listening = connections.count < Self.connectionLimit ? listener.rawValue : -1
        descriptors.append(pollfd(fd: listening, events: Int16(POLLIN), revents: 0))
        for connection in connections {
            descriptors.append(pollfd(fd: connection.descriptor.rawValue, events: Int16(POLLIN), revents: 0))
        }
    }

    /// The earliest connection's timeout.
    var nextDeadline: MonotonicInstant? { connections.map(\.deadline).min() }

    /// Accepts what is waiting and reads what came, given the slots of ``appendPollDescriptors(to:)``
    /// after a poll; returns the requests complete now, each with its connection (no longer
    /// kept here: the caller answers it). A connection that timed out, sent too much or a
    /// request not known is answered and closed here.
    func service(_ slots: ArraySlice<pollfd>, at now: MonotonicInstant) -> [(FileDescriptor, Request)] {
        // At nearly every wake-up no client is connected and none is waiting: nothing to do
        // (a connection's timeout, too, needs one connected).
        if connections.isEmpty, slots.first.map({ $0.revents == 0 }) ?? true { return [] }
        let slots = Array(slots)
        var requests: [(FileDescriptor, Request)] = []
        var kept: [Connection] = []
        for (offset, var connection) in connections.enumerated() {
            // The slots are those of the connections as they were at the poll, in order.
            if offset + 1 < slots.count, slots[offset + 1].revents != 0 {
                let bytes =
                    (try? System.read(connection.descriptor, upTo: Self.requestLimit, subject: path.string)) ?? []
                if bytes.isEmpty {
                    System.release(connection.descriptor)
                    continue
                }
                connection.received += bytes
            }
            if let end = connection.received.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: connection.received[..<end], as: UTF8.self)
                if let request = Request(rawValue: line) {
                    requests.append((connection.descriptor, request))
                } else {
                    Self.answer(connection.descriptor, "error: unknown request (known: identify, reload)\n")
                }
            } else if connection.received.count >= Self.requestLimit || now >= connection.deadline {
                Self.answer(connection.descriptor, "error: no request line\n")
            } else {
                kept.append(connection)
            }
        }
        connections = kept
        if let first = slots.first, first.revents != 0 { accept(at: now) }
        return requests
    }

    private func accept(at now: MonotonicInstant) {
        while connections.count < Self.connectionLimit,
            let descriptor = try? System.accept(listener, subject: path.string)
        {
            // Only root and our user may ask; the directory keeps others out already, this is
            // the second lock.
            guard let peer = try? System.peerUID(of: descriptor, subject: path.string), ControlDirectory.mayAsk(peer)
            else {
                Self.answer(descriptor, "refused: only root or the daemon's user may use the control socket\n")
                continue
            }
            connections.append(Connection(descriptor: descriptor, deadline: now + Self.requestTimeout))
        }
    }

    /// Writes `text` (a few lines: the socket's buffer takes them whole) and closes.
    static func answer(_ descriptor: FileDescriptor, _ text: String) {
        try? System.write(Array(text.utf8), to: descriptor, subject: "a control connection")
        System.release(descriptor)
    }

    /// Removes the socket's name, at exit (not at a re-execution: the successor keeps it).
    func remove() {
        try? System.unlink(path)
    }
}
