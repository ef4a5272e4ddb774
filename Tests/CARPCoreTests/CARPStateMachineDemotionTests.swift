import Testing

@testable import CARPCore

/// The demotion counter (maintenance, a group): added to the skew as FreeBSD adds
/// `net.inet.carp.demotion`, clamped at 240, and a master whose skew got worse hands over.
@Suite struct CARPStateMachineDemotionTests {
    static func handingOver(advskew: UInt8 = 0, preempt: Bool = false) -> CARPStateMachine.Configuration {
        var settings = configuration(advskew: advskew, preempt: preempt)
        settings.handOverWait = .seconds(2)
        return settings
    }

    @Test(arguments: [
        (advskew: UInt8(0), demotion: UInt32(0), skew: UInt8(0)),
        (10, 0, 10),
        (0, 100, 100),
        (10, 240, 240),
        (100, 480, 240),
        (0, UInt32.max, 240),
        // Above the clamp already: never made better than --advskew.
        (250, 240, 250),
    ])
    func theCounterIsAddedToTheSkewAndClampedAt240(advskew: UInt8, demotion: UInt32, skew: UInt8) {
        var machine = backup(configuration(advskew: advskew))
        _ = machine.demotionChanged(to: demotion, at: t0)
        #expect(machine.demotedSkew == skew)
        #expect(machine.effectiveSkew == skew)
    }

    @Test func aDemotedMasterHandsOverAndKeepsTheAddressForTheNewMaster() throws {
        var (machine, since) = try master(Self.handingOver())
        let demoted = machine.demotionChanged(to: 240, at: since + .milliseconds(100))
        #expect(
            withoutLogs(demoted) == [
                .sendAdvertisement(advbase: 255, advskew: 255, counter: ownCounter(after: 1)),
                .changeState(from: .master, to: .backup, reason: .demoted, runScript: false),
            ])
        #expect(machine.addressRelease?.reason == .demoted)
        _ = machine.received(advert(advskew: 100), at: since + .milliseconds(105))
        #expect(
            withoutLogs(machine.received(advert(advskew: 100), at: since + .milliseconds(1200)))
                == [.releaseAddress(reason: .demoted)])
        #expect(machine.role == .backup)
    }

    @Test func aDemotedMasterWithNoOneToTakeOverTakesTheAddressBackAdvertisingWorse() throws {
        var (machine, since) = try master(Self.handingOver())
        _ = machine.demotionChanged(to: 240, at: since)
        // Its own master-down timer, slower by the demoted skew: 3 s + 240/256 s.
        let takeOver = try #require(machine.backupDeadline)
        #expect(takeOver == since + .seconds(3) + .microseconds(937_500))
        let actions = machine.deadlinePassed(at: takeOver)
        #expect(machine.role == .master)
        #expect(actions.contains(.sendAdvertisement(advbase: 1, advskew: 240, counter: ownCounter(after: 2))))
        // Still demoted, it stays master: the counter did not change again.
        #expect(withoutLogs(machine.demotionChanged(to: 240, at: takeOver + .seconds(1))) == [])
        #expect(machine.role == .master)
    }

    @Test func aRisingCounterAlreadyClampedDoesNotHandOverAgain() throws {
        var (machine, since) = try master(Self.handingOver(advskew: 240))
        #expect(withoutLogs(machine.demotionChanged(to: 240, at: since)) == [])
        #expect(machine.role == .master)
    }

    @Test func aDemotedBackupDoesNotPreemptAndPreemptsOnceTheCounterFalls() {
        var machine = backup(Self.handingOver(preempt: true))
        _ = machine.demotionChanged(to: 240, at: t0)
        // A master advertising with skew 100 is better than our 240.
        #expect(withoutLogs(machine.received(advert(advskew: 100), at: t0 + .seconds(1))).isEmpty)
        #expect(machine.role == .backup)
        // The counter falls: only the skew changes...
        let fell = machine.demotionChanged(to: 0, at: t0 + .seconds(2))
        #expect(withoutLogs(fell).isEmpty)
        #expect(machine.role == .backup)
        // ...and the next advertisement of the slower master is preempted.
        let preempted = machine.received(advert(advskew: 100), at: t0 + .seconds(3))
        #expect(preempted.contains(.changeState(from: .backup, to: .master, reason: .preemption, runScript: true)))
    }
}

extension CARPStateMachine {
    /// A backup's master-down deadline, if it runs.
    fileprivate var backupDeadline: MonotonicInstant? {
        if case .backup(let backup) = state { backup.masterDownAt } else { nil }
    }
}
