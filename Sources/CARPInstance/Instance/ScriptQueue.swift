import CARPCore
import Logging
import SystemPackage
import UCarpConfiguration

/// The up, down and notify scripts: one at a time, in the order asked, never blocking the loop.
///
/// ucarp waits for each script, so a slow script stops its advertisements; here the loop goes
/// on and the script is reaped on SIGCHLD. A script still running after `--script-timeout`
/// has its process group killed, so one hung script cannot hold up the ones queued behind it.
///
/// An up script supersedes the down scripts of the term before it: when one is queued (the
/// instance is master again), the down scripts still queued are dropped and a running one is
/// asked to stop (SIGTERM to its group), then killed after ``terminationGrace``, so that a hung
/// down script cannot hold the address away from a master for `--script-timeout`. The down
/// scripts of a guarded master (which release the etcd lease when they end) are never dropped.
///
/// Events in, actions out, as ``Instance``: ``Action/ended(_:)`` tells the instance that a
/// script is done (an announcement or a lease may wait for it) before the next one starts.
struct ScriptQueue: Equatable {
    struct Script: Equatable {
        var path: String
        /// Arguments after the script's own name: `<interface> <vip> [<xparam>]`.
        var arguments: [String]
        /// Variables added to (or replacing those of) the daemon's environment.
        var environment: [Child.Variable] = []
        /// An up script, which adds the address: a gratuitous ARP waits for it (an announcement
        /// of an address not yet there would send the clients where nothing answers).
        var addsAddress = false
        /// A guarded master's down script: the etcd lease is revoked once it has ended.
        var releasesLease = false
        /// A down script, which removes the address: an up script queued after it supersedes it.
        var removesAddress = false

        var commandLine: String { ([path] + arguments).joined(separator: " ") }
    }

    struct Running: Equatable {
        var id: Child.ID
        var script: Script
        /// When it times out; nil without a timeout.
        var deadline: MonotonicInstant?
        var killed = false
        /// When it was asked to stop (SIGTERM) is up: it is killed then.
        var graceDeadline: MonotonicInstant?
    }

    enum Action: Equatable {
        case log(Logger.Level, String)
        /// Start the child in its own process group.
        case spawn(Child.ID, Child.Command)
        /// Kill the child's whole process group.
        case kill(Child.ID)
        /// Ask the child's whole process group to stop (SIGTERM).
        case terminate(Child.ID)
        /// This script is done (ended, killed and reaped, or never started); the next one
        /// starts after this action.
        case ended(Script)
    }

    /// `--script-timeout`; nil never kills.
    let timeout: MonotonicDuration?
    /// `--debug`: a script ending well is logged too.
    let debug: Bool
    private(set) var queued: [Script] = []
    private(set) var running: Running?

    /// How long a superseded down script has between SIGTERM and SIGKILL.
    static let terminationGraceSeconds: UInt64 = 2
    static let terminationGrace = MonotonicDuration.seconds(terminationGraceSeconds)

    init(timeout: MonotonicDuration?, debug: Bool) {
        self.timeout = timeout
        self.debug = debug
    }

    /// When the running script times out, or its grace after SIGTERM ends, if it has not been
    /// killed yet.
    var nextDeadline: MonotonicInstant? {
        guard let running, !running.killed else { return nil }
        return [running.deadline, running.graceDeadline].compactMap { $0 }.min()
    }

    /// No script running or queued.
    var isIdle: Bool { running == nil && queued.isEmpty }

    /// Whether an up script is queued or running: announcements wait for it.
    var addingAddress: Bool {
        running?.script.addsAddress == true || queued.contains(where: \.addsAddress)
    }

    /// Whether a lease-releasing down script is queued or running.
    var releasingLease: Bool {
        running?.script.releasesLease == true || queued.contains(where: \.releasesLease)
    }

    /// Whether `id` is the running script.
    func runs(_ id: Child.ID) -> Bool { running?.id == id }

    // MARK: Events

    mutating func enqueue(_ script: Script, numbering: inout Child.Numbering, at now: MonotonicInstant) -> [Action] {
        let superseded = script.addsAddress ? supersedeDownScripts(at: now) : []
        queued.append(script)
        return superseded + startNext(numbering: &numbering, at: now)
    }

    /// Kills the running script's process group if it has outlived the timeout, or its grace
    /// after SIGTERM.
    mutating func timePassed(at now: MonotonicInstant) -> [Action] {
        guard let running, let deadline = nextDeadline, now >= deadline else { return [] }
        self.running?.killed = true
        if let grace = running.graceDeadline, now >= grace {
            return [
                .log(
                    .error,
                    "Script [\(running.script.commandLine)] still running \(Self.terminationGraceSeconds)s after "
                        + "SIGTERM: killing its process group"),
                .kill(running.id),
            ]
        }
        let seconds = Double(timeout?.nanoseconds ?? 0) / 1e9
        return [
            .log(
                .error,
                "Script [\(running.script.commandLine)] still running after \(seconds)s: killing its process group"),
            .kill(running.id),
        ]
    }

    /// The running script ended with `status`.
    mutating func ended(
        status: Child.Status, numbering: inout Child.Numbering, at now: MonotonicInstant
    ) -> [Action] {
        guard let running else { return [] }
        self.running = nil
        let commandLine = running.script.commandLine
        var actions: [Action]
        switch status {
        case .killed(let signal):
            actions = [.log(.warning, "Script [\(commandLine)] was killed by signal \(signal)")]
        case .exited(0):
            actions = debug ? [.log(.debug, "Script [\(commandLine)] finished")] : []
        case .exited(let code):
            actions = [.log(.warning, "Script [\(commandLine)] exited with status \(code)")]
        case .unknown:
            // Someone else reaped it (never in the daemon): it is gone all the same.
            actions = [.log(.warning, "Script [\(commandLine)] ended, its exit status unknown")]
        }
        return actions + [.ended(running.script)] + startNext(numbering: &numbering, at: now)
    }

    /// The running script could not be started: `reason` is the error of `posix_spawn`.
    mutating func failedToStart(
        reason: Errno, numbering: inout Child.Numbering, at now: MonotonicInstant
    ) -> [Action] {
        guard let running else { return [] }
        self.running = nil
        return [
            .log(.error, "Unable to exec \(running.script.commandLine): \(reason.description)"), .ended(running.script),
        ]
            + startNext(numbering: &numbering, at: now)
    }

    /// Mastership taken back (the etcd guard, `because`): an up script running (the MASTER
    /// one, an address-lost repair) is killed and those queued dropped, and the
    /// lease-releasing down scripts go first, so that they run at once.
    mutating func stopAddingAddress(because reason: String) -> [Action] {
        var actions: [Action] = []
        for script in queued where script.addsAddress {
            actions.append(.log(.warning, "etcd: \(reason): not running [\(script.commandLine)]"))
        }
        queued.removeAll(where: \.addsAddress)
        if let running, running.script.addsAddress, !running.killed {
            self.running?.killed = true
            actions += [
                .log(
                    .warning,
                    "etcd: \(reason): killing [\(running.script.commandLine)] so that the down script "
                        + "runs within the lease's margin"),
                .kill(running.id),
            ]
        }
        return actions
    }

    /// An up script is queued: the down scripts of the term before it (not a guarded master's)
    /// are dropped, and a running one is asked to stop, killed after ``terminationGrace``.
    private mutating func supersedeDownScripts(at now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        let superseded = { (script: Script) in script.removesAddress && !script.releasesLease }
        for script in queued where superseded(script) {
            actions.append(.log(.warning, "Master now: not running [\(script.commandLine)]"))
        }
        queued.removeAll(where: superseded)
        if let running, superseded(running.script), !running.killed, running.graceDeadline == nil {
            self.running?.graceDeadline = now + Self.terminationGrace
            actions += [
                .log(
                    .warning,
                    "Master now: stopping [\(running.script.commandLine)] (SIGTERM, SIGKILL after "
                        + "\(Self.terminationGraceSeconds)s) so that the up script runs"),
                .terminate(running.id),
            ]
        }
        return actions
    }

    /// The lease-releasing down scripts before any other queued.
    mutating func putLeaseReleaseFirst() {
        queued = queued.filter(\.releasesLease) + queued.filter { !$0.releasesLease }
    }

    /// Takes on a predecessor's queue (`ucarp --reload`): the script running (a child that
    /// survived `execve`) and those queued, in order.
    mutating func resume(running: Running?, queued: [Script]) {
        self.running = running
        self.queued = queued
    }

    // MARK: Internals

    /// Starts the first queued script if none is running.
    private mutating func startNext(numbering: inout Child.Numbering, at now: MonotonicInstant) -> [Action] {
        guard running == nil, !queued.isEmpty else { return [] }
        let script = queued.removeFirst()
        let id = numbering.next()
        running = Running(id: id, script: script, deadline: timeout.map { now + $0 })
        return [
            .log(.warning, "Spawning [\(script.commandLine)]"),
            .spawn(id, .init(path: script.path, arguments: script.arguments, environment: script.environment)),
        ]
    }
}
