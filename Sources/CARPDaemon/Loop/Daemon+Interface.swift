import CARPCore
import CARPInstance
import UCarpConfiguration

/// Opening what is bound to the interface: at start-up, and again when it was deleted and
/// created anew (``Instance/Action/reopenInterface``).
extension Daemon {
    /// What is bound to one interface: its index, MAC and group membership, the capture, and
    /// the unicast socket (with `--peer`).
    struct Opened {
        let interface: NetworkInterface
        let capture: PacketCapture
        let unicast: UnicastSender?
    }

    /// Opens the interface `name`, checks an IPv6 `--srcip` is on it, opens the capture, then
    /// joins the group (multicast) or opens the unicast socket (`--peer`, bound to `--srcip`,
    /// an IPv6 one scoped to the interface's index). All or nothing.
    static func open(interface name: String, settings: Settings) throws(DaemonError) -> Opened {
        let interface = try NetworkInterface(name: name)
        if let source = settings.sourceAddress.ipv6, try !interface.has(source) {
            throw .sourceAddressNotOnInterface(address: source, interface: name)
        }
        let capture = try PacketCapture(
            interface: name,
            filter: PacketCapture.filter(
                vhid: settings.vhid, sourceAddress: settings.sourceAddress, unicast: !settings.peers.isEmpty))
        guard !settings.peers.isEmpty else {
            // The membership makes the NIC (and a bridge snooping IGMP or MLD) pass the group's frames.
            switch settings.group {
            case .ipv4(let group): if !settings.noMulticast { try interface.join(group: group) }
            case .ipv6(let group): if !settings.noMulticast { try interface.join(group: group) }
            }
            return Opened(interface: interface, capture: capture, unicast: nil)
        }
        let unicast =
            switch settings.sourceAddress {
            case .ipv4(let source):
                try UnicastSender(sourceAddress: source, peers: settings.peers.compactMap(\.ipv4))
            case .ipv6(let source):
                try UnicastSender(
                    sourceAddress: source, peers: settings.peers.compactMap(\.ipv6), interfaceIndex: interface.index)
            }
        return Opened(interface: interface, capture: capture, unicast: unicast)
    }

    /// Opens an interface of our interface's name again, its predecessor gone: on success the
    /// new capture, MAC, index and sockets replace the old ones (whose descriptors close).
    func reopenInterface() -> Instance.InterfaceReopening {
        guard NetworkInterface.exists(interfaceName) else { return .absent }
        do throws(DaemonError) {
            let opened = try Self.open(interface: interfaceName, settings: settings)
            (interface, capture, unicast) = (opened.interface, opened.capture, opened.unicast)
            // The gratuitous ARPs go out from this one now.
            logger.info("Local advertised ethernet address is [\(interface.mac.macDescription)]")
        } catch {
            return .failed(error)
        }
        return .reopened(index: interface.index, link: interface.linkState())
    }
}
