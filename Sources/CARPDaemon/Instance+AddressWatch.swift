import CARPCore

/// Addresses that vanish come back: `systemctl restart networking`, NetworkManager or an
/// `ip addr flush` remove the virtual address from a master that goes on advertising. While
/// MASTER, a removal of a virtual address (any of them) from our interface (or the link coming back up)
/// runs the up script again and announces the address, with reason `address-lost` and no
/// change of role.
///
/// Our own scripts add and remove the address too, so the watch only reacts while MASTER,
/// and never while an up or down script is running or queued: a loss seen meanwhile waits
/// for the queue to drain, and is forgotten if the address comes back first (the up script
/// behind a down script of a quick BACKUP → MASTER) or the role changes.
extension Instance {
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
        var linkRunning: Bool?
        /// A loss to repair once no script is running or queued.
        var pending: Loss?
        /// The virtual addresses removed since the last repair, while MASTER.
        var vanished: Set<IPAddress> = []
    }

    /// The shell opened its rtnetlink socket: news of the interface with this index counts.
    mutating func addressWatchStarted(interfaceIndex: UInt32) {
        addressWatch = AddressWatch(interfaceIndex: interfaceIndex)
    }

    /// rtnetlink's news, decoded (``RouteNetlink/messages(in:)``).
    mutating func routeChanged(_ messages: [RouteNetlink.Message], at now: MonotonicInstant) -> [Action] {
        guard var watch = addressWatch, phase == .running else { return [] }
        let master = machine.role == .master
        let watched = Set(settings.virtualAddresses)
        for message in messages {
            if let news = Self.addressNews(message, interfaceIndex: watch.interfaceIndex) {
                guard watched.contains(news.address) else { continue }
                if news.added {
                    // Every one back before we repaired them: an up script put them there, or an operator.
                    watch.vanished.remove(news.address)
                    if watch.pending == .addressRemoved, watch.vanished.isEmpty { watch.pending = nil }
                } else if master {
                    watch.vanished.insert(news.address)
                    watch.pending = .addressRemoved
                }
            } else if case .link(watch.interfaceIndex, let running) = message {
                if master, running, watch.linkRunning == false { watch.pending = .linkUp }
                watch.linkRunning = running
            }
        }
        addressWatch = watch
        return restoreLostAddress(at: now)
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
        default: nil
        }
    }

    /// The rtnetlink socket overflowed (`ENOBUFS`): while MASTER the address may have gone
    /// unseen, so it is put back as if it had (the up script runs again, harmless when it
    /// only adds the address, as `vip-up` does).
    mutating func routeNewsLost(at now: MonotonicInstant) -> [Action] {
        guard addressWatch != nil, phase == .running, machine.role == .master else { return [] }
        addressWatch?.pending = .newsLost
        return restoreLostAddress(at: now)
    }

    /// A pending loss repaired, once it may be: MASTER, running, no script running or queued.
    mutating func restoreLostAddress(at now: MonotonicInstant) -> [Action] {
        guard let loss = addressWatch?.pending, machine.role == .master, phase == .running, runningScript == nil,
            scriptQueue.isEmpty
        else { return [] }
        let vanished = addressWatch?.vanished ?? []
        addressWatch?.pending = nil
        addressWatch?.vanished = []
        statistics.addressRestores += 1
        let address = settings.virtualAddressList
        // The ones that went, as given and in that order (all of them when there is one).
        let gone = zip(settings.virtualAddresses, settings.virtualAddressArguments)
            .filter { vanished.contains($0.0) }.map(\.1).joined(separator: " ")
        let message =
            switch loss {
            case .addressRemoved:
                "Virtual address \(gone.isEmpty ? address : gone) vanished from [\(interfaceName)] while MASTER: running the up script and announcing it again (address-lost)"
            case .linkUp:
                "Interface [\(interfaceName)] is up again while MASTER: running the up script and announcing \(address) again (address-lost)"
            case .newsLost:
                "News of [\(interfaceName)]'s addresses was lost while MASTER: running the up script and announcing \(address) again (address-lost)"
            }
        var actions: [Action] = [.log(.warning, message)]
        if let upscript = settings.upscript {
            actions += enqueueAddressScripts(
                path: upscript, state: "MASTER", previous: "MASTER", reason: Self.addressLostReason, addsAddress: true,
                at: now)
        }
        return actions + reannounce(at: now)
    }

    /// `CARP_REASON` of the up script run again.
    static let addressLostReason = "address-lost"

    /// Forgets a loss seen in the last role: a new role runs its own script.
    mutating func forgetAddressLoss() {
        addressWatch?.pending = nil
        addressWatch?.vanished = []
    }
}
