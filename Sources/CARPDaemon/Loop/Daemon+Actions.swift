import CARPCore
import CARPInstance
import Glibc
import Logging
import SystemPackage

/// Carrying out what the instance decided.
extension Daemon {
    /// Carries out `actions` in order; an action whose outcome the instance wants back is
    /// reported at once, and what that returns is carried out before the next action.
    func perform(_ actions: [Instance.Action], at now: MonotonicInstant) {
        // Most calls at an idle wake-up have nothing to do.
        if actions.isEmpty { return }
        for action in actions {
            switch action {
            case .log(let level, let message):
                logger.log(level: level, "\(message)")
            case .sendAdvertisement(let advbase, let advskew, let counter):
                if sentinelLink != nil, settings.authentication == .strict {
                    tellSentinelLeavingCounter(beforeSending: counter)
                }
                let failure: DaemonError?
                do throws(DaemonError) {
                    try sendAdvertisement(advbase: advbase, advskew: advskew, counter: counter)
                    failure = nil
                } catch {
                    failure = error
                }
                perform(instance.advertisementSent(failure: failure, at: now), at: now)
            case .announceAddresses:
                // One announcement of the --garp-* schedule: a gratuitous ARP per IPv4 address,
                // then an unsolicited neighbour advertisement per IPv6 one (FreeBSD's order).
                for address in settings.ipv4VirtualAddresses {
                    do throws(DaemonError) {
                        try capture.send(GratuitousARP.frame(interfaceMAC: interface.mac, virtualAddress: address))
                    } catch {
                        logger.error("write() in garp: \(error)")
                    }
                }
                for address in settings.ipv6VirtualAddresses {
                    do throws(DaemonError) {
                        try capture.send(
                            NeighbourAdvertisement.frame(interfaceMAC: interface.mac, virtualAddress: address))
                    } catch {
                        logger.error("write() in neighbour advertisement for \(address): \(error)")
                    }
                }
            case .recordState(let state, let previous, let reason):
                recordState(state, previous: previous, reason: reason)
            case .spawn(let id, let command):
                do {
                    try children.spawn(id, command)
                    report(.children(children.pids))
                } catch {
                    perform(instance.spawnFailed(id, reason: error, at: now), at: now)
                }
            case .kill(let id):
                children.kill(id)
            case .terminate(let id):
                children.terminate(id)
            case .reapChildren:
                if !retiredSentinels.isEmpty { reapRetiredSentinels() }
                let ended = children.reap()
                if !ended.isEmpty { report(.children(children.pids)) }
                for (id, status) in ended {
                    perform(instance.childExited(id, status: status, at: now), at: now)
                }
            case .exit(let status):
                writeFinalHostRecord()
                children.waitForKilled()
                pidFile?.remove()
                control?.remove()
                tellSentinel(.leaving)
                exitStatus = status
            case .writeMetrics:
                var failure: DaemonError?
                do throws(DaemonError) {
                    try metricsFile?.write(instance.metricsSnapshot.text)
                } catch {
                    failure = error
                }
                perform(instance.metricsWritten(failure: failure, at: now), at: now)
            case .etcdRequest(let request):
                sendEtcd(request, at: now)
            case .etcdCancel(let id):
                etcdClient?.cancel(id: id)
            case .etcdMoveRequest(let request):
                sendEtcdMove(request, at: now)
            case .etcdMoveSettled(let refusal):
                etcdMoveSettled(refusal: refusal, at: now)
            case .recordStrictState(let state):
                do throws(DaemonError) {
                    try StrictCounterFile.record(state, path: settings.authStatePath.map { FilePath($0) })
                } catch {
                    logger.warning("Unable to keep the strict counters: \(error.description)")
                }
            case .reopenInterface:
                perform(instance.interfaceReopened(reopenInterface(), at: now), at: now)
            case .dieOf(let signal):
                writeFinalHostRecord()
                children.waitForKilled()
                pidFile?.remove()
                control?.remove()
                tellSentinel(.leaving)
                Self.dieOfSignal(signal.rawValue)
            }
        }
    }

    func recordState(_ state: ReportedState, previous: ReportedState, reason: ScriptReason) {
        report(.role(state))
        guard let stateFile else { return }
        let record = StateFile.Record(
            state: state.rawValue, previousState: previous.rawValue, reason: reason.description,
            vhid: settings.vhid,
            interface: interfaceName, virtualAddress: settings.virtualAddressArgument,
            sourceAddress: settings.sourceAddress, virtualAddresses: settings.virtualAddressArguments,
            etcdKey: instance.etcdKey, etcdLease: instance.etcdLease,
            demotion: instance.group.ownCauses.map(\.rawValue))
        stateFileRecord = record
        do {
            try stateFile.write(record)
        } catch {
            logger.error("Unable to update the state file: \(error.description)")
        }
    }

    /// From now on the ``Supervisor`` hears of every change of state on `link`.
    func attachSupervisor(link: FileDescriptor) {
        supervisorLink = link
        instance.supervisorAttached()
    }

    /// Tells the supervisor, if there is one. Deliberately best effort: a write fails only
    /// when the supervisor is gone, which the poll loop hears of as `POLLERR`.
    func report(_ report: SupervisorStateMachine.Report) {
        switch report {
        case .role(let role): reportedRole = role
        case .children(let pids): reportedChildren = pids
        case .leavingCounter(let counter): reportedLeavingCounter = counter
        case .reloaded, .leaving: break
        }
        tellSentinel(report)
        guard let supervisorLink else { return }
        try? System.write(Array(report.line.utf8), to: supervisorLink, subject: "the supervisor")
    }

    /// Without `--shutdown` a termination signal ends the process as it ends ucarp: no script,
    /// killed by the signal. Only our own files are tidied first.
    static func dieOfSignal(_ signal: CInt) -> Never {
        Glibc.signal(signal, SIG_DFL)
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, signal)
        sigprocmask(SIG_UNBLOCK, &mask, nil)
        raise(signal)
        _exit(128 + signal)
    }
}
