import Testing

@testable import CARPCore

struct HealthMonitorTests {
    @Test func theFirstResultDecidesAtOnce() {
        var healthy = HealthMonitor(fall: 2, rise: 3)
        #expect(healthy.record(passed: true) == true)
        var unhealthy = HealthMonitor(fall: 2, rise: 3)
        #expect(unhealthy.record(passed: false) == false)
    }

    @Test func fallConsecutiveFailuresMakeItUnhealthy() {
        var monitor = HealthMonitor(fall: 2, rise: 3)
        _ = monitor.record(passed: true)
        #expect(monitor.record(passed: false) == nil)
        #expect(monitor.record(passed: true) == nil)  // the streak is broken
        #expect(monitor.record(passed: false) == nil)
        #expect(monitor.record(passed: false) == false)
        #expect(monitor.healthy == false)
    }

    @Test func riseConsecutivePassesMakeItHealthyAgain() {
        var monitor = HealthMonitor(fall: 1, rise: 3)
        _ = monitor.record(passed: false)
        #expect(monitor.record(passed: true) == nil)
        #expect(monitor.record(passed: true) == nil)
        #expect(monitor.record(passed: true) == true)
        #expect(monitor.record(passed: false) == false)  // fall 1
    }
}

struct CARPStateMachineHealthTests {
    func checked(preempt: Bool = false) -> CARPStateMachine.Configuration {
        var configuration = configuration(preempt: preempt)
        configuration.healthChecked = true
        return configuration
    }

    @Test func noTakeoverBeforeTheFirstResult() {
        var machine = backup(checked())
        #expect(machine.role == .backup)
        #expect(machine.nextDeadline == nil)
        #expect(machine.received(advert(advbase: 255, advskew: 255), at: t0 + .seconds(1)).isEmpty)
        #expect(machine.role == .backup)
        #expect(machine.healthChanged(healthy: true, at: t0 + .seconds(2)).isEmpty)
        #expect(machine.nextDeadline == t0 + .seconds(5))
    }

    @Test func anUnhealthyMasterLeavesAtOnceAndRunsItsDownScript() throws {
        var machine = backup(checked())
        _ = machine.healthChanged(healthy: true, at: t0)
        let deadline = try #require(machine.nextDeadline)
        _ = machine.deadlinePassed(at: deadline)
        try #require(machine.role == .master)
        let actions = machine.healthChanged(healthy: false, at: deadline + .seconds(1))
        #expect(
            withoutLogs(actions) == [
                .sendAdvertisement(advbase: 255, advskew: 255, counter: ownCounter(after: 1)),
                .changeState(from: .master, to: .fault, reason: .healthCheckFailed, runScript: true),
            ])
        #expect(machine.role == .fault)
        #expect(machine.nextDeadline == nil)
    }

    @Test func faultNeverBecomesMasterAndRecoversAsBackup() {
        var machine = backup(checked(preempt: true))
        #expect(
            machine.healthChanged(healthy: false, at: t0) == [
                .changeState(from: .backup, to: .fault, reason: .healthCheckFailed, runScript: false)
            ])
        // Neither silence nor a leaving or slower master makes a FAULT instance master.
        #expect(machine.deadlinePassed(at: t0 + .seconds(60)).isEmpty)
        #expect(machine.received(advert(advbase: 255, advskew: 255), at: t0 + .seconds(61)).isEmpty)
        #expect(machine.received(advert(advbase: 2), at: t0 + .seconds(62)).isEmpty)
        #expect(machine.role == .fault)
        #expect(machine.shutdown(at: t0 + .seconds(63)).isEmpty)  // not master: no down script
        var recovering = backup(checked(preempt: true))
        _ = recovering.healthChanged(healthy: false, at: t0)
        #expect(
            recovering.healthChanged(healthy: true, at: t0 + .seconds(10)) == [
                .changeState(from: .fault, to: .backup, reason: .healthCheckPassed, runScript: false)
            ])
        #expect(recovering.nextDeadline == t0 + .seconds(13))
        // With --preempt, a slower master is taken over again.
        let actions = recovering.received(advert(advbase: 2), at: t0 + .seconds(11))
        #expect(recovering.role == .master)
        #expect(actions.contains(.changeState(from: .backup, to: .master, reason: .preemption, runScript: true)))
    }
}
