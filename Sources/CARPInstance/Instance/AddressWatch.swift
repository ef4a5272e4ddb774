import CARPCore
import UCarpConfiguration

/// What rtnetlink says of the virtual addresses on our interface: which vanished while we
/// were master, and whether the link came back up, as a loss to repair.
///
/// The watch only records; the instance decides when a loss may be repaired (MASTER, running,
/// no script running or queued, since our own scripts add and remove the address too).
struct AddressWatch: Equatable {
    enum Loss: Equatable {
        case addressRemoved
        case linkUp
        /// The kernel dropped news that did not fit in the socket (`ENOBUFS`): a removal
        /// may be among them.
        case newsLost
    }

    let interfaceIndex: UInt32
    /// Whether the link was RUNNING in its last news; nil before any.
    private(set) var linkRunning: Bool?
    /// A loss to repair once no script is running or queued.
    private(set) var pending: Loss?
    /// The virtual addresses removed since the last repair, while MASTER.
    private(set) var vanished: Set<IPAddress> = []

    init(interfaceIndex: UInt32) {
        self.interfaceIndex = interfaceIndex
    }

    /// rtnetlink's news, decoded (``RouteNetlink/messages(in:)``): a removal of one of the
    /// `watched` addresses while `master`, or the link coming back up while `master`, is a
    /// loss; every vanished address back before the repair forgets it.
    mutating func heard(_ messages: [RouteNetlink.Message], watching watched: Set<IPAddress>, master: Bool) {
        for message in messages {
            if let news = Self.addressNews(message, interfaceIndex: interfaceIndex) {
                guard watched.contains(news.address) else { continue }
                if news.added {
                    // Every one back before we repaired them: an up script put them there, or an operator.
                    vanished.remove(news.address)
                    if pending == .addressRemoved, vanished.isEmpty { pending = nil }
                } else if master {
                    vanished.insert(news.address)
                    pending = .addressRemoved
                }
            } else if case .link(interfaceIndex, let running) = message {
                if master, running, linkRunning == false { pending = .linkUp }
                linkRunning = running
            }
        }
    }

    /// The rtnetlink socket overflowed (`ENOBUFS`): the address may have gone unseen.
    mutating func newsLost() {
        pending = .newsLost
    }

    /// The pending loss and the addresses that went, now being repaired; nil if none.
    mutating func repair() -> (loss: Loss, vanished: Set<IPAddress>)? {
        guard let pending else { return nil }
        let repaired = (pending, vanished)
        forget()
        return repaired
    }

    /// Forgets a loss seen in the last role: a new role runs its own script.
    mutating func forget() {
        pending = nil
        vanished = []
    }

    /// An address of the interface with this index added or removed, of either family.
    static func addressNews(
        _ message: RouteNetlink.Message, interfaceIndex: UInt32
    ) -> (address: IPAddress, added: Bool)? {
        switch message {
        case .addressAdded(interfaceIndex, let address): (.ipv4(address), true)
        case .addressRemoved(interfaceIndex, let address): (.ipv4(address), false)
        case .ipv6AddressAdded(interfaceIndex, let address): (.ipv6(address), true)
        case .ipv6AddressRemoved(interfaceIndex, let address): (.ipv6(address), false)
        // Another interface's addresses, or a link's news.
        case .addressAdded, .addressRemoved, .ipv6AddressAdded, .ipv6AddressRemoved, .link: nil
        }
    }
}
