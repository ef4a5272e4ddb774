import CARPCore

/// The state an instance reports to the state file, the supervisor and the scripts: the
/// election's role, or STOPPED once the instance has ended.
package enum ReportedState: String, Equatable, Sendable, CaseIterable {
    case initial = "INIT"
    case backup = "BACKUP"
    case master = "MASTER"
    case fault = "FAULT"
    /// Told to the notify script when the instance stops (keepalived's `notify_shutdown`).
    case stop = "STOP"
    /// In the state file once the instance has ended.
    case stopped = "STOPPED"

    package init(_ role: CARPStateMachine.Role) {
        switch role {
        case .initial: self = .initial
        case .backup: self = .backup
        case .master: self = .master
        case .fault: self = .fault
        }
    }
}

/// Why a script runs, a state is recorded or the notify script hears STOP: `CARP_REASON`.
package enum ScriptReason: Equatable, Sendable, CustomStringConvertible {
    /// A change of role, for the election's reason.
    case transition(CARPStateMachine.TransitionReason)
    /// A master's address vanished and is put back: the up script runs again.
    case addressLost
    /// The supervising parent is gone: the instance leaves, handing over.
    case supervisorLost
    /// The daemon cannot go on (the pid file, poll).
    case error
    /// The instance has ended (STOPPED in the state file).
    case exit
    /// A dead instance cleaned up after by its supervisor or by `--cleanup`.
    case daemonDied

    /// Leaving on a termination signal: the transition reason's spelling.
    package static let shutdown = ScriptReason.transition(.shutdown)

    /// The word scripts find in `CARP_REASON`.
    package var description: String {
        switch self {
        case .transition(let reason): reason.rawValue
        case .addressLost: "address-lost"
        case .supervisorLost: "supervisor-lost"
        case .error: "error"
        case .exit: "exit"
        case .daemonDied: "daemon-died"
        }
    }
}
