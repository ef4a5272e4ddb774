import CARPCore
import Logging
import SystemPackage
import UCarpConfiguration

/// An interface deleted and created again (a VLAN or veth recreated by `systemctl restart
/// networking` or NetworkManager) is waited for, not an end: ucarp issue #26 and PR #3.
///
/// While it is gone the instance is as without carrier: BACKUP and silent; a master runs its
/// down script at once (reason `carrier-lost`; no make before break: the address went with
/// the interface). Every ``Instance/interfaceRetryInterval`` it asks the shell to open an
/// interface of that name again (``Action/reopenInterface``): the capture, the MAC and index,
/// the group membership, the unicast socket. Once that worked it watches the new index's
/// addresses and listens again as a BACKUP; the election runs as usual.
extension Instance {
    /// Whether the interface the shell opened is there.
    package enum InterfacePresence: Equatable {
        case present
        /// Gone: the shell tries to open it again at `retryAt`; the kinds of failure already
        /// logged are not logged again until it is back.
        case missing(retryAt: MonotonicInstant, logged: Set<ReopenFailureKind>)
    }

    /// What went wrong reopening the interface, as far as logging once per kind goes.
    package enum ReopenFailureKind: Hashable, Sendable {
        case system(call: String, errno: Errno)
        case pcap(action: String)
        case notEthernet
        case other
    }

    /// What ``Action/reopenInterface`` gave.
    package enum InterfaceReopening {
        /// Open again: its index (perhaps new), and its flags.
        case reopened(index: UInt32, link: LinkState)
        /// No interface of that name yet.
        case absent
        /// There is one, but some of it could not be opened: tried again in a second.
        case failed(DaemonError)
    }

    /// How often a vanished interface is looked for.
    static let interfaceRetryInterval = MonotonicDuration.seconds(1)

    /// Whether the instance waits for its interface to come back: the shell's capture, MAC and
    /// sockets belong to the one that went and are not to be used.
    package var awaitsInterface: Bool { interfacePresence != .present }

    /// The interface is gone: as a carrier loss, and said once.
    mutating func interfaceVanished(_ errno: Errno, at now: MonotonicInstant) -> [Action] {
        guard interfacePresence == .present else { return [] }
        interfacePresence = .missing(retryAt: now + Self.interfaceRetryInterval, logged: [])
        // The retries wake the loop instead of the carrier checks.
        carrierCheckDue = nil
        var actions: [Action] = [.log(.warning, "Interface [\(interfaceName)] is gone: waiting for it to come back")]
        actions += debug("Reading the flags of [\(interfaceName)]: \(errno.description)")
        return actions + loseCarrier(at: now)
    }

    /// The retry is due: ask the shell to open the interface again.
    mutating func retryInterface(at now: MonotonicInstant) -> [Action] {
        guard case .missing(let retryAt, let logged) = interfacePresence, now >= retryAt else { return [] }
        interfacePresence = .missing(retryAt: now + Self.interfaceRetryInterval, logged: logged)
        return [.reopenInterface]
    }

    /// When the next look for a vanished interface is due; nil while it is there.
    var interfaceRetryDue: MonotonicInstant? {
        guard case .missing(let retryAt, _) = interfacePresence else { return nil }
        return retryAt
    }

    /// The outcome of ``Action/reopenInterface``.
    package mutating func interfaceReopened(_ outcome: InterfaceReopening, at now: MonotonicInstant) -> [Action] {
        guard phase == .running, case .missing(let retryAt, var logged) = interfacePresence else { return [] }
        switch outcome {
        case .absent:
            return []
        case .failed(let error):
            let kind = Self.kind(of: error)
            guard logged.insert(kind).inserted else { return [] }
            interfacePresence = .missing(retryAt: retryAt, logged: logged)
            return [
                .log(
                    .warning,
                    "Interface [\(interfaceName)] is back but cannot be used yet: \(error.description): trying again every second"
                )
            ]
        case .reopened(let index, let link):
            interfacePresence = .present
            if addressWatch != nil { addressWatchStarted(interfaceIndex: index) }
            armCarrierCheck(at: now)
            switch link {
            case .missing(let errno):
                // Gone again already: wait for the next one.
                return interfaceVanished(errno, at: now)
            case .noCarrier where !settings.ignoreInterfaceState:
                return [
                    .log(
                        .info,
                        "Interface [\(interfaceName)] is back, without carrier: staying BACKUP until it has one")
                ]
            case .running, .noCarrier:
                return [.log(.info, "Interface [\(interfaceName)] is back: listening as BACKUP")]
                    + restoreCarrier(at: now)
            }
        }
    }

    static func kind(of error: DaemonError) -> ReopenFailureKind {
        switch error {
        case .system(let call, _, let errno): .system(call: call, errno: errno)
        case .pcap(let action, _, _): .pcap(action: action)
        case .notEthernet: .notEthernet
        default: .other
        }
    }
}
