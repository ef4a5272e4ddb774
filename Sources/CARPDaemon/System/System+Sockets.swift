import CARPCore
import CARPInstance
import CSystemShims
import Glibc
import SystemPackage

/// Sockets and interfaces, IPv4 (ucarp's) and IPv6.
extension System {
    /// `socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)`.
    static func datagramSocket(for subject: String) throws(DaemonError) -> FileDescriptor {
        let socket = try call("socket(AF_INET, SOCK_DGRAM)", on: subject) {
            Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        return FileDescriptor(rawValue: socket)
    }

    /// `socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, protocol)`.
    static func rawSocket(protocol: UInt8, for subject: String) throws(DaemonError) -> FileDescriptor {
        let socket = try call("socket(AF_INET, SOCK_RAW, \(`protocol`))", on: subject) {
            Glibc.socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), CInt(`protocol`))
        }
        return FileDescriptor(rawValue: socket)
    }

    /// `setsockopt` of an `int` option; `name` is how the error names it (`IP_TTL`).
    static func setOption(
        _ socket: FileDescriptor, level: CInt, option: CInt, value: CInt, name: String, subject: String
    ) throws(DaemonError) {
        var value = value
        _ = try call("setsockopt(\(name))", on: subject) {
            setsockopt(socket.rawValue, level, option, &value, socklen_t(MemoryLayout<CInt>.size))
        }
    }

    /// `bind` to `address`, any port; `call` is how the error names it.
    static func bind(
        _ socket: FileDescriptor, to address: IPv4Address, call: String, subject: String
    ) throws(DaemonError) {
        var socketAddress = sockaddr_in(address)
        _ = try self.call(call, on: subject) {
            withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(socket.rawValue, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// `sendto`: one datagram to `address`. A datagram goes whole or not at all, so there is
    /// no short write to finish.
    static func send(_ datagram: [UInt8], on socket: FileDescriptor, to address: IPv4Address) throws(DaemonError) {
        var destination = sockaddr_in(address)
        _ = try call("sendto", on: "\(address)") {
            withUnsafePointer(to: &destination) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { destination in
                    datagram.withUnsafeBytes {
                        sendto(
                            socket.rawValue, $0.baseAddress, $0.count, 0, destination,
                            socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        }
    }

    /// `if_nametoindex`: the index of the interface called `name`.
    static func interfaceIndex(of name: String) throws(DaemonError) -> UInt32 {
        let index = try call("if_nametoindex", on: name) { () -> Int64 in
            let index = if_nametoindex(name)
            return index == 0 ? -1 : Int64(index)
        }
        return UInt32(index)
    }

    /// `swiftcarp_interface_mac` (`ioctl(SIOCGIFHWADDR)`): the interface's hardware address
    /// and its `ARPHRD_` type.
    static func hardwareAddress(
        of name: String, using socket: FileDescriptor
    ) throws(DaemonError) -> (address: [UInt8], type: UInt32) {
        var address = [UInt8](repeating: 0, count: 6)
        var type: UInt32 = 0
        _ = try call("ioctl(SIOCGIFHWADDR)", on: name) {
            swiftcarp_interface_mac(socket.rawValue, name, &address, &type)
        }
        return (address, type)
    }

    /// `swiftcarp_interface_flags` (`ioctl(SIOCGIFFLAGS)`): the interface's `IFF_` flags.
    static func interfaceFlags(of name: String, using socket: FileDescriptor) throws(DaemonError) -> UInt32 {
        var flags: UInt32 = 0
        _ = try call("ioctl(SIOCGIFFLAGS)", on: name) { swiftcarp_interface_flags(socket.rawValue, name, &flags) }
        return flags
    }

    /// `swiftcarp_join_group` (`setsockopt(IP_ADD_MEMBERSHIP)`): joins `group` on the
    /// interface `name`, whose index is `index`.
    static func join(
        group: IPv4Address, interface name: String, index: UInt32, using socket: FileDescriptor
    ) throws(DaemonError) {
        _ = try call("setsockopt(IP_ADD_MEMBERSHIP \(group))", on: name) {
            swiftcarp_join_group(socket.rawValue, group.value, Int32(index))
        }
    }
}

// MARK: IPv6

extension System {
    /// `socket(AF_INET6, type | SOCK_CLOEXEC, protocol)`.
    static func ipv6Socket(raw: Bool, protocol: UInt8, for subject: String) throws(DaemonError) -> FileDescriptor {
        let type = raw ? Int32(SOCK_RAW.rawValue) : Int32(SOCK_DGRAM.rawValue)
        let socket = try call("socket(AF_INET6, \(raw ? "SOCK_RAW" : "SOCK_DGRAM"), \(`protocol`))", on: subject) {
            Glibc.socket(AF_INET6, type | Int32(SOCK_CLOEXEC.rawValue), CInt(`protocol`))
        }
        return FileDescriptor(rawValue: socket)
    }

    /// `swiftcarp_join_group6` (`setsockopt(IPV6_ADD_MEMBERSHIP)`): joins `group` on the
    /// interface `name`, whose index is `index`.
    static func join(
        group: IPv6Address, interface name: String, index: UInt32, using socket: FileDescriptor
    ) throws(DaemonError) {
        _ = try call("setsockopt(IPV6_ADD_MEMBERSHIP \(group))", on: name) {
            group.octets.withUnsafeBufferPointer {
                swiftcarp_join_group6(socket.rawValue, $0.baseAddress, Int32(index))
            }
        }
    }

    /// `swiftcarp_interface_has_ipv6` (`getifaddrs`): whether `name` has `address`.
    static func interface(_ name: String, has address: IPv6Address) throws(DaemonError) -> Bool {
        try call("getifaddrs", on: name) {
            address.octets.withUnsafeBufferPointer { swiftcarp_interface_has_ipv6(name, $0.baseAddress) }
        } == 1
    }

    /// `swiftcarp_ipv6_socket_options`: hop limit 255 for unicast and multicast, and the
    /// traffic class.
    static func setIPv6AdvertisementOptions(
        _ socket: FileDescriptor, trafficClass: UInt8, subject: String
    ) throws(DaemonError) {
        _ = try call("setsockopt(IPV6_UNICAST_HOPS, IPV6_MULTICAST_HOPS, IPV6_TCLASS)", on: subject) {
            swiftcarp_ipv6_socket_options(socket.rawValue, CInt(trafficClass))
        }
    }

    /// `swiftcarp_bind6`: `bind` to `address` on the interface with index `index`.
    static func bind(
        _ socket: FileDescriptor, to address: IPv6Address, index: UInt32, call: String, subject: String
    ) throws(DaemonError) {
        _ = try self.call(call, on: subject) {
            address.octets.withUnsafeBufferPointer { swiftcarp_bind6(socket.rawValue, $0.baseAddress, Int32(index)) }
        }
    }

    /// `swiftcarp_sendto6`: one datagram to `address`, scoped to the interface `index`.
    static func send(
        _ datagram: [UInt8], on socket: FileDescriptor, to address: IPv6Address, index: UInt32
    ) throws(DaemonError) {
        _ = try call("sendto", on: "\(address)") {
            address.octets.withUnsafeBufferPointer { destination in
                datagram.withUnsafeBytes {
                    swiftcarp_sendto6(socket.rawValue, $0.baseAddress, $0.count, destination.baseAddress, Int32(index))
                }
            }
        }
    }
}

extension sockaddr_in {
    /// `address`, any port.
    fileprivate init(_ address: IPv4Address) {
        self.init()
        sin_family = sa_family_t(AF_INET)
        sin_addr.s_addr = address.value.bigEndian
    }
}
