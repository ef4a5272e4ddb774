import CARPCore
import Logging
import UCarpConfiguration

/// Reloading in place (`ucarp --reload`): the running process hands its election to the
/// binary on disk, which carries on from it with the configuration read again.
extension Instance {
    /// Why this instance cannot hand its state over now, nil if it can: not while starting or
    /// leaving, or waiting for its interface (the scripts' queue and the health check go
    /// across, a running script or check included); under `--etcd`, the guard quiet (no request on the wire, no release).
    package var reloadRefusal: ReloadCheck.Refusal? {
        guard phase == .running else { return .busy("the instance is leaving") }
        if machine.role == .initial { return .busy("the instance is starting") }
        if interfacePresence != .present { return .busy("the interface is gone, waited for") }
        if machine.addressRelease != nil { return .busy("the address is held for a new master") }
        // A move begun for a host holding no lease hands no lease over: not to a master.
        if let etcdMove, !etcdMove.forMaster, machine.role == .master {
            return .busy("the instance became MASTER during the reload's etcd move")
        }
        // A move called off (or failed) revokes its new lease first: until then no reload
        // may begin one, or it would wait for an answer that never comes.
        if etcdMove != nil, !etcdMoveReady { return .busy("an earlier etcd move is still winding up") }
        if let etcd, !etcd.quiet, !etcdMoveReady {
            return .busy("the etcd guard is busy (a request on the wire, a release, a term waiting, or etcd failing)")
        }
        return nil
    }

    /// The state a successor takes on; nil before the start, or when the running script's
    /// pid is not known (`pid` gives it for a child).
    package func snapshot(daemonized: Bool, pid: (Child.ID) -> Int32? = { _ in nil }) -> InstanceSnapshot? {
        guard let machine = machine.snapshot else { return nil }
        var gate = etcd?.snapshot.map { InstanceSnapshot.Etcd(guardState: $0.guard, grantedLease: $0.grantedLease) }
        if etcdMoveReady {
            // A reload's etcd move: the new lease, the old one kept, or a fresh guard.
            if etcdMove?.keepsLease == true && gate == nil { return nil }
            // Begun for a host holding no lease: a master since then would hold none.
            if etcdMove?.forMaster == false && self.machine.role == .master { return nil }
            gate = etcdSuccessorState(gate)
        } else if etcd != nil && gate == nil {
            return nil
        }
        var snapshot = InstanceSnapshot(machine: machine, daemonized: daemonized, etcd: gate)
        snapshot.host = .init(lastPeer: lastPeer, lastReason: lastReason, lastTransitionTime: lastTransitionTime)
        snapshot.dropped = statistics.dropped
        snapshot.scripts = .init(
            lastChild: children.lastIssued, running: scripts.running,
            runningPID: scripts.running.flatMap { pid($0.id) },
            queued: scripts.queued, announcementHeld: announcementHeld)
        if scripts.running != nil && snapshot.scripts.runningPID == nil { return nil }
        if let health {
            snapshot.health = .init(
                healthy: health.monitor.healthy, streak: health.monitor.streak, running: health.running,
                runningPID: health.running.flatMap { pid($0.id) }, nextStart: health.nextStart)
            if health.running != nil && snapshot.health?.runningPID == nil { return nil }
        }
        return snapshot
    }

    /// Carries on from a predecessor's state instead of ``started(at:)``: no transition, so no
    /// script, no notify, no announcement; the next advertisement on the deadline it had.
    ///
    /// What `--status` shows carries on (the last peer, the reason and time of the last
    /// change), and so does the demotion counter, which the group's first reading of the
    /// host-state directory then finds unchanged. `--auth=strict`: the counter and the peers'
    /// highest counters carry on, recorded at once in the `--auth-state` file; a reload that
    /// changed `--auth` starts the counter afresh in the new mode (see
    /// ``CARPStateMachine/resume(_:at:)``) and says so.
    package mutating func resumed(from snapshot: InstanceSnapshot, at now: MonotonicInstant) -> [Action] {
        guard phase == .running, machine.role == .initial else { return [] }
        machine.resume(snapshot.machine, at: now)
        lastPeer = snapshot.host.lastPeer ?? lastPeer
        lastReason = snapshot.host.lastReason ?? lastReason
        lastTransitionTime = snapshot.host.lastTransitionTime ?? lastTransitionTime
        // The drop counts carry on (the other statistics count this process's work).
        statistics.dropped = snapshot.dropped
        var auth: [Action] = []
        if let before = snapshot.machine.authentication, before != settings.authentication {
            auth.append(
                .log(
                    .warning,
                    "Reloaded with --auth=\(settings.authentication) instead of \(before): a counter of the new mode from now on; peers still in \(before) mode drop our adverts until they change too"
                ))
        }
        if let state = machine.strictState(onlyNews: false) { auth.append(.recordStrictState(state)) }
        children = Child.Numbering(last: snapshot.scripts.lastChild)
        scripts.resume(running: snapshot.scripts.running, queued: snapshot.scripts.queued)
        announcementHeld = snapshot.scripts.announcementHeld
        if let gate = snapshot.etcd { etcd?.resume(gate.guardState, grantedLease: gate.grantedLease) }
        if let state = snapshot.health {
            health?.resume(
                healthy: state.healthy, streak: state.streak, running: state.running, nextStart: state.nextStart ?? now)
        } else {
            health?.started(at: now)
        }
        // A child that ended during the execution is collected now (its SIGCHLD may be gone).
        let reap: [Action] = scripts.running == nil && health?.running == nil ? [] : [.reapChildren]
        return [
            .log(.info, "Reloaded: carrying on as \(reportedRole.rawValue) on \(interfaceName) id \(settings.vhid)")
        ] + auth + reap + checkHealth(at: now)
    }
}
