import CARPCore
import Logging
import SystemPackage
import UCarpConfiguration

/// The instance's side of its ``ScriptQueue``: which scripts run for a change of role, with
/// what arguments and environment, and what a script's end lets happen (a gratuitous ARP
/// held for an up script, a lease released after a guarded master's down script).
extension Instance {
    typealias Script = ScriptQueue.Script

    /// The up or down script once per virtual address, in the order given, each run as
    /// ucarp runs it for its one address (`<interface> <vip> [<xparam>]`), so that every
    /// single-address script works unchanged; `CARP_VIRTUAL_ADDRESS` is that run's address.
    /// `releasesLease` marks every run: the etcd lease goes when the last of them has ended.
    func addressScripts(
        path: String, state: ReportedState, previous: ReportedState, reason: ScriptReason, addsAddress: Bool = false,
        releasesLease: Bool = false
    ) -> [Script] {
        settings.virtualAddressArguments.map { address in
            Script(
                path: path,
                arguments: Self.scriptArguments(settings: settings, interfaceName: interfaceName, address: address),
                environment: scriptEnvironment(state: state, previous: previous, reason: reason, address: address),
                addsAddress: addsAddress, releasesLease: releasesLease,
                removesAddress: !addsAddress && path == settings.downscript)
        }
    }

    /// Queues ``addressScripts(path:state:previous:reason:addsAddress:releasesLease:)``.
    mutating func enqueueAddressScripts(
        path: String, state: ReportedState, previous: ReportedState, reason: ScriptReason, addsAddress: Bool = false,
        releasesLease: Bool = false, at now: MonotonicInstant
    ) -> [Action] {
        var actions: [Action] = []
        for script in addressScripts(
            path: path, state: state, previous: previous, reason: reason, addsAddress: addsAddress,
            releasesLease: releasesLease)
        {
            actions += enqueue(script, at: now)
        }
        return actions
    }

    /// What the scripts find in their environment besides the daemon's own.
    func scriptEnvironment(
        from: CARPStateMachine.Role, to: CARPStateMachine.Role, reason: ScriptReason
    ) -> [Child.Variable] {
        scriptEnvironment(state: ReportedState(to), previous: ReportedState(from), reason: reason)
    }

    /// The scripts' environment for any state, STOP included.
    func scriptEnvironment(state: ReportedState, previous: ReportedState, reason: ScriptReason) -> [Child.Variable] {
        Self.scriptEnvironment(
            settings: settings, interfaceName: interfaceName, state: state, previous: previous, reason: reason)
            + etcdEnvironment
    }

    /// The environment of one address's run of the up or down script: the scripts' own with
    /// `CARP_VIRTUAL_ADDRESS` set to `address`.
    func scriptEnvironment(
        state: ReportedState, previous: ReportedState, reason: ScriptReason, address: String
    ) -> [Child.Variable] {
        scriptEnvironment(state: state, previous: previous, reason: reason).map {
            $0.name == "CARP_VIRTUAL_ADDRESS" ? .init("CARP_VIRTUAL_ADDRESS", address) : $0
        }
    }

    /// The same, for a script run on a dead instance's behalf (``Supervisor``, `--cleanup`).
    ///
    /// - Parameter address: the virtual address of this run (`CARP_VIRTUAL_ADDRESS`); nil is
    ///   the first, for the notify script, which runs once. `CARP_VIRTUAL_ADDRESSES` has them
    ///   all, as given, space-separated.
    package static func scriptEnvironment(
        settings: Settings, interfaceName: String, state: ReportedState, previous: ReportedState, reason: ScriptReason,
        address: String? = nil
    ) -> [Child.Variable] {
        [
            .init("CARP_STATE", state.rawValue), .init("CARP_PREVIOUS_STATE", previous.rawValue),
            .init("CARP_REASON", reason.description), .init("CARP_VHID", "\(settings.vhid)"),
            .init("CARP_INTERFACE", interfaceName),
            .init("CARP_VIRTUAL_ADDRESS", address ?? settings.virtualAddressArgument),
            .init("CARP_VIRTUAL_ADDRESSES", settings.virtualAddressList),
            .init("CARP_SOURCE_ADDRESS", settings.sourceAddress.description),
        ] + (settings.xparam.map { [.init("CARP_XPARAM", $0)] } ?? [])
    }

    /// `<interface> <vip> [<xparam>]` for one virtual address as given, as ucarp passes them.
    package static func scriptArguments(settings: Settings, interfaceName: String, address: String) -> [String] {
        [interfaceName, address] + (settings.xparam.map { [$0] } ?? [])
    }

    mutating func enqueue(_ script: Script, at now: MonotonicInstant) -> [Action] {
        let queued = scripts.enqueue(script, numbering: &children, at: now)
        return carryOut(queued, at: now)
    }

    /// Kills the running script's process group if it has outlived the timeout.
    mutating func enforceScriptTimeout(at now: MonotonicInstant) -> [Action] {
        carryOut(scripts.timePassed(at: now), at: now)
    }

    /// The queue's actions, in the shell's terms; a script's end lets what waited for it happen.
    mutating func carryOut(_ queueActions: [ScriptQueue.Action], at now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        for action in queueActions {
            switch action {
            case .log(let level, let message): actions.append(.log(level, message))
            case .spawn(let id, let command): actions.append(.spawn(id, command))
            case .kill(let id): actions.append(.kill(id))
            case .terminate(let id): actions.append(.terminate(id))
            case .ended(let script): actions += announceIfHeld(after: script) + etcdScriptEnded(script, at: now)
            }
        }
        return actions
    }

    /// The gratuitous ARP held back while the up script added the address, now that it has
    /// (or has failed to: the address may be there all the same), if we are still master.
    mutating func announceIfHeld(after script: Script) -> [Action] {
        guard script.addsAddress, announcementHeld, !scripts.addingAddress else { return [] }
        announcementHeld = false
        return reportedRole == .master ? [.announceAddresses] : []
    }
}
