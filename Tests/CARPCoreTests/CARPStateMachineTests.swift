import TestSupport
import Testing

@testable import CARPCore

typealias Action = CARPStateMachine.Action

/// An arbitrary starting point on the monotonic clock.
let t0 = MonotonicInstant(nanoseconds: 1_000_000_000_000)
let us = IPv4Address(192, 0, 2, 11)
let peer = IPv4Address(192, 0, 2, 12)

extension MonotonicInstant {
    static func - (lhs: Self, rhs: MonotonicDuration) -> Self { Self(nanoseconds: lhs.nanoseconds - rhs.nanoseconds) }
}

extension MonotonicDuration {
    static func microseconds(_ value: UInt64) -> Self { .nanoseconds(value * 1_000) }
}

func configuration(
    advbase: UInt8 = 1, advskew: UInt8 = 0, deadRatio: UInt32 = 3, preempt: Bool = false, neutral: Bool = false,
    source: IPv4Address = us, initialCounter: UInt64 = 1000
) -> CARPStateMachine.Configuration {
    .init(
        vhid: 1, advbase: advbase, advskew: advskew, deadRatio: deadRatio, preempt: preempt, neutral: neutral,
        sourceAddress: source, initialCounter: initialCounter)
}

/// A machine started at `t0`: BACKUP, listening.
func backup(_ configuration: CARPStateMachine.Configuration = configuration()) -> CARPStateMachine {
    var machine = CARPStateMachine(configuration: configuration)
    _ = machine.start(at: t0)
    return machine
}

/// A machine that started at `t0` and took over when nobody advertised; returns when.
func master(_ configuration: CARPStateMachine.Configuration = configuration()) throws -> (
    CARPStateMachine, MonotonicInstant
) {
    var machine = backup(configuration)
    let deadline = try #require(machine.nextDeadline)
    _ = machine.deadlinePassed(at: deadline)
    try #require(machine.role == .master)
    return (machine, deadline)
}

func advert(from source: IPv4Address = peer, advbase: UInt8 = 1, advskew: UInt8 = 0, counter: UInt64 = 5_000)
    -> ReceivedAdvertisement
{
    ReceivedAdvertisement(source: source, advbase: advbase, advskew: advskew, counter: counter)
}

/// Our counter `steps` adverts after `initial`: counters advance by ``CARPWire/counterStride``.
func ownCounter(_ initial: UInt64 = 1000, after steps: Int) -> UInt64 {
    initial &+ UInt64(steps) &* CARPWire.counterStride
}

func withoutLogs(_ actions: [Action]) -> [Action] {
    actions.filter {
        switch $0 {
        case .log, .note: false
        default: true
        }
    }
}

func logs(_ actions: [Action], _ level: CARPStateMachine.LogLevel) -> [String] {
    actions.compactMap {
        if case .log(level, let message) = $0 { return message }
        if case .note(let note) = $0, note.level == level { return note.message }
        return nil
    }
}

/// `nextDeadline` is exactly what `deadlinePassed` acts on: nothing one nanosecond before,
/// something at it; nothing ever when there is no deadline.
func expectDeadlineIsExact(_ machine: CARPStateMachine, sourceLocation: SourceLocation = #_sourceLocation) {
    if let deadline = machine.nextDeadline {
        var early = machine
        #expect(early.deadlinePassed(at: deadline - .nanoseconds(1)) == [], sourceLocation: sourceLocation)
        #expect(early.role == machine.role, sourceLocation: sourceLocation)
        #expect(early.nextDeadline == deadline, sourceLocation: sourceLocation)
        var onTime = machine
        #expect(withoutLogs(onTime.deadlinePassed(at: deadline)) != [], sourceLocation: sourceLocation)
    } else {
        var never = machine
        #expect(never.deadlinePassed(at: MonotonicInstant(nanoseconds: .max)) == [], sourceLocation: sourceLocation)
        #expect(never.role == machine.role, sourceLocation: sourceLocation)
    }
}

@Suite struct CARPStateMachineTests {
    // MARK: Start

    @Test func startRunsTheDownScriptAndListens() {
        var machine = CARPStateMachine(configuration: configuration())
        #expect(machine.role == .initial)
        #expect(machine.nextDeadline == nil)
        #expect(machine.start(at: t0) == [.changeState(from: .initial, to: .backup, reason: .startup, runScript: true)])
        #expect(machine.role == .backup)
        #expect(machine.nextDeadline == t0 + .seconds(3))
        #expect(machine.start(at: t0 + .seconds(1)) == [])
        #expect(machine.nextDeadline == t0 + .seconds(3))
    }

    @Test func neutralStartDoesNotRunTheDownScript() {
        var machine = CARPStateMachine(configuration: configuration(neutral: true))
        #expect(
            machine.start(at: t0) == [.changeState(from: .initial, to: .backup, reason: .startup, runScript: false)])
        // --neutral only spares the first transition: later ones run their scripts.
        _ = machine.deadlinePassed(at: t0 + .seconds(3))
        let actions = machine.stepDown(at: t0 + .seconds(4))
        #expect(
            withoutLogs(actions).last == .changeState(from: .master, to: .backup, reason: .stepDown, runScript: true))
    }

    @Test func nothingHappensBeforeStart() {
        var machine = CARPStateMachine(configuration: configuration())
        #expect(machine.received(advert(advbase: 255, advskew: 255), at: t0) == [])
        #expect(machine.deadlinePassed(at: t0 + .seconds(100)) == [])
        #expect(withoutLogs(machine.stepDown(at: t0)) == [])
        #expect(machine.role == .initial)
        #expect(machine.counter == nil)
    }

    // MARK: Taking over

    @Test func backupTakesOverWhenMasterFallsSilent() {
        var machine = backup(configuration(advskew: 100))
        // advbase × deadratio + skew/256, the skew not multiplied: 3 s + 390 625 µs.
        let deadline = t0 + .seconds(3) + .microseconds(390_625)
        #expect(machine.nextDeadline == deadline)
        #expect(machine.deadlinePassed(at: deadline - .nanoseconds(1)) == [])
        #expect(machine.role == .backup)
        #expect(
            machine.deadlinePassed(at: deadline) == [
                .changeState(from: .backup, to: .master, reason: .masterSilent, runScript: true),
                .announceAddresses,
                .sendAdvertisement(advbase: 1, advskew: 100, counter: 1000),
            ])
        #expect(machine.role == .master)
        #expect(machine.nextDeadline == deadline + .seconds(1) + .microseconds(390_625))
    }

    @Test func lateDeadlineStillTakesOver() {
        var machine = backup()
        let actions = machine.deadlinePassed(at: t0 + .seconds(60))
        #expect(actions.first == .changeState(from: .backup, to: .master, reason: .masterSilent, runScript: true))
        #expect(machine.nextDeadline == t0 + .seconds(61))
    }

    @Test func masterAdvertisesEveryInterval() throws {
        var (machine, since) = try master(configuration(advskew: 100))
        let interval = MonotonicDuration.seconds(1) + .microseconds(390_625)
        var now = since
        for index in 1...6 {
            let next = try #require(machine.nextDeadline)
            #expect(next == now + interval, "advert \(index)")
            #expect(machine.deadlinePassed(at: next - .nanoseconds(1)) == [])
            let actions = withoutLogs(machine.deadlinePassed(at: next))
            #expect(actions.first == .sendAdvertisement(advbase: 1, advskew: 100, counter: ownCounter(after: index)))
            now = next
        }
        #expect(machine.role == .master)
    }

    @Test func lateAdvertSchedulesTheNextFromWhenItWasSent() throws {
        var (machine, since) = try master()
        let late = since + .milliseconds(1700)
        _ = machine.deadlinePassed(at: late)
        #expect(machine.nextDeadline == late + .seconds(1))
    }

    @Test func secondGratuitousARPComesWithTheSecondAdvertAfterTakingOver() throws {
        var (machine, since) = try master()
        // The take-over sent the first ARP and the first advertisement (see above). ucarp sets
        // sc_delayed_arp = 2 after that advertisement: the ARP follows the third advertisement.
        #expect(
            machine.deadlinePassed(at: since + .seconds(1)) == [
                .sendAdvertisement(advbase: 1, advskew: 0, counter: ownCounter(after: 1))
            ])
        #expect(
            machine.deadlinePassed(at: since + .seconds(2)) == [
                .sendAdvertisement(advbase: 1, advskew: 0, counter: ownCounter(after: 2)), .announceAddresses,
            ])
        for second in 3...8 {
            #expect(withoutLogs(machine.deadlinePassed(at: since + .seconds(UInt64(second)))).count == 1)
        }
    }

    @Test func everyValidAdvertRestartsTheBackupTimer() {
        var machine = backup(configuration(advskew: 100))
        let masterDown = MonotonicDuration.seconds(3) + .microseconds(390_625)
        var now = t0
        for step in 1...10 {
            now = now + .milliseconds(2900)
            #expect(machine.received(advert(counter: UInt64(step)), at: now) == [])
            #expect(machine.nextDeadline == now + masterDown)
            #expect(machine.deadlinePassed(at: now + .milliseconds(2900)) == [])
            #expect(machine.role == .backup)
        }
    }

    // MARK: Preemption and the "will time out" rule

    @Test func preemptingBackupTakesOverAtOnceFromASlowerMaster() {
        var machine = backup(configuration(advskew: 0, preempt: true))
        let now = t0 + .seconds(1)
        let actions = machine.received(advert(advskew: 100, counter: 41), at: now)
        #expect(
            withoutLogs(actions) == [
                .changeState(from: .backup, to: .master, reason: .preemption, runScript: true),
                .announceAddresses,
                .sendAdvertisement(advbase: 1, advskew: 0, counter: 1000),
            ])
        #expect(logs(actions, .warning) == ["Putting MASTER down - preemption"])
        #expect(machine.role == .master)
        #expect(machine.nextDeadline == now + .seconds(1))
    }

    @Test func backupWithoutPreemptWaitsForASlowerMaster() {
        var machine = backup(configuration(advskew: 0, preempt: false))
        let now = t0 + .seconds(1)
        #expect(machine.received(advert(advskew: 100), at: now) == [])
        #expect(machine.role == .backup)
        #expect(machine.nextDeadline == now + .seconds(3))
    }

    @Test func preemptNeedsAStrictlySlowerMaster() {
        var machine = backup(configuration(advskew: 10, preempt: true))
        #expect(machine.received(advert(advskew: 10), at: t0) == [])
        #expect(machine.received(advert(from: IPv4Address(10, 0, 0, 1), advskew: 10), at: t0) == [])
        #expect(machine.received(advert(advskew: 9), at: t0) == [])
        #expect(machine.role == .backup)
    }

    @Test func backupTakesOverAtOnceFromAMasterThatWillTimeOutAnyway() {
        var machine = backup()
        let now = t0 + .seconds(1)
        let actions = machine.received(advert(advbase: 255, advskew: 255, counter: 9), at: now)
        #expect(
            withoutLogs(actions) == [
                .changeState(from: .backup, to: .master, reason: .masterWillTimeOut, runScript: true),
                .announceAddresses,
                .sendAdvertisement(advbase: 1, advskew: 0, counter: 1000),
            ])
        #expect(logs(actions, .warning) == ["Putting MASTER DOWN (going to time out)"])
    }

    @Test func willTimeOutRuleComparesAgainstDeadRatioTimesAdvbasePlusOurSkew() {
        // ucarp: sc_tv = (advbase × deadratio, our skew in µs) < the sender's interval.
        var equal = backup(configuration(advskew: 100))
        #expect(equal.received(advert(advbase: 3, advskew: 100), at: t0) == [])
        #expect(equal.role == .backup)
        var slower = backup(configuration(advskew: 100))
        _ = slower.received(advert(advbase: 3, advskew: 101), at: t0)
        #expect(slower.role == .master)
        var deadRatio5 = backup(configuration(deadRatio: 5))
        #expect(deadRatio5.received(advert(advbase: 5, advskew: 0), at: t0) == [])
        _ = deadRatio5.received(advert(advbase: 5, advskew: 1), at: t0)
        #expect(deadRatio5.role == .master)
    }

    @Test func subSecondBackupTreatsAnyMasterSlowerThanItsSkewAsTimedOut() {
        // advbase 0 makes advbase × deadratio zero: ucarp then takes over from anyone slower.
        var machine = backup(configuration(advbase: 0, advskew: 26))
        #expect(machine.received(advert(advbase: 0, advskew: 26), at: t0) == [])
        #expect(machine.role == .backup)
        _ = machine.received(advert(advbase: 0, advskew: 27), at: t0)
        #expect(machine.role == .master)
    }

    // MARK: Two masters

    @Test func masterHearingAPreferredMasterSendsOneAdvertThenGoesBackup() throws {
        var (machine, since) = try master(configuration(advskew: 100))
        let now = since + .milliseconds(300)
        let actions = machine.received(advert(advskew: 0, counter: 77), at: now)
        #expect(
            withoutLogs(actions) == [
                .sendAdvertisement(advbase: 1, advskew: 100, counter: ownCounter(after: 1)),
                .changeState(from: .master, to: .backup, reason: .preferredMasterAdvertised, runScript: true),
            ])
        #expect(logs(actions, .warning) == ["Preferred master advertised: going back to BACKUP state"])
        #expect(machine.role == .backup)
        #expect(machine.nextDeadline == now + .seconds(3) + .microseconds(390_625))
        // The old advertisement deadline is gone.
        #expect(machine.deadlinePassed(at: since + .seconds(1) + .microseconds(390_625)) == [])
    }

    @Test func masterHearingASlowerMasterReassertsWithGratuitousARPsAndStays() throws {
        var (machine, since) = try master(configuration(advskew: 0))
        // Let the take-over's delayed ARP go out first.
        _ = machine.deadlinePassed(at: since + .seconds(1))
        _ = machine.deadlinePassed(at: since + .seconds(2))
        let now = since + .milliseconds(2500)
        let actions = machine.received(advert(advskew: 100, counter: 500), at: now)
        #expect(withoutLogs(actions) == [.announceAddresses])
        #expect(
            logs(actions, .warning) == [
                "Non-preferred master advertising: reasserting control of VIP with another gratuitous arp"
            ])
        #expect(machine.role == .master)
        #expect(machine.nextDeadline == since + .seconds(3))
        // And another ARP two advertisements later; the counter strides on from our own.
        #expect(
            machine.deadlinePassed(at: since + .seconds(3)) == [
                .sendAdvertisement(advbase: 1, advskew: 0, counter: ownCounter(after: 3))
            ])
        #expect(
            machine.deadlinePassed(at: since + .seconds(4)) == [
                .sendAdvertisement(advbase: 1, advskew: 0, counter: ownCounter(after: 4)), .announceAddresses,
            ])
        #expect(
            machine.deadlinePassed(at: since + .seconds(5)) == [
                .sendAdvertisement(advbase: 1, advskew: 0, counter: ownCounter(after: 5))
            ])
    }

    @Test func equalMasterStaysWhenThePeerIsHigherAsUcarpComparesOnLittleEndian() throws {
        // 10.0.0.12 is numerically lower than 192.0.2.11, but ucarp compares s_addr loaded as a
        // little-endian integer: the last octet first, so .12 is "higher" and we stay.
        var (machine, _) = try master(configuration(source: IPv4Address(192, 0, 2, 11)))
        let actions = machine.received(advert(from: IPv4Address(10, 0, 0, 12)), at: t0 + .seconds(4))
        #expect(withoutLogs(actions) == [.announceAddresses])
        #expect(machine.role == .master)
    }

    @Test func equalMasterStepsDownWhenThePeerIsLowerAsUcarpComparesOnLittleEndian() throws {
        var (machine, _) = try master(configuration(source: IPv4Address(10, 0, 0, 12)))
        let actions = machine.received(advert(from: IPv4Address(192, 0, 2, 11), counter: 1), at: t0 + .seconds(4))
        #expect(
            withoutLogs(actions) == [
                .sendAdvertisement(advbase: 1, advskew: 0, counter: ownCounter(after: 1)),
                .changeState(from: .master, to: .backup, reason: .preferredMasterAdvertised, runScript: true),
            ])
    }

    @Test(arguments: [
        (IPv4Address(192, 0, 2, 11), IPv4Address(10, 0, 0, 12)),
        (IPv4Address(192, 0, 2, 11), IPv4Address(192, 0, 2, 12)),
        (IPv4Address(10, 0, 0, 1), IPv4Address(192, 0, 2, 1)),
        (IPv4Address(1, 2, 3, 4), IPv4Address(4, 3, 2, 1)),
        (IPv4Address(10, 1, 0, 5), IPv4Address(10, 2, 0, 5)),
    ])
    func exactlyOneOfTwoEqualMastersStays(_ a: IPv4Address, _ b: IPv4Address) throws {
        var (first, _) = try master(configuration(advskew: 7, source: a))
        var (second, _) = try master(configuration(advskew: 7, source: b))
        let now = t0 + .seconds(4)
        _ = first.received(advert(from: b, advskew: 7), at: now)
        _ = second.received(advert(from: a, advskew: 7), at: now)
        #expect([first.role, second.role].filter { $0 == .master }.count == 1)
        // The one with the lower little-endian key stays: the other heard a "lower" sender.
        let winner = a.ucarpTieBreakKey < b.ucarpTieBreakKey ? first : second
        #expect(winner.role == .master)
    }

    @Test func equalIntervalsAtABackupJustRestartTheTimer() {
        var machine = backup(configuration(preempt: true, source: IPv4Address(10, 0, 0, 12)))
        #expect(machine.received(advert(from: IPv4Address(192, 0, 2, 11)), at: t0 + .seconds(2)) == [])
        #expect(machine.role == .backup)
        #expect(machine.nextDeadline == t0 + .seconds(5))
    }

    // MARK: Counters

    @Test func firstAdvertUsesTheInitialCounterThenStrides() throws {
        var (machine, since) = try master(configuration(initialCounter: 0xDEAD_BEEF))
        #expect(machine.counter == 0xDEAD_BEEF)
        #expect(
            machine.deadlinePassed(at: since + .seconds(1)) == [
                .sendAdvertisement(advbase: 1, advskew: 0, counter: 0xDEAD_BEEF &+ CARPWire.counterStride)
            ])
        #expect(machine.counter == 0xDEAD_BEEF &+ CARPWire.counterStride)
    }

    /// ucarp copies the counter it hears (`carp_input`); we do not (issue 23).
    @Test func backupNeverAdoptsTheCounterItHears() {
        var machine = backup()
        _ = machine.received(advert(counter: 123_456), at: t0 + .seconds(1))
        #expect(machine.counter == nil)
        let actions = machine.deadlinePassed(at: t0 + .seconds(4))
        #expect(actions.last == .sendAdvertisement(advbase: 1, advskew: 0, counter: 1000))
    }

    @Test func counterWrapsPastMax() throws {
        var (machine, since) = try master(configuration(initialCounter: .max))
        #expect(machine.counter == .max)
        #expect(
            machine.deadlinePassed(at: since + .seconds(1)) == [
                .sendAdvertisement(advbase: 1, advskew: 0, counter: CARPWire.counterStride - 1)
            ])
        _ = machine.received(advert(advskew: 200, counter: .max), at: since + .milliseconds(1500))
        #expect(
            withoutLogs(machine.deadlinePassed(at: since + .seconds(2))).first
                == .sendAdvertisement(advbase: 1, advskew: 0, counter: 2 &* CARPWire.counterStride &- 1))
    }

    // MARK: Timing settings

    @Test(
        arguments: [(1, 0, 2_000_000), (5, 0, 10_000_000), (5, 128, 10_500_000), (255, 255, 510_996_093)]
            as [(UInt32, UInt8, UInt64)])
    func deadRatioMultipliesAdvbaseOnly(_ deadRatio: UInt32, _ advskew: UInt8, _ microseconds: UInt64) {
        let machine = backup(configuration(advbase: 2, advskew: advskew, deadRatio: deadRatio))
        #expect(machine.nextDeadline == t0 + .microseconds(microseconds))
    }

    @Test func advbaseZeroWithSkewGivesSubSecondTimers() throws {
        let machine = backup(configuration(advbase: 0, advskew: 26))
        #expect(machine.nextDeadline == t0 + .microseconds(101_562))
        var (leader, since) = try master(configuration(advbase: 0, advskew: 26))
        #expect(since == t0 + .microseconds(101_562))
        var now = since
        for index in 1...20 {
            let next = try #require(leader.nextDeadline)
            #expect(next == now + .microseconds(101_562))
            #expect(
                withoutLogs(leader.deadlinePassed(at: next)).first
                    == .sendAdvertisement(advbase: 0, advskew: 26, counter: ownCounter(after: index)))
            now = next
        }
    }

    // MARK: Send errors

    @Test func threeSendErrorsDemoteToSkew240AndResendAtOnce() throws {
        var (machine, since) = try master(configuration(advskew: 10))
        #expect(machine.advertisementSent(succeeded: false, at: since) == [])
        var next = try #require(machine.nextDeadline)
        #expect(
            machine.deadlinePassed(at: next) == [
                .sendAdvertisement(advbase: 1, advskew: 10, counter: ownCounter(after: 1))
            ])
        #expect(machine.advertisementSent(succeeded: false, at: next) == [])
        next = try #require(machine.nextDeadline)
        _ = machine.deadlinePassed(at: next)  // the third advert, with the delayed ARP
        #expect(!machine.demoted)
        let now = next
        let actions = machine.advertisementSent(succeeded: false, at: now)
        #expect(withoutLogs(actions) == [.sendAdvertisement(advbase: 1, advskew: 240, counter: ownCounter(after: 3))])
        #expect(logs(actions, .error).count == 1)
        #expect(logs(actions, .error).first?.contains("240") == true)
        #expect(machine.demoted)
        #expect(machine.effectiveSkew == 240)
        #expect(machine.nextDeadline == now + .seconds(1) + .microseconds(937_500))
        // A fourth error does not resend again.
        #expect(withoutLogs(machine.advertisementSent(succeeded: false, at: now)) == [])
        #expect(
            machine.deadlinePassed(at: now + .seconds(1) + .microseconds(937_500)) == [
                .sendAdvertisement(advbase: 1, advskew: 240, counter: ownCounter(after: 4))
            ])
    }

    @Test func threeSuccessesInARowRestoreTheConfiguredSkew() throws {
        var (machine, since) = try master(configuration(advskew: 10))
        for _ in 1...3 { _ = machine.advertisementSent(succeeded: false, at: since) }
        #expect(machine.demoted)
        #expect(machine.advertisementSent(succeeded: true, at: since) == [])
        #expect(machine.advertisementSent(succeeded: true, at: since) == [])
        #expect(machine.advertisementSent(succeeded: false, at: since) == [])  // starts over
        #expect(machine.advertisementSent(succeeded: true, at: since) == [])
        #expect(machine.advertisementSent(succeeded: true, at: since) == [])
        #expect(machine.demoted)
        let actions = machine.advertisementSent(succeeded: true, at: since)
        #expect(withoutLogs(actions) == [])
        #expect(logs(actions, .info).count == 1)
        #expect(!machine.demoted)
        #expect(machine.effectiveSkew == 10)
        let next = try #require(machine.nextDeadline)
        #expect(
            withoutLogs(machine.deadlinePassed(at: next)).first
                == .sendAdvertisement(advbase: 1, advskew: 10, counter: ownCounter(after: 2)))
    }

    @Test func aSuccessBeforeTheThirdErrorResetsTheCount() throws {
        var (machine, since) = try master()
        _ = machine.advertisementSent(succeeded: false, at: since)
        _ = machine.advertisementSent(succeeded: false, at: since)
        _ = machine.advertisementSent(succeeded: true, at: since)
        _ = machine.advertisementSent(succeeded: false, at: since)
        #expect(machine.advertisementSent(succeeded: false, at: since) == [])
        #expect(!machine.demoted)
    }

    @Test func demotionNeverLowersAConfiguredSkewAbove240() throws {
        var (machine, since) = try master(configuration(advskew: 250))
        for _ in 1...2 { _ = machine.advertisementSent(succeeded: false, at: since) }
        let actions = machine.advertisementSent(succeeded: false, at: since)
        #expect(withoutLogs(actions) == [.sendAdvertisement(advbase: 1, advskew: 250, counter: ownCounter(after: 1))])
        #expect(machine.effectiveSkew == 250)
    }

    @Test func demotedMasterYieldsToAHealthyPeer() throws {
        var (machine, since) = try master(configuration(advskew: 0))
        for _ in 1...3 { _ = machine.advertisementSent(succeeded: false, at: since) }
        let actions = machine.received(advert(advskew: 100), at: since + .milliseconds(500))
        #expect(
            withoutLogs(actions).last
                == .changeState(from: .master, to: .backup, reason: .preferredMasterAdvertised, runScript: true))
        #expect(
            withoutLogs(actions).first == .sendAdvertisement(advbase: 1, advskew: 240, counter: ownCounter(after: 2)))
        // The master-down timer uses the configured skew, as ucarp's carp_setrun does.
        #expect(machine.nextDeadline == since + .milliseconds(3500))
    }

    @Test func sendErrorsWhileBackupDemoteWithoutSending() {
        var machine = backup()
        for _ in 1...2 { _ = machine.advertisementSent(succeeded: false, at: t0) }
        #expect(withoutLogs(machine.advertisementSent(succeeded: false, at: t0)) == [])
        #expect(machine.demoted)
        #expect(machine.role == .backup)
    }

    // MARK: Step-down (SIGUSR2)

    @Test func stepDownMakesMasterBackupAndHoldsOffThreeSecondsPlusMasterDown() throws {
        var (machine, since) = try master(configuration(advskew: 100))
        let now = since + .milliseconds(500)
        let actions = machine.stepDown(at: now)
        // A leaving advertisement first (as the BSD kernels send it), then the down script.
        #expect(
            withoutLogs(actions) == [
                .sendAdvertisement(advbase: 255, advskew: 255, counter: ownCounter(after: 1)),
                .changeState(from: .master, to: .backup, reason: .stepDown, runScript: true),
            ])
        #expect(logs(actions, .debug) == ["Caught signal (USR2) considering going down"])
        #expect(machine.role == .backup)
        let masterDown = MonotonicDuration.seconds(3) + .microseconds(390_625)
        let resume = now + .seconds(3) + masterDown
        #expect(machine.nextDeadline == resume)
        expectDeadlineIsExact(machine)
        // Adverts that would make a backup take over at once do not, during the hold.
        for offset: UInt64 in [1, 1500, 2999] {
            let actions = machine.received(advert(advbase: 255, advskew: 255), at: now + .milliseconds(offset))
            #expect(withoutLogs(actions) == [])
            #expect(machine.role == .backup)
            #expect(machine.nextDeadline == resume)
        }
        #expect(machine.received(advert(advbase: 255, advskew: 255), at: now + .seconds(3) - .nanoseconds(1)) == [])
        #expect(machine.deadlinePassed(at: resume - .nanoseconds(1)) == [])
        #expect(machine.role == .backup)
        #expect(
            machine.deadlinePassed(at: resume).first
                == .changeState(from: .backup, to: .master, reason: .masterSilent, runScript: true))
    }

    @Test func leavingAdvertisementMakesAListeningBackupTakeOverAfterItsSkew() throws {
        var (leaving, since) = try master(configuration(advskew: 100, source: us))
        let actions = leaving.stepDown(at: since + .seconds(1))
        guard case .sendAdvertisement(let advbase, let advskew, let counter) = withoutLogs(actions).first else {
            Issue.record("expected a leaving advertisement")
            return
        }
        var other = backup(configuration(advskew: 200, source: peer))
        let heard = ReceivedAdvertisement(source: us, advbase: advbase, advskew: advskew, counter: counter)
        #expect(withoutLogs(other.received(heard, at: since + .seconds(1))).isEmpty)
        // 200/256 s later, not advbase × deadratio.
        let deadline = try #require(other.nextDeadline)
        #expect(deadline == since + .seconds(1) + .microseconds(781_250))
        let taken = withoutLogs(other.deadlinePassed(at: deadline))
        #expect(taken.first == .changeState(from: .backup, to: .master, reason: .masterWillTimeOut, runScript: true))
        #expect(taken.last == .sendAdvertisement(advbase: 1, advskew: 200, counter: 1000))
        // Even with the largest dead ratio ucarp allows, advskew 0 at once.
        var patient = backup(configuration(advbase: 1, deadRatio: 255, source: peer))
        _ = patient.received(heard, at: since + .seconds(1))
        #expect(patient.role == .master)
    }

    @Test func afterTheHoldAdvertsAreHandledAsUsual() throws {
        var (machine, since) = try master()
        _ = machine.stepDown(at: since)
        let after = since + .seconds(3)
        #expect(machine.received(advert(), at: after) == [])
        #expect(machine.nextDeadline == after + .seconds(3))
        _ = machine.received(advert(advbase: 255, advskew: 255), at: after + .seconds(1))
        #expect(machine.role == .master)
    }

    /// ucarp sleeps through the whole hold, then arms the master-down timer from its end;
    /// a carrier flap inside the hold must not shorten it.
    @Test func carrierFlapDuringTheStepDownHoldDoesNotShortenIt() throws {
        var (machine, since) = try master(configuration(advbase: 0, advskew: 26))
        _ = machine.stepDown(at: since)
        let resume = since + .seconds(3) + .microseconds(101_562)
        #expect(machine.nextDeadline == resume)
        _ = machine.carrierLost(at: since + .milliseconds(100))
        _ = machine.carrierRestored(at: since + .milliseconds(200))
        #expect(machine.nextDeadline == resume)
    }

    @Test func stepDownAsBackupOnlyLogs() {
        var machine = backup()
        let actions = machine.stepDown(at: t0 + .seconds(1))
        #expect(withoutLogs(actions) == [])
        #expect(machine.role == .backup)
        #expect(machine.nextDeadline == t0 + .seconds(3))
    }

    // MARK: Shutdown

    @Test func shutdownAsMasterRunsTheDownScript() throws {
        var (machine, since) = try master()
        #expect(
            machine.shutdown(at: since + .seconds(1)) == [
                .sendAdvertisement(advbase: 255, advskew: 255, counter: ownCounter(after: 1)),
                .changeState(from: .master, to: .backup, reason: .shutdown, runScript: true),
            ])
        #expect(machine.role == .backup)
        #expect(machine.nextDeadline == nil)
        #expect(machine.shutdown(at: since + .seconds(2)) == [])
    }

    @Test func shutdownAsBackupDoesNothing() {
        var machine = backup()
        #expect(machine.shutdown(at: t0 + .seconds(1)) == [])
        #expect(machine.role == .backup)
    }

    // MARK: Carrier

    @Test func carrierLostAsMasterGoesBackupAndStopsTheTimers() throws {
        var (machine, since) = try master()
        let now = since + .milliseconds(200)
        #expect(
            machine.carrierLost(at: now) == [
                .changeState(from: .master, to: .backup, reason: .carrierLost, runScript: true)
            ])
        #expect(machine.role == .backup)
        #expect(machine.nextDeadline == nil)
        #expect(machine.carrierLost(at: now) == [])
        #expect(machine.deadlinePassed(at: now + .seconds(100)) == [])
        #expect(machine.received(advert(advbase: 255, advskew: 255, counter: 1), at: now + .seconds(1)) == [])
        #expect(machine.received(advert(advskew: 255, counter: 1), at: now + .seconds(1)) == [])
        #expect(machine.role == .backup)
        #expect(machine.nextDeadline == nil)
        // Restored: listen as a backup again.
        let restored = now + .seconds(20)
        #expect(machine.carrierRestored(at: restored) == [])
        #expect(machine.carrierRestored(at: restored + .seconds(1)) == [])
        #expect(machine.nextDeadline == restored + .seconds(3))
        #expect(
            machine.deadlinePassed(at: restored + .seconds(3)).first
                == .changeState(from: .backup, to: .master, reason: .masterSilent, runScript: true))
    }

    @Test func carrierLostAsBackupRunsNoScript() {
        var machine = backup()
        #expect(machine.carrierLost(at: t0 + .seconds(1)) == [])
        #expect(machine.nextDeadline == nil)
        #expect(machine.carrierRestored(at: t0 + .seconds(10)) == [])
        #expect(machine.nextDeadline == t0 + .seconds(13))
    }

    @Test func startingWithoutCarrierWaitsForIt() {
        var machine = CARPStateMachine(configuration: configuration())
        _ = machine.carrierLost(at: t0)
        #expect(machine.start(at: t0) == [.changeState(from: .initial, to: .backup, reason: .startup, runScript: true)])
        #expect(machine.nextDeadline == nil)
        _ = machine.carrierRestored(at: t0 + .seconds(5))
        #expect(machine.nextDeadline == t0 + .seconds(8))
    }

    // MARK: Re-announcing (address-lost)

    @Test func reannounceSendsAnARPNowAndAnotherTwoAdvertisementsLaterWithoutAChangeOfRole() throws {
        var (machine, since) = try master()
        _ = machine.deadlinePassed(at: since + .seconds(1))
        _ = machine.deadlinePassed(at: since + .seconds(2))
        #expect(machine.reannounce(at: since + .milliseconds(2500)) == [.announceAddresses])
        #expect(machine.role == .master)
        // The advertisement timer is untouched.
        #expect(machine.nextDeadline == since + .seconds(3))
        #expect(withoutLogs(machine.deadlinePassed(at: since + .seconds(3))).contains(.announceAddresses) == false)
        #expect(withoutLogs(machine.deadlinePassed(at: since + .seconds(4))).last == .announceAddresses)
    }

    @Test func reannounceDoesNothingUnlessMaster() {
        var machine = backup()
        #expect(machine.reannounce(at: t0 + .seconds(1)) == [])
        #expect(machine.role == .backup)
    }

    // MARK: The captured hand-over, replayed

    /// Replays `CapturedFrames`' hand-over: h2 (skew 100) alone as master, h1 (skew 0, -P)
    /// preempts, h2 sends a parting advert and goes backup, h1 reasserts. Each side's first
    /// advertisement, encoded with the captured IP id, is the captured bytes; after that the
    /// counters are our own (ucarp's h1 copied h2's counter, we do not), the decisions ucarp's.
    @Test func replaysUcarpsHandOverDecisionForDecision() throws {
        let h2Advert = CapturedAdvert.all[10]
        let h1Advert1 = CapturedAdvert.all[11]
        let h2Parting = CapturedAdvert.all[12]
        let h1Later = Array(CapturedAdvert.all[13...15])
        let h1Codec = h1Advert1.senderCodec
        let h2Codec = h2Advert.senderCodec

        var h1 = CARPStateMachine(
            configuration: configuration(
                advskew: 0, preempt: true, source: CapturedAdvert.h1, initialCounter: h1Advert1.counter))
        var h2 = CARPStateMachine(
            configuration: configuration(advskew: 100, source: CapturedAdvert.h2, initialCounter: h2Advert.counter))
        _ = h2.start(at: t0)
        let h2Took = try #require(h2.nextDeadline)
        let h2Actions = h2.deadlinePassed(at: h2Took)
        #expect(h2Actions.last == .sendAdvertisement(advbase: 1, advskew: 100, counter: h2Advert.counter))
        #expect(
            h2Codec.frame(
                advbase: 1, advskew: 100, counter: h2Advert.counter, ipIdentification: h2Advert.ipIdentification)
                == h2Advert.frame)

        // h1 starts later, hears h2 and preempts.
        _ = h1.start(at: h2Took + .seconds(5))
        let preempted = h2Took + .seconds(6)
        guard case .accepted(let fromH2) = h1Codec.decode(frame: h2Advert.frame) else {
            Issue.record("h1 must accept h2's advert")
            return
        }
        let h1Actions = withoutLogs(h1.received(fromH2, at: preempted))
        #expect(
            h1Actions == [
                .changeState(from: .backup, to: .master, reason: .preemption, runScript: true),
                .announceAddresses,
                .sendAdvertisement(advbase: 1, advskew: 0, counter: h1Advert1.counter),
            ])
        #expect(
            h1Codec.frame(
                advbase: 1, advskew: 0, counter: h1Advert1.counter, ipIdentification: h1Advert1.ipIdentification)
                == h1Advert1.frame)

        // h2 hears h1 (preferred), sends its parting advert and goes backup.
        guard case .accepted(let fromH1) = h2Codec.decode(frame: h1Advert1.frame) else {
            Issue.record("h2 must accept h1's advert")
            return
        }
        let parting = withoutLogs(h2.received(fromH1, at: preempted + .milliseconds(900)))
        #expect(
            parting == [
                .sendAdvertisement(
                    advbase: 1, advskew: 100, counter: h2Advert.counter &+ CARPWire.counterStride),
                .changeState(from: .master, to: .backup, reason: .preferredMasterAdvertised, runScript: true),
            ])

        // h1 hears the slower parting advert (ucarp's, with the counter it copied): reasserts
        // and stays, counting on from its own counter.
        guard case .accepted(let partingAdvert) = h1Codec.decode(frame: h2Parting.frame) else {
            Issue.record("h1 must accept h2's parting advert")
            return
        }
        #expect(withoutLogs(h1.received(partingAdvert, at: preempted + .milliseconds(950))) == [.announceAddresses])
        for (index, _) in h1Later.enumerated() {
            let next = try #require(h1.nextDeadline)
            let actions = h1.deadlinePassed(at: next)
            #expect(
                actions.first
                    == .sendAdvertisement(
                        advbase: 1, advskew: 0, counter: ownCounter(h1Advert1.counter, after: index + 1)))
        }
        #expect(h1.role == .master)
        #expect(h2.role == .backup)
    }

    // MARK: The random walk

    /// Thousands of events in a fixed-seed order (adverts heard, send outcomes, step-downs,
    /// carrier flaps, health verdicts, shutdowns, deadlines): after each, the machine's
    /// invariants hold. `nextDeadline` is exact and never past; a master has its next advert,
    /// carrier and health; only a master advertises or ARPs; every take-over sends the ARP and
    /// an advert at once; FAULT is entered and left only on a health verdict.
    @Test(arguments: [
        (1 as UInt8, 0 as UInt8, false, false), (1, 100, true, true), (0, 26, false, true), (3, 255, true, false),
        (2, 0, true, true),
    ])
    func randomWalkKeepsTheMachinesInvariants(advbase: UInt8, advskew: UInt8, preempt: Bool, healthChecked: Bool) {
        var random = SplitMix(
            state: UInt64(advbase) << 16 | UInt64(advskew) << 1 | (preempt ? 1 : 0) | (healthChecked ? 1 << 40 : 0))
        let initial: UInt64 = .max - 3
        var settings = configuration(advbase: advbase, advskew: advskew, preempt: preempt, initialCounter: initial)
        settings.healthChecked = healthChecked
        // Make before break in three of the five walks.
        settings.handOverWait = preempt ? .seconds(2) : nil
        var machine = CARPStateMachine(configuration: settings)
        var now = t0
        // What the walk knows without looking inside the machine.
        var state = machine.role
        var carrierDown = false
        var healthy: Bool? = healthChecked ? nil : true
        var expectedCounter = initial
        var transitions: [CARPStateMachine.TransitionReason: Int] = [:]
        // A planned departure's address, not yet released.
        var held = false

        // A peer's counter is never adopted: ours strides on from `initial` throughout.
        func check(_ actions: [Action], _ note: String) {
            for (index, action) in actions.enumerated() {
                switch action {
                case .changeState(let from, let to, let reason, let runScript):
                    #expect(from == state, "\(note)")
                    #expect(from != to, "\(note)")
                    // The up script on entering MASTER, the down script on leaving it; a planned
                    // departure with a hand-over keeps the address, and a master coming back
                    // before it went runs no up script.
                    if from == .master {
                        let planned = [.stepDown, .shutdown, .healthCheckFailed].contains(reason)
                        if planned && settings.handOverWait != nil {
                            #expect(!runScript, "\(note)")
                            held = true
                        } else {
                            #expect(runScript, "\(note)")
                        }
                    }
                    if to == .master {
                        #expect(runScript == !held, "\(note)")
                        held = false
                    }
                    if to == .fault { #expect(reason == .healthCheckFailed && healthy == false, "\(note)") }
                    if from == .fault { #expect(reason == .healthCheckPassed && healthy == true, "\(note)") }
                    if to == .master {
                        // Every take-over: the gratuitous ARP, then an advertisement at once.
                        let first: [Action] = [
                            .announceAddresses,
                            .sendAdvertisement(
                                advbase: advbase, advskew: machine.effectiveSkew, counter: expectedCounter),
                        ]
                        #expect(Array(actions.dropFirst(index + 1).prefix(2)) == first, "\(note): \(actions)")
                    }
                    state = to
                    transitions[reason, default: 0] += 1
                case .sendAdvertisement(let base, let skew, let counter):
                    // Only a master advertises (a leaving one too, before it changes state).
                    #expect(state == .master, "\(note): \(actions)")
                    let leaving = (base, skew) == (CARPStateMachine.leavingAdvbase, CARPStateMachine.leavingAdvskew)
                    #expect(leaving || (base == advbase && skew == machine.effectiveSkew), "\(note)")
                    if leaving {
                        #expect(actions.dropFirst(index + 1).first?.leavesMaster == true, "\(note): \(actions)")
                    }
                    #expect(counter == expectedCounter, "\(note)")
                    expectedCounter = counter &+ CARPWire.counterStride
                case .announceAddresses:
                    #expect(state == .master, "\(note): \(actions)")
                case .releaseAddress(let reason):
                    #expect(held && state != .master, "\(note): \(actions)")
                    #expect([.stepDown, .shutdown, .healthCheckFailed].contains(reason), "\(note)")
                    held = false
                case .log, .note:
                    break
                }
            }
            #expect((machine.addressRelease != nil) == held, "\(note)")
            #expect(state == machine.role, "\(note)")
            #expect(machine.carrierDown == carrierDown, "\(note)")
            #expect(machine.healthy == healthy, "\(note)")
            if let deadline = machine.nextDeadline {
                #expect(deadline >= now, "\(note): deadline \(deadline) before \(now)")
            }
            switch machine.role {
            case .master:
                #expect(machine.nextDeadline != nil, "\(note): a master with no next advertisement")
                #expect(healthy == true && !carrierDown, "\(note)")
            case .backup:
                if healthy != true || carrierDown {
                    #expect(machine.nextDeadline == machine.addressRelease?.deadline, "\(note)")
                }
            case .fault:
                #expect(healthy == false && machine.nextDeadline == machine.addressRelease?.deadline, "\(note)")
            case .initial:
                Issue.record("\(note): back in INIT")
            }
            expectDeadlineIsExact(machine)
        }

        check(machine.start(at: now), "start")
        for step in 0..<3_000 {
            now = now + .nanoseconds(UInt64(random.below(2_000_000_000)))
            // The loop handles every deadline that falls before the next event, at its time.
            var guardCount = 0
            let eventTime = now
            while let deadline = machine.nextDeadline, deadline <= eventTime, guardCount < 100 {
                now = deadline
                let actions = machine.deadlinePassed(at: deadline)
                #expect(withoutLogs(actions) != [], "step \(step): deadline did nothing")
                check(actions, "step \(step) deadline")
                for action in actions where action.isSend {
                    check(machine.advertisementSent(succeeded: random.below(10) < 8, at: deadline), "step \(step) sent")
                }
                guardCount += 1
            }
            now = eventTime
            switch random.below(40) {
            case 0..<23:
                let sources = [peer, IPv4Address(10, 0, 0, 12), IPv4Address(192, 0, 2, 1)]
                let bases: [UInt8] = [0, 1, 1, 2, 3, 255]
                let heard = ReceivedAdvertisement(
                    source: sources[random.below(3)], advbase: bases[random.below(6)],
                    advskew: UInt8(truncatingIfNeeded: random.next()),
                    counter: random.below(4) == 0 ? .max : random.next())
                let actions = machine.received(heard, at: now)
                check(actions, "step \(step) received \(heard)")
            case 23..<27:
                check(machine.advertisementSent(succeeded: random.below(2) == 0, at: now), "step \(step) sent")
            case 27, 28:
                check(machine.stepDown(at: now), "step \(step) stepDown")
            case 29, 30:
                carrierDown = true
                check(machine.carrierLost(at: now), "step \(step) carrierLost")
            case 31..<34:
                carrierDown = false
                check(machine.carrierRestored(at: now), "step \(step) carrierRestored")
            case 34..<38:
                let verdict = random.below(3) != 0
                healthy = verdict
                check(machine.healthChanged(healthy: verdict, at: now), "step \(step) healthChanged(\(verdict))")
            case 38, 39:
                check(machine.shutdown(at: now), "step \(step) shutdown")
            default:
                Issue.record("an event the walk does not know")
            }
        }
        // The walk is not vacuous: it went through the interesting transitions many times.
        for reason in [
            CARPStateMachine.TransitionReason.preferredMasterAdvertised, .stepDown, .carrierLost, .shutdown,
            .healthCheckFailed, .healthCheckPassed,
        ] {
            #expect(transitions[reason, default: 0] >= 5, "\(reason): \(transitions)")
        }
        let takeOvers = [CARPStateMachine.TransitionReason.masterSilent, .preemption, .masterWillTimeOut].map {
            transitions[$0, default: 0]
        }
        #expect(takeOvers.reduce(0, +) >= 5, "\(transitions)")
    }
}

extension CARPStateMachine.Action {
    var isSend: Bool {
        if case .sendAdvertisement = self { return true }
        return false
    }

    var leavesMaster: Bool {
        if case .changeState(from: .master, _, _, _) = self { return true }
        return false
    }
}
