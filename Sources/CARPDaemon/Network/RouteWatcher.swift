import CARPInstance
import SystemPackage

/// The rtnetlink socket that tells the instance about its interface's addresses and link
/// (``Instance/routeChanged(_:at:)``), read in the poll loop.
final class RouteWatcher {
    let descriptor: FileDescriptor

    init() throws(DaemonError) {
        descriptor = try System.routeNetlinkSocket()
    }

    deinit {
        System.release(descriptor)
    }

    /// The messages of the next datagram waiting, decoded; nil when none is waiting. Throws
    /// when the socket fails: `ENOBUFS` says the kernel dropped news that did not fit, and
    /// the datagrams after it are read as usual.
    func next() throws(DaemonError) -> [RouteNetlink.Message]? {
        try System.receive(from: descriptor, subject: "rtnetlink").map(RouteNetlink.messages(in:))
    }
}
