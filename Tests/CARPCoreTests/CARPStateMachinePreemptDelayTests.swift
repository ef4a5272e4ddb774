import CARPCore
import Testing

/// `--preempt-delay`: a preferred master that has just started does not take the address from
/// a less preferred one until the delay has run out, but never leaves it unheld.
@Suite struct CARPStateMachinePreemptDelayTests {
    static func delayed(_ seconds: UInt64) -> CARPStateMachine.Configuration {
        var preferred = configuration(advskew: 0, preempt: true)
        preferred.preemptDelay = .seconds(seconds)
        return preferred
    }

    @Test func aPreferredBackupDoesNotPreemptDuringTheDelayAndDoesAfterIt() {
        var machine = backup(Self.delayed(30))
        #expect(machine.preemptsFrom == t0 + .seconds(30))
        for second in [1, 10, 29] as [UInt64] {
            let actions = machine.received(advert(advskew: 100), at: t0 + .seconds(second))
            #expect(withoutLogs(actions).isEmpty, "preempted \(second) s after the start")
            #expect(machine.role == .backup)
        }
        let actions = machine.received(advert(advskew: 100), at: t0 + .seconds(30))
        #expect(
            withoutLogs(actions).first == .changeState(from: .backup, to: .master, reason: .preemption, runScript: true)
        )
        #expect(machine.role == .master)
    }

    @Test func hearingTheMasterDuringTheDelayKeepsTheBackupListening() throws {
        var machine = backup(Self.delayed(30))
        _ = machine.received(advert(advskew: 100), at: t0 + .seconds(5))
        // The master-down timer runs from the advert heard: no take-over while the master speaks.
        let deadline = try #require(machine.nextDeadline)
        #expect(deadline > t0 + .seconds(5))
        #expect(withoutLogs(machine.deadlinePassed(at: t0 + .seconds(5) + .milliseconds(500))).isEmpty)
    }

    @Test func aSilentMasterIsStillReplacedDuringTheDelay() throws {
        var machine = backup(Self.delayed(300))
        _ = machine.received(advert(advskew: 100), at: t0 + .seconds(1))
        // The master falls silent: the master-down timer makes us master within the delay.
        let deadline = try #require(machine.nextDeadline)
        #expect(deadline < t0 + .seconds(10))
        let actions = machine.deadlinePassed(at: deadline)
        #expect(
            withoutLogs(actions).first
                == .changeState(from: .backup, to: .master, reason: .masterSilent, runScript: true))
    }

    @Test func aLeavingMasterIsStillReplacedAtOnceDuringTheDelay() {
        var machine = backup(Self.delayed(300))
        let leaving = advert(
            advbase: CARPStateMachine.leavingAdvbase, advskew: CARPStateMachine.leavingAdvskew)
        let actions = machine.received(leaving, at: t0 + .seconds(2))
        #expect(
            withoutLogs(actions).first
                == .changeState(from: .backup, to: .master, reason: .masterWillTimeOut, runScript: true))
    }

    @Test func withoutADelayPreemptionIsAtOnceAsBefore() {
        var machine = backup(configuration(advskew: 0, preempt: true))
        #expect(machine.preemptsFrom == nil)
        _ = machine.received(advert(advskew: 100), at: t0 + .milliseconds(1))
        #expect(machine.role == .master)
    }
}
