import CARPCore
import UCarpConfiguration

/// `--notify`: keepalived's generic `notify` script, run in the scripts' queue after the up or
/// down script of the same change, with the same environment.
///
/// keepalived runs it as `<script> [<its arguments>] INSTANCE <name> <state> <priority>` on
/// every change of state, and with STOP for every instance when it stops (`notify_shutdown`),
/// whatever the state; a master stopping sends no BACKUP first. Here: BACKUP at start (as
/// keepalived's INIT to BACKUP, even with `--neutral`), MASTER, BACKUP and FAULT on every
/// change after it, and STOP on every way out the daemon lives to see: a termination signal
/// with or without `--shutdown`, or a fatal error. The priority is 255 minus the skew we
/// advertise with (a demoted instance's 240 included), as VRRP's priority falls with CARP's skew.
extension Instance {
    /// The notify script's first argument: keepalived's `GROUP` is for sync groups, which CARP
    /// has not.
    package static let notifyInstanceType = "INSTANCE"

    /// The notify script for a change of role, if there is one and the change is notified: a
    /// shutdown's change (a master leaving, or a start that never happened) is told as STOP.
    mutating func notify(
        from: CARPStateMachine.Role, to: CARPStateMachine.Role, reason: CARPStateMachine.TransitionReason,
        at now: MonotonicInstant
    ) -> [Action] {
        guard reason != .shutdown else { return [] }
        guard to != .initial else { return [] }
        return notify(
            ReportedState(to), environment: scriptEnvironment(from: from, to: to, reason: .transition(reason)), at: now)
    }

    /// The notify script's STOP, leaving from the role `from`.
    mutating func notifyStop(from: CARPStateMachine.Role, reason: ScriptReason, at now: MonotonicInstant) -> [Action] {
        notify(
            .stop,
            environment: scriptEnvironment(state: .stop, previous: ReportedState(from), reason: reason),
            at: now)
    }

    /// 255 minus the skew we advertise with.
    var notifiedPriority: Int { 255 - Int(machine.effectiveSkew) }

    private mutating func notify(
        _ state: ReportedState, environment: [Child.Variable], at now: MonotonicInstant
    ) -> [Action] {
        guard let command = settings.notify, let program = command.first else { return [] }
        let arguments =
            command.dropFirst() + [
                Self.notifyInstanceType, settings.instanceName, state.rawValue, "\(notifiedPriority)",
            ]
        return enqueue(Script(path: program, arguments: Array(arguments), environment: environment), at: now)
    }
}
