import CARPCore
import EtcdGuard
import Logging
import SystemPackage
import UCarpConfiguration

/// What one running instance decides, with the I/O taken out: which signal does what, the
/// carrier, bad packets, the scripts' queue and timeout, the health check's schedule, the
/// metrics file's, a vanished address put back, leaving.
///
/// Each event method takes the current monotonic instant and returns the actions the shell
/// must carry out, in order. Some actions want their outcome back: a
/// ``Action/sendAdvertisement(advbase:advskew:counter:)`` with ``advertisementSent(failure:at:)``,
/// a ``Action/spawn(_:_:)`` that failed with ``spawnFailed(_:reason:at:)``, a
/// ``Action/reapChildren`` with ``childExited(_:status:at:)`` for each child collected. The
/// instance owns the ``CARPStateMachine`` and never reads a clock, touches a descriptor or
/// calls the C library: the shell calls ``timePassed(at:)`` once ``nextDeadline`` is reached.
package struct Instance {
    /// The signals the daemon takes, numbered as on Linux (a unit test holds them to Glibc's).
    package enum Signal: Int32, CaseIterable {
        case hangUp = 1
        case interrupt = 2
        case quit = 3
        case user1 = 10
        case user2 = 12
        case terminate = 15
        case child = 17
    }

    package enum Action: Equatable {
        /// A line for syslog and the terminal, exactly as the end-to-end tests grep it.
        case log(Logger.Level, String)
        /// Build, sign and send an advertisement; report with ``advertisementSent(failure:at:)``.
        case sendAdvertisement(advbase: UInt8, advskew: UInt8, counter: UInt64)
        /// Announce every virtual address with our MAC: a gratuitous ARP for each IPv4 one, an
        /// unsolicited neighbour advertisement for each IPv6 one.
        case announceAddresses
        /// Replace the `--statefile` and tell the ``Supervisor`` (asked for only when there is one of them).
        case recordState(state: ReportedState, previous: ReportedState, reason: ScriptReason)
        /// Start a child in its own process group; report a failure with ``spawnFailed(_:reason:at:)``.
        case spawn(Child.ID, Child.Command)
        /// Kill the child's whole process group (SIGKILL); it is still reaped as usual.
        case kill(Child.ID)
        /// Ask the child's whole process group to stop (SIGTERM); a ``kill(_:)`` may follow.
        case terminate(Child.ID)
        /// Collect the children that ended; report each with ``childExited(_:status:at:)``.
        case reapChildren
        /// Leave ``Daemon/run()`` with this status, once the killed children are collected.
        case exit(ExitStatus)
        /// End the process by this signal at its default disposition, as ucarp dies of it.
        case dieOf(Signal)
        /// Replace the `--metrics-file` with the text of ``metricsSnapshot`` as it is when this
        /// action is carried out (after the outcomes of those before it); report with
        /// ``metricsWritten(failure:at:)``.
        case writeMetrics
        /// POST the etcd guard's request (``EtcdGate``); answer with
        /// ``etcdAnswered(status:body:for:at:)`` or ``etcdFailed(requestID:reason:at:)``.
        case etcdRequest(EtcdLeaseGuard.Request)
        /// Abort the etcd request of this ID; its answer is no longer wanted.
        case etcdCancel(requestID: UInt64)
        /// POST a request of a reload's etcd move (``EtcdLeaseMove``) to the NEW settings'
        /// endpoints (with their TLS files); answered as ``etcdRequest(_:)`` is.
        case etcdMoveRequest(EtcdLeaseGuard.Request)
        /// A reload's etcd move has settled (``beginEtcdMove(to:hostName:at:)``): go ahead with
        /// the re-execution (nil), or answer the client with this refusal.
        case etcdMoveSettled(refusal: String?)
        /// `--auth=strict`: replace the `--auth-state` file with this (a peer started, or we
        /// leave), durably; a failure is only logged.
        case recordStrictState(StrictState)
        /// Open an interface of our interface's name again, the old one gone: the capture, the
        /// MAC and index, the group membership, the unicast socket; report with
        /// ``interfaceReopened(_:at:)``.
        case reopenInterface
    }

    package enum Phase: Equatable {
        /// Taking events; the election runs once ``started(at:)``.
        case running
        /// Leaving once the scripts running and queued are done, then ending so. `notice`: the
        /// notify script's STOP, told once the address held for the new master is let go.
        case leaving(Ending, notice: StopNotice?)
        /// An exit (or death) was asked for: nothing more to do.
        case finished
    }

    /// The notify script's STOP while leaving: the role left and the reason.
    package struct StopNotice: Equatable {
        var from: CARPStateMachine.Role
        var reason: ScriptReason
    }

    /// How the process ends once it has left.
    package enum Ending: Equatable {
        /// ``Action/exit(_:)`` with this status.
        case exit(ExitStatus)
        /// ``Action/dieOf(_:)``: a termination signal without `--shutdown`, as it ends ucarp.
        case signal(Signal)
    }

    /// How often the carrier is read while it must be watched: the shell reads it at every
    /// wake-up, and one at least this long after the last reading is due for it.
    static let carrierCheckInterval = MonotonicDuration.seconds(1)
    /// How late past ``carrierCheckInterval`` the carrier's own wake-up may come
    /// (``wakeUpDeadline``). A backup's
    /// master advertises every second, and each advert arrives a fraction of a millisecond
    /// after the second since the last reading is up: a wake-up of its own would come just
    /// before it, twice the wake-ups of an idle backup. Within this slack the advert's
    /// wake-up reads the carrier instead (the kernel's timer slack, for one timer).
    static let carrierCheckSlack = MonotonicDuration.milliseconds(50)
    /// At most one warning per kind of bad packet in this span; the rest are counted.
    static let dropWarningInterval = MonotonicDuration.seconds(30)

    package let settings: Settings
    package let interfaceName: String
    /// SwiftCARP's version, for `ucarp_build_info`.
    package let version: String
    package internal(set) var machine: CARPStateMachine
    package internal(set) var statistics = Statistics()
    package private(set) var phase = Phase.running
    private var dropWarnings = WarningRateLimiter<DropReason>(interval: Instance.dropWarningInterval)
    /// When the carrier should be read again, unless `--ignoreifstate` or the shell hears of
    /// it as it changes (``carrierNewsHeard``).
    var carrierCheckDue: MonotonicInstant?
    /// The shell hears of every change of the link (rtnetlink's `RTM_NEWLINK`) and reads the
    /// carrier then (``carrierNewsWatched()``): no reading is due at a set interval.
    var carrierNewsHeard = false
    /// Whether the interface is there, or waited for (``Instance/interfaceReopened(_:at:)``).
    package internal(set) var interfacePresence = InterfacePresence.present
    /// The up, down and notify scripts waiting for their turn, and the one running.
    var scripts: ScriptQueue
    /// `--check`'s schedule and verdicts; nil without a health check.
    var health: HealthSchedule?
    /// The IDs of the scripts' and checks' children.
    var children = Child.Numbering()
    /// With `--daemonize`, the ``Supervisor`` follows every state change, state file or not.
    private(set) var reportsRole = false
    /// `--metrics-file`'s schedule; nil without one.
    var metrics: MetricsSchedule?
    /// The last wall-clock reading the shell reported, and when (``wallClockRead(secondsSinceEpoch:at:)``).
    var wallClock: (secondsSinceEpoch: Double, at: MonotonicInstant)?
    /// When the state last changed, by the wall clock (seconds since the epoch), for the
    /// metrics; fixed then, so that a later step of the clock does not move it.
    var lastTransitionTime: Double?
    /// The virtual address watched over rtnetlink; nil until the shell watches.
    var addressWatch: AddressWatch?
    /// A gratuitous ARP waits for the up script that adds the address.
    var announcementHeld = false
    /// `--etcd`: mastership gated on an etcd lease; nil without.
    var etcd: EtcdGate?
    /// A reload's etcd move, while one is under way (``EtcdMove``).
    var etcdMove: EtcdMove?
    /// Maintenance and `--group`: the demotion counter and its causes.
    package internal(set) var group: HostGroup
    /// The source of the last advertisement heard from another host, for `--status`.
    package internal(set) var lastPeer: IPAddress?
    /// Why the state last changed, for `--status`.
    package internal(set) var lastReason = ScriptReason.transition(.startup)

    /// `initialCounter` is the first advertisement's counter, which the shell draws at random
    /// (with `--auth=strict`: ``StrictCounter/firstCounter(epoch:)`` of the epoch it persisted,
    /// and `strictPeers` the counters the previous run accepted).
    ///
    /// `hostName` goes into the etcd key's value (with `--etcd`), naming the holder.
    package init(
        settings: Settings, interfaceName: String, initialCounter: UInt64, version: String, hostName: String = "",
        strictPeers: [StrictState.Peer] = []
    ) {
        self.settings = settings
        self.interfaceName = interfaceName
        self.version = version
        var configuration = CARPStateMachine.Configuration(
            vhid: settings.vhid, advbase: settings.advbase, advskew: settings.advskew,
            deadRatio: settings.deadRatio, preempt: settings.preempt, neutral: settings.neutral,
            sourceAddress: settings.sourceAddress, initialCounter: initialCounter,
            healthChecked: settings.check != nil, announcements: Self.announcementSchedule(settings),
            handOverWait: Self.handOverWait(settings), preemptDelay: settings.preemptDelay)
        configuration.authentication = settings.authentication
        // Under the guard the key, not the skew, decides who follows a leaving master.
        configuration.staggeredTakeOver = settings.etcd == nil
        machine = CARPStateMachine(
            configuration: configuration, remembering: strictPeers, at: MonotonicInstant(nanoseconds: 0))
        scripts = ScriptQueue(timeout: settings.scriptTimeout, debug: settings.debug)
        health = settings.check.map { HealthSchedule(command: $0, settings: settings) }
        metrics = settings.metricsFile.map { MetricsSchedule(path: $0) }
        etcd = EtcdGate(settings: settings, hostName: hostName)
        group = HostGroup(name: settings.hostGroup)
    }

    /// How long a master leaving on purpose keeps the address for the new master; nil (with
    /// `--handover-wait=0`) releases it at once, in ucarp's order.
    /// Under the etcd guard the lease rules instead: the old master lets the address go (its
    /// down script), then the lease, and only then may the next host take over.
    static func handOverWait(_ settings: Settings) -> MonotonicDuration? {
        guard settings.etcd == nil else { return nil }
        let wait = settings.handOverWait ?? settings.defaultHandOverWait
        return wait.nanoseconds == 0 ? nil : wait
    }

    /// How the machine announces the address: ucarp's two gratuitous ARPs unless the
    /// `--garp-*` options say otherwise.
    static func announcementSchedule(_ settings: Settings) -> CARPStateMachine.AnnouncementSchedule {
        .init(
            count: settings.garpRepeat,
            spacing: settings.garpInterval.map { .interval($0) } ?? CARPStateMachine.AnnouncementSchedule.ucarp.spacing,
            refresh: settings.garpRefresh)
    }

    /// The earliest instant at which ``timePassed(at:)`` (or a reading of the carrier) has work
    /// to do. A `mutating get`, as ``wakeUpDeadline`` is.
    package var nextDeadline: MonotonicInstant? {
        mutating get { earliestDeadline(carrierSlack: .nanoseconds(0)) }
    }

    /// When the loop must wake up at the latest: ``nextDeadline``, but that the carrier's
    /// reading may wait ``carrierCheckSlack`` for a wake-up of another cause. A `mutating get`:
    /// the daemon (another module) reads it once a wake, and a plain getter would copy the
    /// whole instance to call it.
    package var wakeUpDeadline: MonotonicInstant? {
        mutating get { earliestDeadline(carrierSlack: Self.carrierCheckSlack) }
    }

    /// The earliest deadline of the instance and its parts, the carrier's moved by `carrierSlack`.
    private mutating func earliestDeadline(carrierSlack: MonotonicDuration) -> MonotonicInstant? {
        var earliest: MonotonicInstant?
        func consider(_ deadline: MonotonicInstant?) {
            guard let deadline else { return }
            earliest = earliest.map { min($0, deadline) } ?? deadline
        }
        switch phase {
        case .running:
            consider(machine.nextDeadline)
            consider(carrierCheckDue.map { $0 + carrierSlack })
            consider(interfaceRetryDue)
            consider(scripts.nextDeadline)
            consider(health?.nextDeadline)
            consider(metrics?.due)
            consider(etcd?.nextDeadline)
            consider(etcdMoveDeadline)
        case .leaving:
            consider(scripts.nextDeadline)
            consider(metrics?.due)
            consider(machine.addressRelease?.deadline)
            if etcd?.release != nil { consider(etcd?.nextDeadline) }
            consider(etcdMoveDeadline)
        case .finished:
            break
        }
        return earliest
    }

    // MARK: Events

    /// With `--daemonize`, this instance runs in a worker whose ``Supervisor`` follows every
    /// change of state: ``Action/recordState(state:previous:reason:)`` is asked for even
    /// without a state file.
    package mutating func supervisorAttached() {
        reportsRole = true
    }

    /// The files and sockets are open: INIT → BACKUP, and the first health check is due.
    package mutating func started(at now: MonotonicInstant) -> [Action] {
        guard phase == .running else { return [] }
        var actions: [Action] = EtcdGate.startLine(settings).map { [.log(.info, $0)] } ?? []
        if let line = EtcdGate.shutdownLine(settings) { actions.append(.log(.info, line)) }
        actions += carryOut(machine.start(at: now), at: now)
        health?.started(at: now)
        actions += checkHealth(at: now)
        return actions
    }

    /// A signal arrived: USR1 prints the status, USR2 steps down, CHLD reaps, the termination
    /// signals leave (with `--shutdown`) or end the process as they end ucarp.
    package mutating func received(signal: Signal, at now: MonotonicInstant) -> [Action] {
        switch signal {
        case .child:
            // Scripts are still collected while leaving.
            return phase == .finished ? [] : [.reapChildren]
        case _ where phase != .running:
            // Dying of a signal, but for the notify script's STOP: another one kills at once.
            if case .leaving(.signal, _) = phase, signal != .user1, signal != .user2 {
                phase = .finished
                return tidyUp() + [.dieOf(signal)]
            }
            return []
        case .user1:
            let role = reportedRole == .initial ? "BACKUP" : reportedRole.rawValue
            // ucarp's one line; the set of addresses only when there are several.
            let addresses: [Action] =
                settings.virtualAddresses.count > 1
                ? [.log(.info, "Virtual addresses: \(settings.virtualAddressList)")] : []
            return [.log(.info, "\(role) on \(interfaceName) id \(settings.vhid)")] + addresses + [
                .log(.info, "Counters: \(statistics.summary)")
            ] + (etcd.map { [.log(.info, $0.statusLine)] } ?? []) + groupStatusLines
        case .user2:
            return carryOut(machine.stepDown(at: now), at: now)
        case .hangUp, .interrupt, .quit, .terminate:
            let caught = debug("Caught signal \(signal.rawValue): leaving")
            if settings.shutsDown { return caught + leave(.exit(.success), reason: .shutdown, at: now) }
            // Without --shutdown ucarp dies at once; only a notify script's STOP is waited for.
            guard settings.notify != nil else {
                phase = .finished
                // An address still held after a step-down goes with us.
                return caught + carryOut(machine.releaseAddress(), at: now) + tidyUp() + [.dieOf(signal)]
            }
            return caught + leave(.signal(signal), reason: .shutdown, at: now)
        }
    }

    /// The shell read the interface's flags (ucarp's `IFF_RUNNING` check): without carrier an
    /// instance is BACKUP and silent; so it is while a vanished interface is waited for
    /// (``interfaceReopened(_:at:)``).
    package mutating func linkRead(_ state: LinkState, at now: MonotonicInstant) -> [Action] {
        // While the interface is gone, the shell's reading is of the one that went.
        guard phase == .running, interfacePresence == .present else { return [] }
        armCarrierCheck(at: now)
        switch state {
        case .running:
            guard machine.carrierDown else { return [] }
            return [.log(.info, "Interface [\(interfaceName)] has its carrier back")]
                + carryOut(machine.carrierRestored(at: now), at: now)
        case .noCarrier:
            guard !settings.ignoreInterfaceState, !machine.carrierDown else { return [] }
            return [
                .log(
                    .warning,
                    "Interface [\(interfaceName)] is down or has no carrier: staying BACKUP until it is back")
            ] + carryOut(machine.carrierLost(at: now), at: now)
        case .missing(let errno):
            return interfaceVanished(errno, at: now)
        }
    }

    /// A captured frame, decoded: adverts go to the election, bad packets are counted and
    /// warned about at most once per kind every ``dropWarningInterval``.
    package mutating func received(_ outcome: IPv4AdvertisementCodec.Outcome, at now: MonotonicInstant) -> [Action] {
        // Leaving, only the new master's advertisements still matter: the address held for it.
        if case .leaving = phase, case .accepted(let advert) = outcome {
            if let error = machine.screen(advert, at: now) { return dropped(error, at: now) }
            return carryOut(machine.heardWhileReleasing(advert), at: now) + finishIfDone()
        }
        guard phase == .running else { return [] }
        switch outcome {
        case .ignored:
            return []
        case .dropped(let error):
            return dropped(error, at: now)
        case .accepted(let advert):
            // A reflection of ours or a replay is dropped and counted like a bad packet.
            if let error = machine.screen(advert, at: now) { return dropped(error, at: now) }
            statistics.advertisementsReceived += 1
            lastPeer = advert.source
            var actions = debug(
                "Advertisement from [\(advert.source)]: advbase \(advert.advbase) advskew \(advert.advskew)")
            if let state = machine.strictState(onlyNews: true) { actions.append(.recordStrictState(state)) }
            let election = machine.received(advert, at: now)
            actions.add(carryOut(election, at: now))
            actions.add(etcdHeard(advert, at: now))
            return actions
        }
    }

    /// A dropped packet: counted, and warned about at most once per kind every
    /// ``dropWarningInterval``.
    private mutating func dropped(_ error: AdvertisementError, at now: MonotonicInstant) -> [Action] {
        statistics.countDrop(error.reason)
        guard let held = dropWarnings.admit(error.reason, at: now) else { return [] }
        let message =
            held == 0
            ? error.description
            : "\(error.description) (and \(held) more like it not logged since the last)"
        return error.isWarning ? [.log(.warning, message)] : debug(message)
    }

    /// The outcome of a ``Action/sendAdvertisement(advbase:advskew:counter:)``: nil when it
    /// went out, else the system's reason.
    package mutating func advertisementSent(failure: DaemonError?, at now: MonotonicInstant) -> [Action] {
        var actions: [Action]
        if let failure {
            statistics.sendErrors += 1
            actions = [.log(.warning, "write() has failed: \(failure.description)")]
        } else {
            statistics.advertisementsSent += 1
            actions = debug("* advertisement injected *")
        }
        actions.add(carryOut(machine.advertisementSent(succeeded: failure == nil, at: now), at: now))
        return actions
    }

    /// A child of ours ended (after ``Action/reapChildren``).
    package mutating func childExited(
        _ id: Child.ID, status: Child.Status, at now: MonotonicInstant
    ) -> [Action] {
        if scripts.runs(id) {
            return carryOut(scripts.ended(status: status, numbering: &children, at: now), at: now) + finishIfDone()
                + restoreLostAddress(at: now)
        }
        if health?.runs(id) == true, let checked = health?.ended(status: status) {
            // A check ending while leaving is not counted.
            return phase == .running ? carryOut(checked, at: now) : []
        }
        return []
    }

    /// A ``Action/spawn(_:_:)`` failed: `reason` is the error of `posix_spawn`.
    package mutating func spawnFailed(_ id: Child.ID, reason: Errno, at now: MonotonicInstant) -> [Action] {
        if scripts.runs(id) {
            return carryOut(scripts.failedToStart(reason: reason, numbering: &children, at: now), at: now)
                + finishIfDone() + restoreLostAddress(at: now)
        }
        if health?.runs(id) == true, let checked = health?.failedToStart(reason: reason) {
            return carryOut(checked, at: now)
        }
        return []
    }

    /// The ``Supervisor`` is gone (killed, or its process group): no one would clean up after
    /// this instance any more, so it leaves as with `--shutdown`, as keepalived's children
    /// leave with their parent, handing the address over.
    package mutating func supervisorLost(at now: MonotonicInstant) -> [Action] {
        guard phase == .running else { return [] }
        return [.log(.error, "The supervisor is gone: leaving")]
            + leave(
                .exit(.runtimeFailure), reason: .supervisorLost, handingOver: true, keepingAddress: false, at: now)
    }

    /// The shell cannot go on (the pid file, poll): log why and leave with `status`.
    package mutating func failed(_ message: String, _ status: ExitStatus, at now: MonotonicInstant) -> [Action] {
        guard phase == .running else { return [] }
        return [.log(.error, message)] + leave(.exit(status), reason: .error, at: now)
    }

    /// Time has reached ``nextDeadline``: advertise or take over, kill a script past its
    /// timeout, start or time out a health check.
    package mutating func timePassed(at now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        switch phase {
        case .running:
            if let deadline = machine.nextDeadline, now >= deadline {
                actions.add(carryOut(machine.deadlinePassed(at: now), at: now))
            }
            actions.add(enforceScriptTimeout(at: now))
            actions.add(checkHealth(at: now))
            actions.add(refreshMetrics(at: now))
            actions.add(etcdTimePassed(at: now))
            actions.add(etcdMoveTimePassed(at: now))
            actions.add(retryInterface(at: now))
        case .leaving:
            if let release = machine.addressRelease, now >= release.deadline {
                actions.add(carryOut(machine.releaseAddress(), at: now) + finishIfDone())
            }
            actions.add(enforceScriptTimeout(at: now))
            actions.add(refreshMetrics(at: now))
            if etcd?.release != nil { actions.add(etcdTimePassed(at: now) + finishIfDone()) }
            actions.add(etcdMoveTimePassed(at: now))
        case .finished:
            break
        }
        return actions
    }

    // MARK: Internals

    /// The state machine's actions, in the shell's terms.
    mutating func carryOut(_ machineActions: [CARPStateMachine.Action], at now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        for action in machineActions {
            switch action {
            case .changeState(let from, let to, let reason, let runScript):
                if etcd != nil {
                    actions += gatedChange(from: from, to: to, reason: reason, runScript: runScript, at: now)
                } else {
                    actions += reportChange(from: from, to: to, reason: reason, runScript: runScript, at: now)
                }
            case .sendAdvertisement(let advbase, let advskew, let counter):
                if !holdsLeavingAdvertisement(advbase: advbase, advskew: advskew, counter: counter) {
                    actions.append(.sendAdvertisement(advbase: advbase, advskew: advskew, counter: counter))
                }
            case .announceAddresses:
                if let etcd, !etcd.granted {
                    // Not ours yet (the key is someone else's): nothing to announce.
                } else if scripts.addingAddress {
                    announcementHeld = true
                } else {
                    actions.append(.announceAddresses)
                }
            case .releaseAddress(let reason):
                actions.append(
                    .log(.info, "The new master has [\(settings.virtualAddressList)] (or none came): releasing it"))
                if let script = settings.downscript {
                    actions += enqueueAddressScripts(
                        path: script, state: ReportedState(reportedRole), previous: .master,
                        reason: .transition(reason), at: now)
                }
                actions += tellStopNotice(at: now)
            case .note(let note):
                actions += told(note)
            case .log(let level, let message):
                actions.append(.log(Self.loggerLevel(level), message))
            }
        }
        actions.add(writeMetrics(at: now))
        return actions
    }

    /// A level of the core's (the election's, the etcd guard's) as swift-log's.
    static func loggerLevel(_ level: CARPStateMachine.LogLevel) -> Logger.Level {
        switch level {
        case .debug: .debug
        case .info: .info
        case .warning: .warning
        case .error: .error
        }
    }

    /// Log, count, record and notify a change of the reported role, and queue its script
    /// (`releasingLease`: a guarded master's down script, whose end lets the etcd lease go).
    mutating func reportChange(
        from: CARPStateMachine.Role, to: CARPStateMachine.Role, reason: CARPStateMachine.TransitionReason,
        runScript: Bool, releasingLease: Bool = false, at now: MonotonicInstant
    ) -> [Action] {
        var actions: [Action] = [.log(.warning, "Switching to state: \(to.rawValue)")]
        statistics.transitions += 1
        statistics.transitionsTo[to, default: 0] += 1
        lastTransitionTime = wallClock(at: now)
        lastReason = .transition(reason)
        forgetAddressLoss()
        if to != .master { announcementHeld = false }
        if runScript, let script = to == .master ? settings.upscript : settings.downscript {
            actions += enqueueAddressScripts(
                path: script, state: ReportedState(to), previous: ReportedState(from), reason: .transition(reason),
                addsAddress: to == .master, releasesLease: releasingLease && to != .master, at: now)
        }
        actions += notify(from: from, to: to, reason: reason, at: now)
        actions += record(ReportedState(to), previous: ReportedState(from), reason: .transition(reason))
        return actions
    }

    /// The health check's verdict changed (or came for the first time).
    mutating func healthChanged(healthy: Bool, at now: MonotonicInstant) -> [Action] {
        carryOut(machine.healthChanged(healthy: healthy, at: now), at: now)
    }

    /// No carrier, or no interface: BACKUP, silent, no timers.
    mutating func loseCarrier(at now: MonotonicInstant) -> [Action] {
        carryOut(machine.carrierLost(at: now), at: now)
    }

    /// The carrier (or the interface) is back: listening as a BACKUP.
    mutating func restoreCarrier(at now: MonotonicInstant) -> [Action] {
        carryOut(machine.carrierRestored(at: now), at: now)
    }

    /// A master announces the virtual address again (address-lost).
    mutating func reannounce(at now: MonotonicInstant) -> [Action] {
        carryOut(machine.reannounce(at: now), at: now)
    }

    /// The etcd guard took mastership back: leave MASTER at once.
    mutating func relinquish(_ reason: CARPStateMachine.TransitionReason, at now: MonotonicInstant) -> [Action] {
        carryOut(machine.relinquish(reason, at: now), at: now)
    }

    /// etcd fails a blocked would-be master: back to BACKUP, no preemption until it answers.
    mutating func suspendPreemption(at now: MonotonicInstant) -> [Action] {
        carryOut(machine.suspendPreemption(.stepDown, at: now), at: now)
    }

    /// The demotion counter changed: the election advertises with it (``HostGroup``).
    mutating func demote(to counter: UInt32, at now: MonotonicInstant) -> [Action] {
        carryOut(machine.demotionChanged(to: counter, at: now), at: now)
    }

    /// etcd answers again: `--preempt` applies again.
    mutating func resumePreemption() {
        machine.resumePreemption()
    }

    /// A debug line, only built when `--debug` would show it (this runs for every advert).
    func debug(_ message: @autoclosure () -> String) -> [Action] {
        settings.debug ? [.log(.debug, message())] : []
    }

    func record(_ state: ReportedState, previous: ReportedState, reason: ScriptReason) -> [Action] {
        settings.stateFile == nil && !reportsRole
            ? [] : [.recordState(state: state, previous: previous, reason: reason)]
    }

    /// Leaving: with `--shutdown` (or `handingOver`), a master runs its down script; then the
    /// notify script hears STOP (`reason` in its `CARP_REASON`). Scripts already running or
    /// queued finish first, so the address is never left behind by an out-of-order script.
    /// `keepingAddress: false` lets the address go with the leaving advertisement (no make
    /// before break: the supervisor is gone, this is a death, not a planned departure).
    private mutating func leave(
        _ ending: Ending, reason: ScriptReason, handingOver: Bool? = nil, keepingAddress: Bool = true,
        at now: MonotonicInstant
    ) -> [Action] {
        let stoppingFrom = reportedRole
        var actions: [Action] = []
        if handingOver ?? settings.shutsDown {
            actions += carryOut(machine.shutdown(at: now), at: now)
            if !keepingAddress { actions += carryOut(machine.releaseAddress(), at: now) }
        } else {
            // Not handing over: an address still held after a step-down goes now.
            actions += carryOut(machine.releaseAddress(), at: now)
        }
        var notice: StopNotice?
        if machine.addressRelease != nil || etcd?.release != nil {
            notice = StopNotice(from: stoppingFrom, reason: reason)
        } else {
            actions += notifyStop(from: stoppingFrom, reason: reason, at: now)
        }
        phase = .leaving(ending, notice: notice)
        return actions + finishIfDone()
    }

    /// The notify script's STOP held while the address was kept for the new master, now that it
    /// is let go (after the down script, as always).
    mutating func tellStopNotice(at now: MonotonicInstant) -> [Action] {
        guard case .leaving(let ending, let notice?) = phase else { return [] }
        phase = .leaving(ending, notice: nil)
        return notifyStop(from: notice.from, reason: notice.reason, at: now)
    }

    /// Once leaving and the scripts are done: tidy up and exit (or die of the signal).
    mutating func finishIfDone() -> [Action] {
        guard case .leaving(let ending, _) = phase, scripts.isIdle,
            machine.addressRelease == nil, etcd?.release == nil
        else { return [] }
        phase = .finished
        switch ending {
        case .exit(let status): return tidyUp() + [.exit(status)]
        case .signal(let signal): return tidyUp() + [.dieOf(signal)]
        }
    }

    /// What every way out does: stop the health check, record STOPPED.
    private mutating func tidyUp() -> [Action] {
        let killed: [Action] = health?.stop().map { [.kill($0)] } ?? []
        let strict: [Action] = machine.strictState(onlyNews: false).map { [.recordStrictState($0)] } ?? []
        return killed + record(.stopped, previous: ReportedState(reportedRole), reason: .exit) + writeStoppedMetrics()
            + strict
    }
}
