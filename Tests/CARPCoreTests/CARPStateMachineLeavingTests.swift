import Testing

@testable import CARPCore

/// The hand-over race (issue 27, the fault campaign's finding 2): a backup that hears the
/// leaving advertisement takes over after its own skew, so that of several backups only the
/// preferred one becomes master.
@Suite struct CARPStateMachineLeavingTests {
    static let h1 = IPv4Address(192, 0, 2, 11)
    static let h2 = IPv4Address(192, 0, 2, 12)
    static let h3 = IPv4Address(192, 0, 2, 13)

    /// The advertisement among `actions`, as the other hosts receive it from `source`.
    static func sent(_ actions: [Action], by source: IPv4Address) -> ReceivedAdvertisement? {
        for action in actions {
            if case .sendAdvertisement(let advbase, let advskew, let counter) = action {
                return ReceivedAdvertisement(source: source, advbase: advbase, advskew: advskew, counter: counter)
            }
        }
        return nil
    }

    static func leaving(counter: UInt64 = 7_000) -> ReceivedAdvertisement {
        ReceivedAdvertisement(
            source: h1, advbase: CARPStateMachine.leavingAdvbase, advskew: CARPStateMachine.leavingAdvskew,
            counter: counter)
    }

    /// h1 master (advskew 0), h2 and h3 backups (advskew 50 and 100), all with advbase 1 and
    /// listening to h1; h1 steps down at the instant returned.
    static func threeHosts() throws -> (
        h1: CARPStateMachine, h2: CARPStateMachine, h3: CARPStateMachine, leaving: ReceivedAdvertisement,
        at: MonotonicInstant
    ) {
        var (first, since) = try master(configuration(advskew: 0, source: h1))
        var second = backup(configuration(advskew: 50, source: h2))
        var third = backup(configuration(advskew: 100, source: h3))
        let heard = try #require(sent(first.advertiseAsMaster(at: since), by: h1))
        _ = second.received(heard, at: since)
        _ = third.received(heard, at: since)
        let now = since + .milliseconds(500)
        let leaving = try #require(sent(first.stepDown(at: now), by: h1))
        try #require(leaving.isLeaving)
        return (first, second, third, leaving, now)
    }

    @Test func ofTwoBackupsOnlyThePreferredOneTakesOverFromALeavingMaster() throws {
        var (h1, h2, h3, leaving, now) = try Self.threeHosts()
        // Both hear the leaving advertisement at once; neither takes over yet.
        #expect(withoutLogs(h2.received(leaving, at: now)).isEmpty)
        #expect(withoutLogs(h3.received(leaving, at: now)).isEmpty)
        #expect(h2.role == .backup && h3.role == .backup)
        // h2 after 50/256 s, h3 would after 100/256 s.
        let h2TakesOver = try #require(h2.nextDeadline)
        #expect(h2TakesOver == now + .microseconds(195_312))
        #expect(try #require(h3.nextDeadline) == now + .microseconds(390_625))
        expectDeadlineIsExact(h2)
        expectDeadlineIsExact(h3)
        let taken = h2.deadlinePassed(at: h2TakesOver)
        #expect(
            withoutLogs(taken).first
                == .changeState(from: .backup, to: .master, reason: .masterWillTimeOut, runScript: true))
        #expect(h2.role == .master)
        // Its first advertisement, sent as it takes over, reaches h3 within h3's delay.
        let first = try #require(Self.sent(taken, by: Self.h2))
        let arrives = h2TakesOver + .milliseconds(2)
        #expect(withoutLogs(h3.received(first, at: arrives)).isEmpty)
        _ = h1.received(first, at: arrives)
        // h3 now times h2 as its master, and stays BACKUP past its own delay.
        #expect(h3.nextDeadline == arrives + .seconds(3) + .microseconds(390_625))
        #expect(h3.deadlinePassed(at: now + .microseconds(390_625)).isEmpty)
        #expect(h3.role == .backup)
        #expect(h1.role == .backup)
    }

    @Test func theLessPreferredBackupTakesOverWhenThePreferredOneStaysSilent() throws {
        var (_, _, h3, leaving, now) = try Self.threeHosts()
        _ = h3.received(leaving, at: now)
        // h2 is gone (killed, partitioned): no advertisement comes within h3's delay.
        let deadline = try #require(h3.nextDeadline)
        #expect(deadline == now + .microseconds(390_625))
        let actions = h3.deadlinePassed(at: deadline)
        #expect(
            withoutLogs(actions) == [
                .changeState(from: .backup, to: .master, reason: .masterWillTimeOut, runScript: true),
                .announceAddresses,
                .sendAdvertisement(advbase: 1, advskew: 100, counter: 1000),
            ])
        #expect(logs(actions, .warning) == ["Putting MASTER DOWN (going to time out)"])
        #expect(h3.role == .master)
    }

    @Test func aBackupWithSkewZeroStillTakesOverAtOnce() {
        var preferred = backup(configuration(advskew: 0, source: Self.h2))
        let actions = preferred.received(Self.leaving(), at: t0 + .seconds(1))
        #expect(
            withoutLogs(actions).first
                == .changeState(from: .backup, to: .master, reason: .masterWillTimeOut, runScript: true))
    }

    @Test func theDelayScalesWithAdvbase() throws {
        var slow = backup(configuration(advbase: 3, advskew: 128, source: Self.h3))
        let now = t0 + .seconds(1)
        _ = slow.received(Self.leaving(), at: now)
        #expect(slow.role == .backup)
        #expect(try #require(slow.nextDeadline) == now + .milliseconds(1500))
    }

    @Test func aLaterLeavingAdvertisementDoesNotPutTheTakeOverOff() throws {
        var machine = backup(configuration(advskew: 100, source: Self.h3))
        let now = t0 + .seconds(1)
        _ = machine.received(Self.leaving(counter: 7_000), at: now)
        _ = machine.received(Self.leaving(counter: 8_000), at: now + .milliseconds(300))
        #expect(try #require(machine.nextDeadline) == now + .microseconds(390_625))
    }

    @Test func preemptDoesNotMakeALessPreferredBackupTakeOverAtOnce() throws {
        let (_, _, _, leaving, now) = try Self.threeHosts()
        var preempting = backup(configuration(advskew: 100, preempt: true, source: Self.h3))
        _ = preempting.received(advert(from: Self.h1, advskew: 0), at: now - .milliseconds(100))
        #expect(withoutLogs(preempting.received(leaving, at: now)).isEmpty)
        #expect(preempting.role == .backup)
        #expect(preempting.nextDeadline == now + .microseconds(390_625))
        // The preferred backup's advertisement is no less preferred: no preemption either.
        _ = preempting.received(advert(from: Self.h2, advskew: 50), at: now + .milliseconds(200))
        #expect(preempting.role == .backup)
    }

    @Test func aBackupInItsStepDownHoldDoesNotTakeOverFromALeavingMaster() throws {
        var (machine, since) = try master(configuration(advskew: 0, source: Self.h2))
        _ = machine.stepDown(at: since)
        #expect(withoutLogs(machine.received(Self.leaving(), at: since + .seconds(1))).isEmpty)
        #expect(machine.role == .backup)
        #expect(try #require(machine.nextDeadline) > since + .seconds(3))
    }
}

extension CARPStateMachineLeavingTests {
    /// Under the etcd guard the address and the key are gone before the leaving advertisement:
    /// a wait would only be time without a holder, and the key admits one racer.
    @Test func withoutAStaggeredTakeOverEveryBackupTakesOverAtOnce() {
        var settings = configuration(advskew: 100, source: Self.h3)
        settings.staggeredTakeOver = false
        var machine = backup(settings)
        let actions = machine.received(Self.leaving(), at: t0 + .seconds(1))
        #expect(
            withoutLogs(actions).first
                == .changeState(from: .backup, to: .master, reason: .masterWillTimeOut, runScript: true))
    }
}
