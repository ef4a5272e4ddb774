import Testing

@testable import CARPCore

/// Make before break: a master leaving on purpose keeps the address until the new master has
/// announced it (its second advertisement), or for `handOverWait` at most.
@Suite struct CARPStateMachineHandOverTests {
    static func handingOver(wait: MonotonicDuration = .seconds(2)) -> CARPStateMachine.Configuration {
        var settings = configuration()
        settings.handOverWait = wait
        return settings
    }

    @Test func aStepDownKeepsTheAddressUntilTheNewMastersSecondAdvertisement() throws {
        var (machine, since) = try master(Self.handingOver())
        let leaving = machine.stepDown(at: since + .milliseconds(100))
        #expect(
            withoutLogs(leaving) == [
                .sendAdvertisement(advbase: 255, advskew: 255, counter: ownCounter(after: 1)),
                .changeState(from: .master, to: .backup, reason: .stepDown, runScript: false),
            ])
        #expect(machine.addressRelease?.deadline == since + .milliseconds(2100))
        // Its first advertisement, sent as it takes over: the address stays.
        #expect(withoutLogs(machine.received(advert(advskew: 100), at: since + .milliseconds(105))) == [])
        #expect(machine.addressRelease?.advertisementsHeard == 1)
        // The second: its up script has run and its gratuitous ARP has gone out.
        #expect(
            withoutLogs(machine.received(advert(advskew: 100), at: since + .milliseconds(1500)))
                == [.releaseAddress(reason: .stepDown)])
        #expect(machine.addressRelease == nil)
        #expect(machine.role == .backup)
    }

    @Test func anotherLeavingAdvertisementIsNoNewMaster() throws {
        var (machine, since) = try master(Self.handingOver())
        _ = machine.stepDown(at: since)
        for step in 1...3 {
            _ = machine.received(
                advert(advbase: 255, advskew: 255), at: since + .milliseconds(UInt64(step) * 10))
        }
        #expect(machine.addressRelease?.advertisementsHeard == 0)
    }

    @Test func withoutANewMasterTheAddressGoesAtTheDeadline() throws {
        var (machine, since) = try master(Self.handingOver(wait: .seconds(2)))
        _ = machine.shutdown(at: since)
        // After a shutdown the BACKUP times nothing: the release is the only deadline.
        #expect(machine.nextDeadline == since + .seconds(2))
        expectDeadlineIsExact(machine)
        #expect(withoutLogs(machine.deadlinePassed(at: since + .seconds(2))) == [.releaseAddress(reason: .shutdown)])
        #expect(machine.nextDeadline == nil)
    }

    @Test func aFailedHealthCheckHandsOverToo() throws {
        var settings = Self.handingOver()
        settings.healthChecked = true
        var machine = CARPStateMachine(configuration: settings)
        _ = machine.start(at: t0)
        _ = machine.healthChanged(healthy: true, at: t0)
        _ = machine.deadlinePassed(at: try #require(machine.nextDeadline))
        try #require(machine.role == .master)
        let failed = machine.healthChanged(healthy: false, at: t0 + .seconds(5))
        #expect(failed.contains(.changeState(from: .master, to: .fault, reason: .healthCheckFailed, runScript: false)))
        #expect(machine.addressRelease?.reason == .healthCheckFailed)
        // A FAULT instance still hears the new master.
        _ = machine.received(advert(advskew: 100), at: t0 + .seconds(5) + .milliseconds(5))
        #expect(
            machine.received(advert(advskew: 100), at: t0 + .seconds(6)) == [
                .releaseAddress(reason: .healthCheckFailed)
            ])
    }

    @Test func aMasterComingBackBeforeItLetGoRunsNoUpScript() throws {
        var settings = Self.handingOver(wait: .seconds(30))
        settings.healthChecked = true
        var machine = CARPStateMachine(configuration: settings)
        _ = machine.start(at: t0)
        _ = machine.healthChanged(healthy: true, at: t0)
        _ = machine.deadlinePassed(at: try #require(machine.nextDeadline))
        _ = machine.healthChanged(healthy: false, at: t0 + .seconds(4))
        _ = machine.healthChanged(healthy: true, at: t0 + .seconds(5))
        // Nobody took over: the master-down timer runs out before the hand-over's bound.
        let deadline = try #require(machine.nextDeadline)
        #expect(deadline == t0 + .seconds(8))
        let back = machine.deadlinePassed(at: deadline)
        #expect(back.contains(.changeState(from: .backup, to: .master, reason: .masterSilent, runScript: false)))
        #expect(machine.addressRelease == nil)
        // Leaving again owes the down script once more.
        _ = machine.stepDown(at: deadline + .seconds(1))
        #expect(machine.addressRelease?.reason == .stepDown)
    }

    @Test func aLostCarrierLetsTheAddressGoAtOnce() throws {
        var (machine, since) = try master(Self.handingOver())
        _ = machine.stepDown(at: since)
        #expect(machine.carrierLost(at: since + .milliseconds(10)) == [.releaseAddress(reason: .stepDown)])
    }

    @Test func aPreferredMasterOrACarrierLossFromMasterLetsGoAtOnceAsBefore() throws {
        var (machine, since) = try master(Self.handingOver())
        let yielded = machine.received(advert(from: IPv4Address(192, 0, 2, 1), advskew: 0), at: since)
        #expect(
            yielded.contains(
                .changeState(from: .master, to: .backup, reason: .preferredMasterAdvertised, runScript: true)))
        #expect(machine.addressRelease == nil)
        var (other, at) = try master(Self.handingOver())
        #expect(
            other.carrierLost(at: at) == [
                .changeState(from: .master, to: .backup, reason: .carrierLost, runScript: true)
            ])
        #expect(other.addressRelease == nil)
    }
}
