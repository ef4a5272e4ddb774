import CARPCore
import CARPInstance
import Glibc
import Logging
import SystemPackage
import UCarpConfiguration

/// `ucarp --cleanup`, for a service manager to run once an instance has ended (systemd's
/// `ExecStopPost=`): when its state file says it died holding a role, its address is released
/// as its ``Supervisor`` would: the leaving advertisement if it was MASTER, the down script
/// with `CARP_REASON=daemon-died`, STOPPED in the state file.
///
/// The state file, not a guess: an instance that left (`--shutdown`) or was never up wrote
/// STOPPED, or nothing, and is left alone; so is one whose `PID` still runs.
public enum DeathCleanup {
    enum Verdict: Equatable {
        /// Release the address the instance held: it was `previous` on `interface`.
        case release(previous: ReportedState, interface: String?)
        /// Nothing to do, and why.
        case nothing(String)
    }

    /// What to do, from the state file's text (nil: none), systemd's `$SERVICE_RESULT` (nil
    /// when run by hand) and whether a pid still runs.
    static func verdict(stateFile text: String?, serviceResult: String?, isRunning: (Int32) -> Bool) -> Verdict {
        if serviceResult == "success" { return .nothing("the service ended cleanly") }
        guard let text else { return .nothing("no state file: the instance never started") }
        var fields: [Substring: Substring] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[line[..<equals]] = line[line.index(after: equals)...]
        }
        guard let state = fields["STATE"] else { return .nothing("the state file has no STATE") }
        if let pid = fields["PID"].flatMap({ Int32($0) }), pid > 0, isRunning(pid) {
            return .nothing("the instance (pid \(pid)) is still running")
        }
        switch ReportedState(rawValue: String(state)) {
        case let previous? where [.master, .backup, .fault].contains(previous):
            // A BACKUP or FAULT may have died during its down script: run it again.
            return .release(previous: previous, interface: fields["INTERFACE"].map(String.init))
        default:
            return .nothing("the instance was \(state)")
        }
    }

    /// Runs the clean-up; exit status 0 unless the state file cannot be read.
    public static func run(
        settings: Settings, logger: Logger, logOutput: LogOutput, version: String
    ) -> ExitStatus {
        guard let path = settings.stateFile else { return .invalidSettings }
        do throws(DaemonError) {
            try FileDirectory.check(settings)
        } catch {
            logger.error("\(error.description)")
            return .startupFailed
        }
        let text: String?
        do throws(DaemonError) {
            text = try read(FilePath(path))
        } catch {
            logger.error("Unable to read the state file: \(error.description)")
            return .startupFailed
        }
        let result = getenv("SERVICE_RESULT").map { String(cString: $0) }
        let verdict = verdict(stateFile: text, serviceResult: result) { pid in
            // A failure other than ESRCH (none is known for signal 0) counts as gone.
            (try? System.processExists(pid)) ?? false
        }
        guard case .release(let previous, let recorded) = verdict else {
            if case .nothing(let reason) = verdict { logger.info("Nothing to clean up: \(reason)") }
            return .success
        }
        if let refusal = interfaceRefusal(
            recorded: recorded, expected: settings.interface ?? PacketCapture.defaultDevice())
        {
            logger.error("Not cleaning up: \(refusal)")
            return .invalidSettings
        }
        let cause = result.map { " (the service ended with \($0))" } ?? ""
        logger.error("The instance died while \(previous.rawValue)\(cause): releasing \(settings.virtualAddressList)")
        // A BACKUP or FAULT may have died during its down script: it runs again.
        // The down script before the leaving advert, as a supervisor does (SupervisorStateMachine.cleanUp).
        let actions: [SupervisorStateMachine.Action] =
            [.runDownScript(previous: previous)] + (previous == .master ? [.sendLeavingAdvertisement] : [])
            + [.notifyStop(previous: previous), .recordStopped(previous: previous)]
        Daemon.release(
            actions, settings: settings, interfaceName: recorded, logger: logger, logOutput: logOutput, version: version
        )
        return .success
    }

    /// Why the state file's `INTERFACE=` (`recorded`) must not be acted on, nil if it is the
    /// interface the configuration names (`expected`: `--interface`, else the default device
    /// the instance would have captured on). The state file is only a record: the down script
    /// runs on the configuration's interface or not at all.
    static func interfaceRefusal(recorded: String?, expected: String?) -> String? {
        guard let recorded, recorded != expected else { return nil }
        guard let expected else {
            return "the state file names interface \(recorded) and no --interface is configured to check it against"
        }
        return "the state file names interface \(recorded), the configuration \(expected): "
            + "is it another instance's state file?"
    }

    /// The file's text, nil if it does not exist.
    private static func read(_ path: FilePath) throws(DaemonError) -> String? {
        let file: FileDescriptor
        do throws(DaemonError) {
            file = try System.open(path, .readOnly, options: [.closeOnExec])
        } catch {
            if case .system(_, _, let code) = error, code == .noSuchFileOrDirectory { return nil }
            throw error
        }
        defer { System.release(file) }
        var bytes: [UInt8] = []
        while true {
            let chunk = try System.read(file, upTo: 4096, subject: path.string)
            if chunk.isEmpty { break }
            bytes += chunk
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
