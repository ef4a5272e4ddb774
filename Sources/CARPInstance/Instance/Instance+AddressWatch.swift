import CARPCore
import Logging
import UCarpConfiguration

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
    /// The shell opened its rtnetlink socket: news of the interface with this index counts.
    package mutating func addressWatchStarted(interfaceIndex: UInt32) {
        addressWatch = AddressWatch(interfaceIndex: interfaceIndex)
    }

    /// rtnetlink's news, decoded (``RouteNetlink/messages(in:)``).
    package mutating func routeChanged(_ messages: [RouteNetlink.Message], at now: MonotonicInstant) -> [Action] {
        guard phase == .running, addressWatch != nil else { return [] }
        let master = reportedRole == .master
        addressWatch?.heard(messages, watching: Set(settings.virtualAddresses), master: master)
        return restoreLostAddress(at: now)
    }

    /// The rtnetlink socket overflowed (`ENOBUFS`): while MASTER the address may have gone
    /// unseen, so it is put back as if it had (the up script runs again, harmless when it
    /// only adds the address, as `vip-up` does).
    package mutating func routeNewsLost(at now: MonotonicInstant) -> [Action] {
        guard addressWatch != nil, phase == .running, reportedRole == .master else { return [] }
        addressWatch?.newsLost()
        return restoreLostAddress(at: now)
    }

    /// A pending loss repaired, once it may be: MASTER, running, no script running or queued.
    mutating func restoreLostAddress(at now: MonotonicInstant) -> [Action] {
        guard addressWatch?.pending != nil, reportedRole == .master, phase == .running, scripts.isIdle,
            let (loss, vanished) = addressWatch?.repair()
        else { return [] }
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
                path: upscript, state: .master, previous: .master, reason: .addressLost, addsAddress: true,
                at: now)
        }
        return actions + reannounce(at: now)
    }

    /// Forgets a loss seen in the last role: a new role runs its own script.
    mutating func forgetAddressLoss() {
        addressWatch?.forget()
    }
}
