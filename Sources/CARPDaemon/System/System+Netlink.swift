import CARPInstance
import CSystemShims
import Glibc
import SystemPackage

/// rtnetlink: the kernel's news of links and addresses.
extension System {
    /// `swiftcarp_route_netlink_socket`: a non-blocking, close-on-exec `NETLINK_ROUTE` socket
    /// bound to `RTMGRP_LINK` and `RTMGRP_IPV4_IFADDR`.
    static func routeNetlinkSocket() throws(DaemonError) -> FileDescriptor {
        FileDescriptor(
            rawValue: try call("socket(AF_NETLINK, NETLINK_ROUTE)", on: "rtnetlink") {
                swiftcarp_route_netlink_socket()
            })
    }

    /// `recv(MSG_DONTWAIT)`: the next datagram, or nil when none is waiting (`EAGAIN`).
    static func receive(from socket: FileDescriptor, subject: String) throws(DaemonError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        do throws(DaemonError) {
            let got = try call("recv", on: subject) {
                buffer.withUnsafeMutableBytes { recv(socket.rawValue, $0.baseAddress, $0.count, CInt(MSG_DONTWAIT)) }
            }
            return Array(buffer.prefix(got))
        } catch {
            if case .system(_, _, let errno) = error, errno == .resourceTemporarilyUnavailable { return nil }
            throw error
        }
    }
}
