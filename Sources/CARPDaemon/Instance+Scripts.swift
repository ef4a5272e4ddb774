import CARPCore
import SystemPackage
import UCarpConfiguration

/// The up, down and notify scripts: one at a time, in the order asked, never blocking the loop.
///
/// ucarp waits for each script, so a slow script stops its advertisements; here the loop goes
/// on and the script is reaped on SIGCHLD. A script still running after `--script-timeout`
/// has its process group killed, so one hung script cannot hold up the ones queued behind it.
extension Instance {
    struct Script: Equatable {
        var path: String
        /// Arguments after the script's own name: `<interface> <vip> [<xparam>]`.
        var arguments: [String]
        /// Variables added to (or replacing those of) the daemon's environment.
        var environment: [ChildSupervisor.Variable] = []
        /// An up script, which adds the address: a gratuitous ARP waits for it (an announcement
        /// of an address not yet there would send the clients where nothing answers).
        var addsAddress = false
        /// A guarded master's down script: the etcd lease is revoked once it has ended
        /// (``Instance/etcdScriptEnded(_:at:)``).
        var releasesLease = false

        var commandLine: String { ([path] + arguments).joined(separator: " ") }
    }

    struct RunningScript: Equatable {
        var id: ChildSupervisor.ID
        var script: Script
        /// When it times out; nil without a timeout.
        var deadline: MonotonicInstant?
        var killed = false
    }

    /// When the running script times out, if it has not been killed yet.
    var scriptDeadline: MonotonicInstant? {
        guard let runningScript, !runningScript.killed else { return nil }
        return runningScript.deadline
    }

    /// The up or down script once per virtual address, in the order given, each run as
    /// ucarp runs it for its one address (`<interface> <vip> [<xparam>]`), so that every
    /// single-address script works unchanged; `CARP_VIRTUAL_ADDRESS` is that run's address.
    /// `releasesLease` marks every run: the etcd lease goes when the last of them has ended.
    func addressScripts(
        path: String, state: String, previous: String, reason: String, addsAddress: Bool = false,
        releasesLease: Bool = false
    ) -> [Script] {
        settings.virtualAddressArguments.map { address in
            Script(
                path: path,
                arguments: Self.scriptArguments(settings: settings, interfaceName: interfaceName, address: address),
                environment: scriptEnvironment(state: state, previous: previous, reason: reason, address: address),
                addsAddress: addsAddress, releasesLease: releasesLease)
        }
    }

    /// Queues ``addressScripts(path:state:previous:reason:addsAddress:releasesLease:)``.
    mutating func enqueueAddressScripts(
        path: String, state: String, previous: String, reason: String, addsAddress: Bool = false,
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
        from: CARPStateMachine.Role, to: CARPStateMachine.Role, reason: String
    ) -> [ChildSupervisor.Variable] {
        scriptEnvironment(state: to.rawValue, previous: from.rawValue, reason: reason)
    }

    /// The scripts' environment for any state, STOP included.
    func scriptEnvironment(state: String, previous: String, reason: String) -> [ChildSupervisor.Variable] {
        Self.scriptEnvironment(
            settings: settings, interfaceName: interfaceName, state: state, previous: previous, reason: reason)
            + etcdEnvironment
    }

    /// The environment of one address's run of the up or down script: the scripts' own with
    /// `CARP_VIRTUAL_ADDRESS` set to `address`.
    func scriptEnvironment(
        state: String, previous: String, reason: String, address: String
    ) -> [ChildSupervisor.Variable] {
        scriptEnvironment(state: state, previous: previous, reason: reason).map {
            $0.name == "CARP_VIRTUAL_ADDRESS" ? .init("CARP_VIRTUAL_ADDRESS", address) : $0
        }
    }

    /// The same, for a script run on a dead instance's behalf (``Supervisor``, `--cleanup`).
    ///
    /// - Parameter address: the virtual address of this run (`CARP_VIRTUAL_ADDRESS`); nil is
    ///   the first, for the notify script, which runs once. `CARP_VIRTUAL_ADDRESSES` has them
    ///   all, as given, space-separated.
    static func scriptEnvironment(
        settings: Settings, interfaceName: String, state: String, previous: String, reason: String,
        address: String? = nil
    ) -> [ChildSupervisor.Variable] {
        [
            .init("CARP_STATE", state), .init("CARP_PREVIOUS_STATE", previous),
            .init("CARP_REASON", reason), .init("CARP_VHID", "\(settings.vhid)"),
            .init("CARP_INTERFACE", interfaceName),
            .init("CARP_VIRTUAL_ADDRESS", address ?? settings.virtualAddressArgument),
            .init("CARP_VIRTUAL_ADDRESSES", settings.virtualAddressList),
            .init("CARP_SOURCE_ADDRESS", settings.sourceAddress.description),
        ] + (settings.xparam.map { [.init("CARP_XPARAM", $0)] } ?? [])
    }

    /// `<interface> <vip> [<xparam>]` for one virtual address as given, as ucarp passes them.
    static func scriptArguments(settings: Settings, interfaceName: String, address: String) -> [String] {
        [interfaceName, address] + (settings.xparam.map { [$0] } ?? [])
    }

    mutating func enqueue(_ script: Script, at now: MonotonicInstant) -> [Action] {
        scriptQueue.append(script)
        return startNextScript(at: now)
    }

    /// Kills the running script's process group if it has outlived the timeout.
    mutating func enforceScriptTimeout(at now: MonotonicInstant) -> [Action] {
        guard let running = runningScript, let deadline = scriptDeadline, now >= deadline else { return [] }
        runningScript?.killed = true
        let seconds = Double(settings.scriptTimeout?.nanoseconds ?? 0) / 1e9
        return [
            .log(
                .error,
                "Script [\(running.script.commandLine)] still running after \(seconds)s: killing its process group"),
            .kill(running.id),
        ]
    }

    mutating func scriptEnded(status: ChildSupervisor.Status, at now: MonotonicInstant) -> [Action] {
        guard let running = runningScript else { return [] }
        runningScript = nil
        let commandLine = running.script.commandLine
        var actions: [Action]
        switch status {
        case .killed(let signal):
            actions = [.log(.warning, "Script [\(commandLine)] was killed by signal \(signal)")]
        case .exited(0):
            actions = debug("Script [\(commandLine)] finished")
        case .exited(let code):
            actions = [.log(.warning, "Script [\(commandLine)] exited with status \(code)")]
        case .unknown:
            // Someone else reaped it (never in the daemon): it is gone all the same.
            actions = [.log(.warning, "Script [\(commandLine)] ended, its exit status unknown")]
        }
        return actions + announceIfHeld(after: running.script) + etcdScriptEnded(running.script, at: now)
            + startNextScript(at: now)
    }

    /// Whether an up script is queued or running: announcements wait for it.
    var addressBeingAdded: Bool {
        runningScript?.script.addsAddress == true || scriptQueue.contains(where: \.addsAddress)
    }

    /// The gratuitous ARP held back while the up script added the address, now that it has
    /// (or has failed to: the address may be there all the same), if we are still master.
    mutating func announceIfHeld(after script: Script) -> [Action] {
        guard script.addsAddress, announcementHeld, !addressBeingAdded else { return [] }
        announcementHeld = false
        return reportedRole == .master ? [.sendGratuitousARP] : []
    }

    mutating func scriptFailedToStart(reason: Errno, at now: MonotonicInstant) -> [Action] {
        guard let running = runningScript else { return [] }
        runningScript = nil
        return [.log(.error, "Unable to exec \(running.script.commandLine): \(reason.description)")]
            + announceIfHeld(after: running.script) + etcdScriptEnded(running.script, at: now)
            + startNextScript(at: now)
    }

    /// Starts the first queued script if none is running.
    private mutating func startNextScript(at now: MonotonicInstant) -> [Action] {
        guard runningScript == nil, !scriptQueue.isEmpty else { return [] }
        let script = scriptQueue.removeFirst()
        let id = newChildID()
        runningScript = RunningScript(id: id, script: script, deadline: settings.scriptTimeout.map { now + $0 })
        return [
            .log(.warning, "Spawning [\(script.commandLine)]"),
            .spawn(id, .init(path: script.path, arguments: script.arguments, environment: script.environment)),
        ]
    }
}
