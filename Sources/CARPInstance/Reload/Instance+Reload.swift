import CARPCore
import Logging
import UCarpConfiguration

/// Reloading in place (`ucarp --reload`): the running process hands its election to the
/// binary on disk, which carries on from it with the configuration read again.
extension Instance {
    /// Why this instance cannot hand its state over now, nil if it can: only a quiet instance
    /// is handed over whole (no script or check running, not leaving, not waiting for its
    /// interface). Under `--etcd` the lease is not handed over by this version.
    package var reloadRefusal: ReloadCheck.Refusal? {
        guard phase == .running else { return .busy("the instance is leaving") }
        if machine.role == .initial { return .busy("the instance is starting") }
        if !scripts.isIdle { return .busy("a script is running or queued") }
        if health?.running != nil { return .busy("a health check is running") }
        if interfacePresence != .present { return .busy("the interface is gone, waited for") }
        if machine.addressRelease != nil { return .busy("the address is held for a new master") }
        if etcd != nil {
            return .unsupported("a reload under --etcd does not hand the lease over in this version")
        }
        return nil
    }

    /// The state a successor takes on; nil before the start.
    package func snapshot(daemonized: Bool) -> InstanceSnapshot? {
        machine.snapshot.map { InstanceSnapshot(machine: $0, daemonized: daemonized) }
    }

    /// Carries on from a predecessor's state instead of ``started(at:)``: no transition, so no
    /// script, no notify, no announcement; the next advertisement on the deadline it had.
    package mutating func resumed(from snapshot: InstanceSnapshot, at now: MonotonicInstant) -> [Action] {
        guard phase == .running, machine.role == .initial else { return [] }
        machine.resume(snapshot.machine, at: now)
        health?.started(at: now)
        return [
            .log(.info, "Reloaded: carrying on as \(reportedRole.rawValue) on \(interfaceName) id \(settings.vhid)")
        ]
            + checkHealth(at: now)
    }
}
