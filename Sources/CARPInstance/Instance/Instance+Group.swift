import CARPCore
import Logging
import UCarpConfiguration

/// Maintenance and `--group`: the shell reads the host-state directory at each wake-up and
/// tells what it found; the instance works out its own causes and the counter, and the
/// election advertises with it (``CARPStateMachine/demotionChanged(to:at:)``).
extension Instance {
    /// The host-state directory as read at `now`: whether maintenance is on for us (the
    /// host's or our group's), and the other members of our group (nil: not read again,
    /// nothing changed there).
    package mutating func hostStateRead(
        maintenance: Bool, members: [HostGroup.Member]?, at now: MonotonicInstant
    ) -> [Action] {
        guard phase == .running else { return [] }
        var changed = group.ownCausesAre(ownCauses(maintenance: maintenance, at: now))
        if let members { changed = group.membersAre(members) || changed }
        guard changed, group.counter != machine.demotion else { return [] }
        var actions: [Action] = []
        if group.counter > 0 {
            actions.append(
                .log(
                    .warning, "Demoted (\(demotionDescription)): advertising worse, for a host that is not to take over"
                ))
        } else {
            actions.append(.log(.info, "No longer demoted"))
        }
        return actions + demote(to: group.counter, at: now)
    }

    /// What demotes us ourselves now.
    func ownCauses(maintenance: Bool, at now: MonotonicInstant) -> Set<DemotionCause> {
        var causes: Set<DemotionCause> = []
        if maintenance { causes.insert(.maintenance) }
        if machine.carrierDown || interfacePresence != .present { causes.insert(.carrierLost) }
        if machine.role == .fault { causes.insert(.checkFailed) }
        if case .backup(let backup) = machine.state, let hold = backup.holdUntil, now < hold {
            causes.insert(.stepDown)
        }
        if machine.demoted { causes.insert(.sendError) }
        return causes
    }

    /// `maintenance`, or our causes and the demoting members: what the logs and USR1 say.
    var demotionDescription: String {
        let own = group.ownCauses.map(\.rawValue)
        let members = group.demotingMembers.map { "member \($0)" }
        return (own + members).joined(separator: ", ")
    }

    /// USR1's line about the demotion, when there is one.
    var groupStatusLines: [Action] {
        guard machine.demotion > 0 else { return [] }
        let group = group.name.map { " in group \($0)" } ?? ""
        return [
            .log(
                .info,
                "Demoted\(group): \(demotionDescription) (counter \(machine.demotion), advskew \(machine.effectiveSkew))"
            )
        ]
    }
}

extension Instance {
    /// The record this instance publishes in the host-state directory, as it stands.
    ///
    /// A `mutating func`, as ``nextDeadline`` is: the daemon asks at every wake-up, and a plain
    /// method would copy the whole instance to be called from another module.
    ///
    /// - Parameters:
    ///   - pid: our process's.
    ///   - since: when the state last changed (seconds since the epoch), which the shell keeps.
    package mutating func hostRecord(pid: Int32, since: Int64) -> HostRecord {
        let source = hostRecordSource
        return HostRecord(
            pid: pid, vhid: settings.vhid, interface: interfaceName, addresses: settings.virtualAddressArguments,
            state: source.state, since: since, reason: source.reason.description, group: group.name,
            causes: source.causes, counter: source.counter, peer: source.peer?.description, etcdKey: source.etcdKey)
    }

    /// What the host record shows that can change, as values: the shell compares it at every
    /// wake-up, and builds the record (its text, our pid) only when it differs from the one
    /// it last wrote. Cheaper than building the record, which formats the reason and the peer.
    package struct HostRecordSource: Equatable {
        var state: ReportedState
        var reason: ScriptReason
        var causes: [DemotionCause]
        var counter: UInt32
        var peer: IPAddress?
        var etcdKey: String?
    }

    /// The parts of ``hostRecord(pid:since:)`` that change, as they stand. A `mutating get`,
    /// as ``nextDeadline`` is.
    package var hostRecordSource: HostRecordSource {
        mutating get {
            let state: ReportedState =
                switch phase {
                case .running: ReportedState(reportedRole)
                case .leaving: .stop
                case .finished: .stopped
                }
            return HostRecordSource(
                state: state, reason: lastReason, causes: phase == .finished ? [] : group.ownCauses,
                counter: machine.demotion, peer: lastPeer, etcdKey: etcdKey)
        }
    }
}
