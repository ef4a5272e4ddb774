/// The CARP election of one virtual host: ucarp 1.5.2's `carp.c` logic with the I/O taken out.
///
/// Each event method takes the current monotonic instant and returns the actions the caller
/// must carry out, in order. The machine never reads a clock, touches a socket or runs a
/// script; it exposes ``nextDeadline`` and the caller calls ``deadlinePassed(at:)`` then.
public struct CARPStateMachine: Sendable {
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
        public var sourceAddress: IPv4Address
        /// The counter of the first advertisement; the daemon draws it at random.
        public var initialCounter: UInt64
        /// A health check decides whether we may be master; until its first result we may not.
        public var healthChecked: Bool

        public init(
            vhid: UInt8, advbase: UInt8, advskew: UInt8, deadRatio: UInt32, preempt: Bool, neutral: Bool,
            sourceAddress: IPv4Address, initialCounter: UInt64, healthChecked: Bool = false
        ) {
            self.healthChecked = healthChecked
            self.vhid = vhid
            self.advbase = advbase
            self.advskew = advskew
            self.deadRatio = deadRatio
            self.preempt = preempt
            self.neutral = neutral
            self.sourceAddress = sourceAddress
            self.initialCounter = initialCounter
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
        case sendGratuitousARP
        case log(LogLevel, String)
    }

    /// After a step-down (SIGUSR2) ucarp sleeps this long before it listens again; we keep
    /// handling packets meanwhile but do not take the address back.
    public static let stepDownHold = MonotonicDuration.seconds(3)
    /// ucarp's `CARP_SENDAD_MAX_ERRORS` and `CARP_SENDAD_MIN_SUCCESS`.
    static let sendErrorsBeforeDemotion = 3
    static let sendSuccessesBeforeRecovery = 3

    public let configuration: Configuration
    public private(set) var role: Role = .initial
    public private(set) var advertiseAt: MonotonicInstant?
    public private(set) var masterDownAt: MonotonicInstant?
    public private(set) var holdUntil: MonotonicInstant?
    public private(set) var carrierDown = false
    /// The counter of the last advertisement sent or accepted, once there is one.
    public private(set) var counter: UInt64?
    /// Set after repeated send errors: we advertise with advskew ≥ 240 so others may take over.
    public private(set) var demoted = false
    private var sendErrors = 0
    private var sendSuccesses = 0
    /// Adverts to send before the delayed gratuitous ARP; nil when none is pending.
    private var advertsBeforeDelayedARP: Int?

    /// nil until the first health check result; always true without a health check.
    public private(set) var healthy: Bool?

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.healthy = configuration.healthChecked ? nil : true
    }

    /// Only a healthy instance may become master.
    var mayBecomeMaster: Bool { healthy == true }

    /// The earliest instant at which ``deadlinePassed(at:)`` has work to do.
    public var nextDeadline: MonotonicInstant? {
        switch role {
        case .master: advertiseAt
        case .backup: carrierDown ? nil : masterDownAt
        case .initial, .fault: nil
        }
    }

    /// The skew we advertise with and compare with: raised to 240 while demoted.
    public var effectiveSkew: UInt8 {
        demoted ? max(configuration.advskew, CARPWire.demotedSkew) : configuration.advskew
    }

    var ownInterval: AdvertisementInterval {
        AdvertisementInterval(base: configuration.advbase, skew: effectiveSkew)
    }

    /// `advbase × deadratio` seconds plus the configured skew: how long a backup waits.
    var masterDownInterval: MonotonicDuration {
        AdvertisementInterval(
            seconds: UInt32(configuration.advbase) * configuration.deadRatio,
            microseconds: AdvertisementInterval.microseconds(skew: configuration.advskew)
        ).duration
    }

    // MARK: Events

    /// INIT → BACKUP, running the down script unless `--neutral`, and start listening.
    public mutating func start(at now: MonotonicInstant) -> [Action] {
        guard role == .initial else { return [] }
        let actions = [setState(.backup, reason: .startup)]
        if !carrierDown && mayBecomeMaster { armMasterDown(at: now) }
        return actions
    }

    /// A verified advertisement of our virtual host arrived from another host.
    public mutating func received(_ advert: ReceivedAdvertisement, at now: MonotonicInstant) -> [Action] {
        guard role != .initial, !carrierDown else { return [] }
        counter = advert.counter
        let local = ownInterval
        let remote = advert.interval
        let theirKey = advert.source.ucarpTieBreakKey
        let ourKey = configuration.sourceAddress.ucarpTieBreakKey
        var actions: [Action] = []

        switch role {
        case .initial, .fault:
            break
        case .master:
            if local > remote || (local == remote && theirKey < ourKey) {
                // Make sure the new master hears us once more, so it reasserts the address.
                actions += sendAdvertisement(at: now)
                actions.append(setState(.backup, reason: .preferredMasterAdvertised))
                advertiseAt = nil
                armMasterDown(at: now)
                actions.append(.log(.warning, "Preferred master advertised: going back to BACKUP state"))
            } else if local < remote || (local == remote && theirKey > ourKey) {
                actions.append(.sendGratuitousARP)
                advertsBeforeDelayedARP = 2
                actions.append(
                    .log(
                        .warning,
                        "Non-preferred master advertising: reasserting control of VIP with another gratuitous arp"))
            }
        case .backup:
            guard mayBecomeMaster else { break }
            if let holdUntil, now < holdUntil {
                masterDownAt = holdUntil + masterDownInterval
                break
            }
            if configuration.preempt && local < remote {
                actions += becomeMaster(at: now, reason: .preemption)
                actions.append(.log(.warning, "Putting MASTER down - preemption"))
                break
            }
            // A master advertising so rarely that it would time out anyway is as good as gone.
            let patience = AdvertisementInterval(
                seconds: UInt32(configuration.advbase) * configuration.deadRatio, microseconds: local.microseconds)
            if patience < remote {
                actions += becomeMaster(at: now, reason: .masterWillTimeOut)
                actions.append(.log(.warning, "Putting MASTER DOWN (going to time out)"))
                break
            }
            armMasterDown(at: now)
        }
        return actions
    }

    /// Time has reached ``nextDeadline``: advertise (MASTER) or take over (BACKUP).
    public mutating func deadlinePassed(at now: MonotonicInstant) -> [Action] {
        switch role {
        case .master:
            guard let advertiseAt, now >= advertiseAt else { return [] }
            return sendAdvertisement(at: now)
        case .backup:
            guard !carrierDown, mayBecomeMaster, let masterDownAt, now >= masterDownAt else { return [] }
            holdUntil = nil
            return becomeMaster(at: now, reason: .masterSilent)
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
        if role == .master {
            actions += sendAdvertisement(at: now)
        }
        return actions
    }

    /// SIGUSR2: a master says it is leaving, becomes BACKUP and holds off for ``stepDownHold``.
    public mutating func stepDown(at now: MonotonicInstant) -> [Action] {
        var actions: [Action] = [.log(.debug, "Caught signal (USR2) considering going down")]
        guard role == .master else { return actions }
        actions.append(leavingAdvertisement())
        actions.append(setState(.backup, reason: .stepDown))
        advertiseAt = nil
        let holdUntil = now + Self.stepDownHold
        self.holdUntil = holdUntil
        masterDownAt = holdUntil + masterDownInterval
        return actions
    }

    /// Leaving (a termination signal with `--shutdown`): a master says so on the wire, then
    /// the down script runs unless we were BACKUP.
    public mutating func shutdown(at now: MonotonicInstant) -> [Action] {
        guard role == .master || role == .initial else { return [] }
        var actions: [Action] = []
        if role == .master { actions.append(leavingAdvertisement()) }
        actions.append(.changeState(from: role, to: .backup, reason: .shutdown, runScript: true))
        role = .backup
        advertiseAt = nil
        masterDownAt = nil
        return actions
    }

    /// The interface lost its carrier (not RUNNING): become BACKUP and stop the timers.
    public mutating func carrierLost(at now: MonotonicInstant) -> [Action] {
        guard !carrierDown else { return [] }
        carrierDown = true
        advertiseAt = nil
        masterDownAt = nil
        guard role == .master else { return [] }
        return [setState(.backup, reason: .carrierLost)]
    }

    /// The carrier is back: listen as a BACKUP again.
    public mutating func carrierRestored(at now: MonotonicInstant) -> [Action] {
        guard carrierDown else { return [] }
        carrierDown = false
        // A step-down hold still in force keeps its full length.
        if role == .backup && mayBecomeMaster { armMasterDown(at: max(now, holdUntil ?? now)) }
        return []
    }

    /// The health check's verdict changed (or came for the first time).
    ///
    /// Unhealthy: a master says it is leaving (so a backup takes over at once) and runs its
    /// down script; any instance goes to FAULT and stays out of the election. Healthy again:
    /// FAULT becomes BACKUP and listens as usual (with `--preempt` it may take the address back).
    public mutating func healthChanged(healthy: Bool, at now: MonotonicInstant) -> [Action] {
        self.healthy = healthy
        switch (healthy, role) {
        case (false, .master):
            let leaving = leavingAdvertisement()
            role = .fault
            advertiseAt = nil
            return [leaving, .changeState(from: .master, to: .fault, reason: .healthCheckFailed, runScript: true)]
        case (false, .backup):
            role = .fault
            masterDownAt = nil
            holdUntil = nil
            return [.changeState(from: .backup, to: .fault, reason: .healthCheckFailed, runScript: false)]
        case (true, .fault):
            role = .backup
            if !carrierDown { armMasterDown(at: now) }
            return [.changeState(from: .fault, to: .backup, reason: .healthCheckPassed, runScript: false)]
        case (true, .backup):
            if !carrierDown && masterDownAt == nil { armMasterDown(at: now) }
            return []
        default:
            return []
        }
    }

    // MARK: Internals

    private mutating func setState(_ new: Role, reason: TransitionReason) -> Action {
        let old = role
        role = new
        let runScript = !(new == .backup && old == .initial && configuration.neutral)
        return .changeState(from: old, to: new, reason: reason, runScript: runScript)
    }

    /// ucarp's `carp_master_down`: MASTER, gratuitous ARP, an advertisement at once, and one
    /// more gratuitous ARP two advertisements later (for L3 switches that missed the first).
    private mutating func becomeMaster(at now: MonotonicInstant, reason: TransitionReason) -> [Action] {
        var actions = [setState(.master, reason: reason), .sendGratuitousARP]
        masterDownAt = nil
        holdUntil = nil
        actions += sendAdvertisement(at: now)
        advertsBeforeDelayedARP = 2
        return actions
    }

    /// The advert a departing master sends, as the BSD kernels do: advbase 255 and advskew
    /// 255 make every backup (ours and ucarp 1.5.2 alike) conclude that the master "will time
    /// out anyway" and take over at once, instead of after advbase × deadratio of silence.
    private mutating func leavingAdvertisement() -> Action {
        let next = counter.map { $0 &+ 1 } ?? configuration.initialCounter
        counter = next
        advertiseAt = nil
        return .sendAdvertisement(advbase: Self.leavingAdvbase, advskew: Self.leavingAdvskew, counter: next)
    }

    public static let leavingAdvbase: UInt8 = 255
    public static let leavingAdvskew: UInt8 = 255

    private mutating func sendAdvertisement(at now: MonotonicInstant) -> [Action] {
        let next = counter.map { $0 &+ 1 } ?? configuration.initialCounter
        counter = next
        let skew = effectiveSkew
        var actions: [Action] = [.sendAdvertisement(advbase: configuration.advbase, advskew: skew, counter: next)]
        if let pending = advertsBeforeDelayedARP {
            if pending <= 1 {
                if role == .master { actions.append(.sendGratuitousARP) }
                advertsBeforeDelayedARP = nil
            } else {
                advertsBeforeDelayedARP = pending - 1
            }
        }
        advertiseAt = now + AdvertisementInterval(base: configuration.advbase, skew: skew).duration
        return actions
    }

    private mutating func armMasterDown(at now: MonotonicInstant) {
        masterDownAt = now + masterDownInterval
    }
}
