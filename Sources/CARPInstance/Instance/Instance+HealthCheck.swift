import CARPCore
import Logging
import UCarpConfiguration

/// The instance's side of its ``HealthSchedule``: checks run while the instance runs, results
/// are counted, and a verdict goes to the election.
extension Instance {
    /// Starts a due check, or kills one past its timeout.
    mutating func checkHealth(at now: MonotonicInstant) -> [Action] {
        guard let checks = health?.timePassed(numbering: &children, at: now) else { return [] }
        return carryOut(checks, at: now)
    }

    /// The check's actions, in the shell's terms.
    mutating func carryOut(_ healthActions: [HealthSchedule.Action], at now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        for action in healthActions {
            switch action {
            case .log(let level, let message): actions.append(.log(level, message))
            case .spawn(let id, let command): actions.append(.spawn(id, command))
            case .kill(let id): actions.append(.kill(id))
            case .checked(passed: true): statistics.healthChecksPassed += 1
            case .checked(passed: false): statistics.healthChecksFailed += 1
            case .verdict(let healthy): actions += healthChanged(healthy: healthy, at: now)
            }
        }
        return actions
    }
}
