import CARPCore
import CARPInstance
import Glibc
import Logging
import SystemPackage
import UCarpConfiguration

/// Releasing the address of an instance that died without leaving: what its ``Supervisor``
/// does, and what `ucarp --cleanup` (systemd's `ExecStopPost=`) does from the state file.
extension Daemon {
    /// The advertisement a leaving master sends (``CARPStateMachine/leavingAdvbase`` and
    /// ``CARPStateMachine/leavingAdvskew``), with a fresh random counter: on ucarp's wire
    /// receivers never check the counter against replay, it only enters the digest. With
    /// `--auth=strict` receivers do: the counter is the first of a new epoch
    /// (``StrictCounterFile``), above every one the dead instance sent (the supervisor's copy
    /// of the instance shares the first worker's epoch, so it cannot count on from that).
    ///
    /// The supervisor's capture is the one opened before daemonizing: if the interface was
    /// deleted and created again since (the worker reopened its own), it opens the new one first.
    ///
    /// `strictCounter`: the sentinel's, the counter its daemon told it
    /// (``SentinelStateMachine/leavingCounter``), used instead of a new epoch.
    func sendLeavingAdvertisement(strictCounter: UInt64? = nil) {
        if case .missing = interface.linkState(), case .failed(let error) = reopenInterface() {
            logger.error("Unable to open [\(interfaceName)] again: \(error.description)")
        }
        do throws(DaemonError) {
            let counter: UInt64 =
                switch settings.authentication {
                case .ucarp: UInt64.random(in: .min ... .max, using: &random)
                case .strict:
                    if let strictCounter {
                        strictCounter
                    } else {
                        try StrictCounterFile.start(path: settings.authStatePath.map { FilePath($0) }).counter
                    }
                }
            try sendAdvertisement(
                advbase: CARPStateMachine.leavingAdvbase, advskew: CARPStateMachine.leavingAdvskew, counter: counter)
            logger.info("Sent the leaving advertisement: the backup takes over at once")
        } catch {
            logger.error("Unable to send the leaving advertisement: \(error.description)")
        }
    }

    /// Runs the down script as `SCRIPT <interface> <vip> [<xparam>]` (once per virtual address) with `CARP_STATE=BACKUP`
    /// and `CARP_REASON=daemon-died`, and waits for it: at most `--script-timeout`, then its
    /// process group is killed. The Supervisor and `--cleanup` both come this way.
    func runDownScript(previous: ReportedState) {
        Self.runDownScript(settings: settings, interfaceName: interfaceName, previous: previous, logger: logger)
    }

    /// Runs the notify script, if any, with STOP for the dead instance, and waits for it.
    func notifyStop(previous: ReportedState) {
        Self.notifyStop(settings: settings, interfaceName: interfaceName, previous: previous, logger: logger)
    }

    /// Replaces the state file, if any, with STOPPED after `previous`, reason `daemon-died`.
    func recordStopped(previous: ReportedState) {
        Self.recordStopped(settings: settings, interfaceName: interfaceName, previous: previous, logger: logger)
    }

    static func runDownScript(settings: Settings, interfaceName: String, previous: ReportedState, logger: Logger) {
        guard let path = settings.downscript else { return }
        // Once per address, in the order given, as the instance runs it.
        for address in settings.virtualAddressArguments {
            let environment = Instance.scriptEnvironment(
                settings: settings, interfaceName: interfaceName, state: .backup, previous: previous,
                reason: .daemonDied, address: address)
            runAndWait(
                .init(
                    path: path,
                    arguments: Instance.scriptArguments(
                        settings: settings, interfaceName: interfaceName, address: address),
                    environment: environment),
                timeout: settings.scriptTimeout, logger: logger)
        }
    }

    /// keepalived's `notify ... INSTANCE <name> STOP <priority>`, the priority from the
    /// configured skew (a dead instance's demotion is not known).
    static func notifyStop(settings: Settings, interfaceName: String, previous: ReportedState, logger: Logger) {
        guard let command = settings.notify, let program = command.first else { return }
        let arguments =
            command.dropFirst() + [
                Instance.notifyInstanceType, settings.instanceName, ReportedState.stop.rawValue,
                "\(255 - Int(settings.advskew))",
            ]
        let environment = Instance.scriptEnvironment(
            settings: settings, interfaceName: interfaceName, state: .stop,
            previous: previous, reason: .daemonDied)
        runAndWait(
            .init(path: program, arguments: Array(arguments), environment: environment),
            timeout: settings.scriptTimeout,
            logger: logger)
    }

    /// Runs `command` and waits for it: at most `timeout`, then its process group is killed.
    private static func runAndWait(
        _ command: Child.Command, timeout: MonotonicDuration?, logger: Logger
    ) {
        let commandLine = ([command.path] + command.arguments).joined(separator: " ")
        let runner = ChildProcesses()
        let id = Child.ID(value: 1)
        logger.warning("Spawning [\(commandLine)]")
        do {
            try runner.spawn(id, command)
        } catch {
            logger.error("Unable to exec \(commandLine): \(error.description)")
            return
        }
        let deadline = timeout.map { MonotonicClock.now() + $0 }
        while true {
            if let (_, status) = runner.reap().first {
                if status != .exited(0) { logger.warning("Script [\(commandLine)] ended: \(status)") }
                return
            }
            if let deadline, MonotonicClock.now() >= deadline {
                logger.error("Script [\(commandLine)] still running after its timeout: killing its process group")
                runner.kill(id)
                runner.waitForKilled()
                return
            }
            var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&pause, nil)
        }
    }

    static func recordStopped(settings: Settings, interfaceName: String, previous: ReportedState, logger: Logger) {
        guard let path = settings.stateFile else { return }
        do {
            try StateFile(path: FilePath(path)).write(
                .init(
                    state: ReportedState.stopped.rawValue, previousState: previous.rawValue,
                    reason: ScriptReason.daemonDied.description, vhid: settings.vhid,
                    interface: interfaceName, virtualAddress: settings.virtualAddressArgument,
                    sourceAddress: settings.sourceAddress, virtualAddresses: settings.virtualAddressArguments))
        } catch {
            logger.error("Unable to update the state file: \(error.description)")
        }
    }
}
