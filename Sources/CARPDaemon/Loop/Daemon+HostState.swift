import CARPCore
import CARPInstance
import Glibc
import SystemPackage

/// The host-state directory at each wake-up: maintenance and the group's records in, our
/// record out (``HostStateDirectory``).
extension Daemon {
    /// Reads maintenance and the group's records, tells the instance, and publishes our
    /// record if it changed. A failure is logged once, and again when it clears.
    func serviceHostState(at now: MonotonicInstant) {
        guard let hostState else { return }
        do throws(DaemonError) {
            let (maintenance, members) = try hostState.read(at: now)
            perform(instance.hostStateRead(maintenance: maintenance, members: members, at: now), at: now)
            try writeHostRecord(to: hostState)
            rewriteStateFileIfDemotionChanged()
            if hostStateFailure != nil {
                logger.info("The host-state directory \(hostState.path.string) is usable again")
                hostStateFailure = nil
            }
        } catch {
            if hostStateFailure != error.description {
                logger.warning("The host-state directory \(hostState.path.string): \(error.description)")
                hostStateFailure = error.description
            }
        }
    }

    /// The state file says which causes demote us (maintenance...): rewritten when they change
    /// without a change of state.
    func rewriteStateFileIfDemotionChanged() {
        guard let stateFile, var record = stateFileRecord else { return }
        let causes = instance.group.ownCauses.map(\.rawValue)
        guard record.demotion != causes else { return }
        record.demotion = causes
        stateFileRecord = record
        do {
            try stateFile.write(record)
        } catch {
            logger.error("Unable to update the state file: \(error.description)")
        }
    }

    /// Our record as it stands, with the time of the last change of state. Built (and our pid
    /// asked) only when what it shows changed since it was last written: at most wake-ups
    /// nothing did.
    func writeHostRecord(to hostState: HostStateDirectory) throws(DaemonError) {
        let source = instance.hostRecordSource
        guard hostState.writtenSource != source else { return }
        var record = instance.hostRecord(pid: getpid(), since: 0)
        if let previous = hostState.written ?? hostState.carried, previous.state == record.state {
            record.since = previous.since
        } else {
            record.since = Int64(System.clock(CLOCK_REALTIME).tv_sec)
        }
        try hostState.write(record)
        hostState.writtenSource = source
    }

    /// The last record before the process ends: STOPPED, demoting no one. Best effort.
    func writeFinalHostRecord() {
        guard let hostState else { return }
        try? writeHostRecord(to: hostState)
    }

    /// After a reload: our record's `since` carries on; a record the predecessor kept
    /// elsewhere (a reload that changed `--host-state`) is removed, so that `--status` lists
    /// the instance once.
    func resumeHostRecord(from snapshot: InstanceSnapshot) {
        hostState?.adoptRecord(of: getpid())
        guard let old = snapshot.host.recordPath, old != hostState?.recordPath.string else { return }
        do throws(DaemonError) {
            if let removed = try HostStateDirectory.removeRecord(at: FilePath(old), of: getpid()) {
                hostState?.carried = removed
                logger.info("The record moved to \(hostState?.recordPath.string ?? "nowhere"): \(old) removed")
            }
        } catch {
            logger.warning("Cannot remove the record left in \(old): \(error.description)")
        }
    }
}
