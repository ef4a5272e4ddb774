/// The CARP election of one virtual host: ucarp 1.5.2's `carp.c` logic with the I/O taken out.
///
/// Each event method takes the current monotonic instant and returns the actions the caller
/// must carry out, in order. The machine never reads a clock, touches a socket or runs a
/// script; it exposes ``nextDeadline`` and the caller calls ``deadlinePassed(at:)`` then.
///
/// Each ``State`` carries its own timers (`CARPStateMachine+State.swift`), and every change
/// of role goes through one transition function that arms the new state's timers
/// (`CARPStateMachine+Transition.swift`), as OpenBSD's `carp_setrun` does.
public struct CARPStateMachine: Sendable {
    /// A state's name without its data: what scripts, logs and the state file are told.
    public enum Role: String, Sendable {
        case initial = "INIT"
        case backup = "BACKUP"
        case master = "MASTER"
        /// The service behind the address failed its health check: never master until it
        /// passes again.
        case fault = "FAULT"
    }

    public struct Configuration: Sendable {
        public var vhid: UInt8
        public var advbase: UInt8
        public var advskew: UInt8
        public var deadRatio: UInt32
        public var preempt: Bool
        public var neutral: Bool
        /// `--srcip`: adverts of the same interval are told apart by it (``IPAddress/tieBreakKey``).
        public var sourceAddress: IPAddress
        /// The counter of the first advertisement; the daemon draws it at random.
        public var initialCounter: UInt64
        /// A health check decides whether we may be master; until its first result we may not.
        public var healthChecked: Bool
        /// How a master announces the address (`--garp-repeat`, `--garp-interval`, `--garp-refresh`).
        public var announcements: AnnouncementSchedule
        /// How long at most a leaving master keeps the address for the new master
        /// (``AddressRelease``, `--handover-wait`); nil lets it go at once, as ucarp does.
        public var handOverWait: MonotonicDuration?
        /// `--preempt-delay`: after start-up, `--preempt` waits this long (a rebooted preferred
        /// master whose services are not up yet does not take the address back at once); a
        /// silent or leaving master is still replaced. nil preempts at once.
        public var preemptDelay: MonotonicDuration?
        /// `--auth`: how our counter advances and which screen adverts pass (``screen(_:at:)``);
        /// with `.strict` the ``initialCounter`` is ``StrictCounter/firstCounter(epoch:)``.
        public var authentication: AuthenticationMode = .ucarp
        /// Whether a backup takes over from a leaving master after its own skew
        /// (``leavingDelay``) rather than at once. Off under the etcd guard, where the key
        /// lets one host in anyway and the address is gone before the leaving advertisement.
        public var staggeredTakeOver = true

        public init(
            vhid: UInt8, advbase: UInt8, advskew: UInt8, deadRatio: UInt32, preempt: Bool, neutral: Bool,
            sourceAddress: IPAddress, initialCounter: UInt64, healthChecked: Bool = false,
            announcements: AnnouncementSchedule = .ucarp, handOverWait: MonotonicDuration? = nil,
            preemptDelay: MonotonicDuration? = nil
        ) {
            self.preemptDelay = preemptDelay
            self.healthChecked = healthChecked
            self.handOverWait = handOverWait
            self.announcements = announcements
            self.vhid = vhid
            self.advbase = advbase
            self.advskew = advskew
            self.deadRatio = deadRatio
            self.preempt = preempt
            self.neutral = neutral
            self.sourceAddress = sourceAddress
            self.initialCounter = initialCounter
        }

        /// The configuration of an instance advertising from an IPv4 address, as ucarp does.
        public init(
            vhid: UInt8, advbase: UInt8, advskew: UInt8, deadRatio: UInt32, preempt: Bool, neutral: Bool,
            sourceAddress: IPv4Address, initialCounter: UInt64, healthChecked: Bool = false,
            announcements: AnnouncementSchedule = .ucarp, handOverWait: MonotonicDuration? = nil
        ) {
            self.init(
                vhid: vhid, advbase: advbase, advskew: advskew, deadRatio: deadRatio, preempt: preempt,
                neutral: neutral, sourceAddress: .ipv4(sourceAddress), initialCounter: initialCounter,
                healthChecked: healthChecked, announcements: announcements, handOverWait: handOverWait)
        }
    }

    /// Why the state changed; scripts and logs get to know.
    public enum TransitionReason: String, Sendable {
        case startup = "startup"
        case masterSilent = "master-silent"
        case preemption = "preempting"
        case masterWillTimeOut = "master-will-time-out"
        case preferredMasterAdvertised = "preferred-master"
        case stepDown = "step-down"
        case carrierLost = "carrier-lost"
        case shutdown = "shutdown"
        case healthCheckFailed = "health-check-failed"
        case healthCheckPassed = "health-check-passed"
        /// The etcd guard took mastership back (``relinquish(_:at:)``): no renewal confirmed in
        /// time, the lease gone, or the key held by another host.
        case leaseLost = "lease-lost"
        case leaseExpired = "lease-expired"
        case keyTaken = "key-taken"
        /// The host's or the group's demotion counter rose (``demotionChanged(to:at:)``): a
        /// master hands over as on a step-down.
        case demoted = "demoted"
    }

    public enum LogLevel: Sendable {
        case debug, info, warning, error
    }

    public enum Action: Equatable, Sendable {
        /// Log `Switching to state: X`; run the up (to MASTER) or down script when `runScript`.
        case changeState(from: Role, to: Role, reason: TransitionReason, runScript: Bool)
        /// Build, sign and send an advertisement with these fields, then report the outcome
        /// with ``advertisementSent(succeeded:at:)``.
        case sendAdvertisement(advbase: UInt8, advskew: UInt8, counter: UInt64)
        /// Announce the virtual addresses: a gratuitous ARP for each IPv4 one, an unsolicited
        /// neighbour advertisement for each IPv6 one (one announcement of the `--garp-*` schedule).
        case announceAddresses
        /// Run the down script now for the MASTER term left earlier for `reason`: the new
        /// master has announced the address, or waited for long enough (``AddressRelease``).
        case releaseAddress(reason: TransitionReason)
        /// A master heard that the daemon reports with ucarp's line (``Note/message``), and
        /// that a layer above may report otherwise (the etcd guard, while the key is not ours).
        case note(Note)
        case log(LogLevel, String)
    }

    /// What the election noticed of a master heard, beyond its own transitions.
    public enum Note: Equatable, Sendable {
        /// We are master and heard a less preferred one: the address is announced again.
        case reasserting
        /// We are backup and preempt a less preferred master.
        case preempting(IPAddress)

        public var level: LogLevel { .warning }

        /// ucarp's line for it.
        public var message: String {
            switch self {
            case .reasserting:
                "Non-preferred master advertising: reasserting control of VIP with another gratuitous arp"
            case .preempting: "Putting MASTER down - preemption"
            }
        }
    }

    /// After a step-down (SIGUSR2) ucarp sleeps this long before it listens again; we keep
    /// handling packets meanwhile but do not take the address back.
    public static let stepDownHold = MonotonicDuration.seconds(3)
    /// The advbase and advskew of a departing master's last advertisement (see
    /// ``leavingAdvertisement()``).
    public static let leavingAdvbase: UInt8 = 255
    public static let leavingAdvskew: UInt8 = 255

    /// Whether an advertisement with these fields is a departing master's last one: advbase
    /// and advskew 255, as the BSD kernels send it.
    public static func isLeaving(advbase: UInt8, advskew: UInt8) -> Bool {
        advbase == leavingAdvbase && advskew == leavingAdvskew
    }
    /// ucarp's `CARP_SENDAD_MAX_ERRORS` and `CARP_SENDAD_MIN_SUCCESS`.
    static let sendErrorsBeforeDemotion = 3
    static let sendSuccessesBeforeRecovery = 3

    public let configuration: Configuration
    /// Where the election stands; the timers are part of it.
    public internal(set) var state: State = .initial(.up)
    /// The counter of our last advertisement, once there is one. Unlike ucarp, a peer's
    /// counter is never adopted (``ReplayFilter``).
    public internal(set) var counter: UInt64?
    /// Our recent counters and the adverts accepted lately: reflections and replays are dropped.
    var replayFilter = ReplayFilter()
    /// `--auth=strict`: the highest counter accepted from each source.
    public internal(set) var strictWindow = StrictReplayWindow()
    /// Set after repeated send errors: we advertise with advskew ≥ 240 so others may take over.
    public private(set) var demoted = false
    private var sendErrors = 0
    private var sendSuccesses = 0
    /// A master left one advertisement before an announcement due with an advertisement; that
    /// announcement goes out with the first advertisement of its next term (ucarp's
    /// `sc_delayed_arp` outlives the state).
    var delayedARPLeftOver = false
    /// When `--preempt-delay` ends (``Configuration/preemptDelay``); nil before the start and
    /// without a delay.
    public internal(set) var preemptsFrom: MonotonicInstant?

    /// Whether `--preempt-delay` has run out since the start.
    func preemptDelayOver(at now: MonotonicInstant) -> Bool {
        preemptsFrom.map { now >= $0 } ?? true
    }

    /// `--preempt` set aside for now: the etcd guard cannot reach etcd, so a preemption would
    /// only make the holder yield a key we cannot take (``suspendPreemption(at:)``).
    public internal(set) var preemptionSuspended = false
    /// A planned departure's address, still held for the new master (``AddressRelease``).
    public internal(set) var addressRelease: AddressRelease?

    /// nil until the first health check result; always true without a health check.
    public internal(set) var healthy: Bool?

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.healthy = configuration.healthChecked ? nil : true
    }

    /// `--auth=strict`: a machine whose replay window starts from the counters a previous run
    /// accepted (``StrictState/peers``).
    public init(configuration: Configuration, remembering peers: [StrictState.Peer], at now: MonotonicInstant) {
        self.init(configuration: configuration)
        strictWindow = StrictReplayWindow(remembering: peers, at: now)
    }

    /// `--auth=strict`: what to keep in the `--auth-state` file now (our epoch, from our last
    /// counter, and the peers' counters); nil in ucarp mode. `onlyNews`: nil too unless a new
    /// peer or a new epoch of one was accepted since the last time.
    public mutating func strictState(onlyNews: Bool) -> StrictState? {
        guard configuration.authentication == .strict else { return nil }
        guard strictWindow.takeNews() || !onlyNews else { return nil }
        let ours = counter ?? configuration.initialCounter
        return StrictState(epoch: UInt32(truncatingIfNeeded: ours >> 32), peers: strictWindow.peers)
    }

    /// The state's name: INIT, BACKUP, MASTER or FAULT.
    public var role: Role { state.role }

    /// The interface has no carrier (is not RUNNING): deaf, no timers, never MASTER.
    public var carrierDown: Bool { state.carrier == .down }

    /// Only a healthy instance may become master.
    var mayBecomeMaster: Bool { healthy == true }

    /// The earliest instant at which ``deadlinePassed(at:)`` has work to do.
    public var nextDeadline: MonotonicInstant? {
        let stateDeadline: MonotonicInstant? =
            switch state {
            case .master(let master): master.nextDeadline
            case .backup(let backup): backup.masterDownAt
            case .initial, .fault: nil
            }
        guard let release = addressRelease?.deadline else { return stateDeadline }
        return stateDeadline.map { min($0, release) } ?? release
    }

    /// The skew we advertise with and compare with: raised to 240 while demoted by send
    /// errors, and by the demotion counter as FreeBSD raises it (``demotedSkew``).
    public var effectiveSkew: UInt8 {
        let skew = demotedSkew
        return demoted ? max(skew, CARPWire.demotedSkew) : skew
    }

    /// The host's or the group's demotion counter (``demotionChanged(to:at:)``): 0 when nothing
    /// demotes us.
    public internal(set) var demotion: UInt32 = 0

    /// `--advskew` plus the demotion counter, clamped to 240 as FreeBSD's `DEMOTE_ADVSKEW`
    /// clamps it, so that any demotion makes every peer (a ucarp one, which sees only the
    /// skew, too) prefer a host that is not demoted. Unlike FreeBSD's, never better than
    /// `--advskew` itself (an advskew above 240 stays as it is).
    public var demotedSkew: UInt8 {
        guard demotion > 0 else { return configuration.advskew }
        let raised = min(UInt32(configuration.advskew) + demotion, UInt32(CARPWire.demotedSkew))
        return max(configuration.advskew, UInt8(raised))
    }

    var ownInterval: AdvertisementInterval {
        AdvertisementInterval(base: configuration.advbase, skew: effectiveSkew)
    }

    /// `advbase × deadratio` seconds plus the configured skew (raised by the demotion counter,
    /// as FreeBSD's backups time the master): how long a backup waits.
    var masterDownInterval: MonotonicDuration {
        AdvertisementInterval(
            seconds: UInt32(configuration.advbase) * configuration.deadRatio,
            microseconds: AdvertisementInterval.microseconds(skew: demotedSkew)
        ).duration
    }

    // MARK: Events

    /// INIT → BACKUP, running the down script unless `--neutral`, and start listening.
    public mutating func start(at now: MonotonicInstant) -> [Action] {
        guard case .initial = state else { return [] }
        preemptsFrom = configuration.preemptDelay.map { now + $0 }
        return transition(to: .backup, reason: .startup, at: now)
    }

    /// Whether a verified advertisement may reach the election: nil (and it is remembered) if
    /// so, else why it is dropped: a reflection of one of ours or a replay (``ReplayFilter``),
    /// or with `--auth=strict` a counter not above the last one of its source
    /// (``StrictReplayWindow``). The caller screens every advert before ``received(_:at:)``,
    /// and counts the drops; a replay so never re-arms a backup's timer.
    public mutating func screen(_ advert: ReceivedAdvertisement, at now: MonotonicInstant) -> AdvertisementError? {
        switch configuration.authentication {
        case .ucarp: replayFilter.screen(advert, at: now)
        case .strict: strictWindow.screen(advert, at: now)
        }
    }

    /// A verified advertisement of our virtual host arrived from another host, and passed
    /// ``screen(_:at:)``.
    public mutating func received(_ advert: ReceivedAdvertisement, at now: MonotonicInstant) -> [Action] {
        guard role != .initial, !carrierDown else { return [] }
        let local = ownInterval
        let remote = advert.interval
        let theirKey = advert.source.tieBreakKey
        let ourKey = configuration.sourceAddress.tieBreakKey
        var actions = heardWhileReleasing(advert)

        switch state {
        case .initial, .fault:
            break
        case .master(let master):
            if local > remote || (local == remote && theirKey < ourKey) {
                // Make sure the new master hears us once more, so it reasserts the address.
                actions += advertiseAsMaster(at: now)
                actions += transition(to: .backup, reason: .preferredMasterAdvertised, at: now)
                actions.append(.log(.warning, "Preferred master advertised: going back to BACKUP state"))
            } else if local < remote || (local == remote && theirKey > ourKey) {
                // A new series of announcements; the advertisement and refresh timers run on.
                let (atOnce, pending) = announcementSeries(at: now)
                actions += Array(repeating: .announceAddresses, count: atOnce)
                var reasserting = master
                reasserting.announcements = pending
                state = .master(reasserting)
                actions.append(.note(.reasserting))
            }
        case .backup(let backup):
            guard mayBecomeMaster else { break }
            // During a step-down hold nothing makes us take over.
            let holding = backup.holdUntil.map { now < $0 } ?? false
            if !holding && advert.isLeaving {
                actions += heardLeaving(backup, at: now)
                break
            }
            if !holding && configuration.preempt && !preemptionSuspended && preemptDelayOver(at: now) && local < remote
            {
                actions += transition(to: .master, reason: .preemption, at: now)
                actions.append(.note(.preempting(advert.source)))
                break
            }
            // A master advertising so rarely that it would time out anyway is as good as gone.
            let patience = AdvertisementInterval(
                seconds: UInt32(configuration.advbase) * configuration.deadRatio, microseconds: local.microseconds)
            if !holding && patience < remote {
                actions += transition(to: .master, reason: .masterWillTimeOut, at: now)
                actions.append(.log(.warning, "Putting MASTER DOWN (going to time out)"))
                break
            }
            // Heard a master: time it again (from the end of a hold in force).
            state = .backup(backup.listening(at: now, masterDown: masterDownInterval))
        }
        return actions
    }

    /// Time has reached ``nextDeadline``: advertise or announce the address (MASTER), or take
    /// over (BACKUP).
    public mutating func deadlinePassed(at now: MonotonicInstant) -> [Action] {
        var released: [Action] = []
        if let release = addressRelease, now >= release.deadline { released = releaseAddress() }
        return released + stateDeadlinePassed(at: now)
    }

    private mutating func stateDeadlinePassed(at now: MonotonicInstant) -> [Action] {
        switch state {
        case .master(let master):
            var actions = now >= master.advertiseAt ? advertiseAsMaster(at: now) : []
            guard case .master(var advertised) = state else { return actions }
            actions += timedAnnouncements(of: &advertised, at: now)
            state = .master(advertised)
            return actions
        case .backup(let backup):
            guard mayBecomeMaster, let masterDownAt = backup.masterDownAt, now >= masterDownAt else { return [] }
            if case .masterLeft = backup.timer { return takeOverFromLeavingMaster(at: now) }
            return transition(to: .master, reason: .masterSilent, at: now)
        case .initial, .fault:
            return []
        }
    }

    /// The outcome of a ``Action/sendAdvertisement(advbase:advskew:counter:)``.
    ///
    /// As in ucarp, three failures in a row demote us (advskew 240) and send once more at
    /// once so that a healthier peer takes over; three successes after that undo it.
    public mutating func advertisementSent(succeeded: Bool, at now: MonotonicInstant) -> [Action] {
        if succeeded {
            if sendErrors >= Self.sendErrorsBeforeDemotion {
                sendSuccesses += 1
                if sendSuccesses >= Self.sendSuccessesBeforeRecovery {
                    demoted = false
                    sendErrors = 0
                    return [.log(.info, "Advertisements go out again: advertising with advskew \(effectiveSkew)")]
                }
            } else {
                sendErrors = 0
            }
            return []
        }
        sendSuccesses = 0
        sendErrors = min(sendErrors + 1, Int(Int32.max))
        guard sendErrors == Self.sendErrorsBeforeDemotion else { return [] }
        demoted = true
        var actions: [Action] = [
            .log(
                .error,
                "write() error #\(sendErrors)/\(Self.sendErrorsBeforeDemotion): advertising with advskew \(effectiveSkew)"
            )
        ]
        if case .master = state {
            actions += advertiseAsMaster(at: now)
        }
        return actions
    }

    /// SIGUSR2: a master says it is leaving, becomes BACKUP and holds off for ``stepDownHold``.
    public mutating func stepDown(at now: MonotonicInstant) -> [Action] {
        var actions: [Action] = [.log(.debug, "Caught signal (USR2) considering going down")]
        guard case .master = state else { return actions }
        actions.append(leavingAdvertisement())
        actions += transition(to: .backup, reason: .stepDown, at: now, holdUntil: now + Self.stepDownHold)
        return actions
    }

    /// Leaving (a termination signal with `--shutdown`): a master says so on the wire, then
    /// the down script runs unless we were BACKUP. The BACKUP left behind times nothing.
    public mutating func shutdown(at now: MonotonicInstant) -> [Action] {
        switch state {
        case .master:
            let leaving = leavingAdvertisement()
            return [leaving] + transition(to: .backup, reason: .shutdown, at: now)
        case .initial:
            return transition(to: .backup, reason: .shutdown, at: now)
        case .backup, .fault:
            return []
        }
    }

    /// The interface lost its carrier (not RUNNING): become BACKUP and stop the timers.
    public mutating func carrierLost(at now: MonotonicInstant) -> [Action] {
        switch state {
        case .initial(.up):
            state = .initial(.down)
        case .fault(.up):
            state = .fault(.down)
        case .backup(var backup) where backup.timer != .noCarrier:
            backup.timer = .noCarrier
            state = .backup(backup)
        case .master:
            return transition(to: .backup, reason: .carrierLost, at: now, carrier: .down)
        case .initial(.down), .fault(.down), .backup:
            break
        }
        // Without a link there is no one to hand the address over to.
        return releaseAddress()
    }

    /// The carrier is back: listen as a BACKUP again.
    public mutating func carrierRestored(at now: MonotonicInstant) -> [Action] {
        switch state {
        case .initial(.down):
            state = .initial(.up)
        case .fault(.down):
            state = .fault(.up)
        case .backup(var backup) where backup.timer == .noCarrier:
            backup.timer = .unarmed
            // A step-down hold still in force keeps its full length.
            state = .backup(mayBecomeMaster ? backup.listening(at: now, masterDown: masterDownInterval) : backup)
        case .initial(.up), .fault(.up), .backup, .master:
            break
        }
        return []
    }

    /// The health check's verdict changed (or came for the first time).
    ///
    /// Unhealthy: a master says it is leaving (so a backup takes over at once) and runs its
    /// down script; any instance goes to FAULT and stays out of the election. Healthy again:
    /// FAULT becomes BACKUP and listens as usual (with `--preempt` it may take the address back).
    public mutating func healthChanged(healthy: Bool, at now: MonotonicInstant) -> [Action] {
        self.healthy = healthy
        switch (healthy, state) {
        case (false, .master):
            let leaving = leavingAdvertisement()
            return [leaving] + transition(to: .fault, reason: .healthCheckFailed, at: now)
        case (false, .backup):
            return transition(to: .fault, reason: .healthCheckFailed, at: now)
        case (true, .fault):
            return transition(to: .backup, reason: .healthCheckPassed, at: now)
        case (true, .backup(let backup)):
            // Listening again unless a timer runs already (or no carrier keeps it unarmed).
            if backup.timer == .unarmed { state = .backup(backup.listening(at: now, masterDown: masterDownInterval)) }
            return []
        case (false, .initial), (false, .fault), (true, .initial), (true, .master):
            // Nothing changes: not yet started, already out, or a master that stays.
            return []
        }
    }

    /// The virtual address vanished from a master's interface (or the link came back) and is
    /// being put back: a new series of announcements, as on becoming master (`--garp-*`);
    /// the advertisement and refresh timers run on. Nothing for any other state.
    public mutating func reannounce(at now: MonotonicInstant) -> [Action] {
        guard case .master(var master) = state else { return [] }
        let (atOnce, pending) = announcementSeries(at: now)
        master.announcements = pending
        state = .master(master)
        return Array(repeating: .announceAddresses, count: atOnce)
    }
}
