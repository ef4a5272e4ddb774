import CARPCore
import Logging
import Testing

@testable import CARPInstance

/// What an idle instance asks of the shell at each wake-up: no reading of the carrier of its
/// own when the shell hears the link's news, and a record rebuilt only when what it shows
/// changed.
struct InstanceIdleWorkTests {
    @Test func withTheLinksNewsNoWakeUpIsDueForTheCarrier() {
        var driver = InstanceDriver()
        driver.instance.carrierNewsWatched()
        _ = driver.start()
        driver.finishScripts(at: t0)
        // A backup with no master: its next wake-up is the election's, not the carrier's 1.05 s.
        let deadline = driver.instance.wakeUpDeadline
        #expect(deadline != nil)
        #expect(deadline == driver.instance.machine.nextDeadline)
        #expect(deadline != t0 + .milliseconds(1050))
        _ = driver.link(.running, at: t0 + .milliseconds(500))
        #expect(driver.instance.wakeUpDeadline == deadline)
    }

    @Test func withoutTheLinksNewsTheCarrierIsStillDueEverySecond() {
        var driver = InstanceDriver()
        _ = driver.start()
        driver.finishScripts(at: t0)
        #expect(driver.instance.wakeUpDeadline == t0 + .milliseconds(1050))
    }

    @Test func aCarrierReadOnNewsStillDemotesAndRestores() {
        var driver = InstanceDriver()
        driver.instance.carrierNewsWatched()
        let since = driver.becomeMaster()
        let lost = driver.link(.noCarrier, at: since + .milliseconds(10))
        #expect(driver.instance.machine.carrierDown)
        #expect(driver.instance.machine.role == .backup)
        #expect(lost.messages(at: .warning).contains { $0.contains("has no carrier") })
        _ = driver.link(.running, at: since + .milliseconds(20))
        #expect(!driver.instance.machine.carrierDown)
    }

    @Test func theRecordsSourceChangesWhenTheRecordDoes() {
        var driver = InstanceDriver()
        _ = driver.start()
        driver.finishScripts(at: t0)
        let idle = driver.instance.hostRecordSource
        let idleRecord = driver.instance.hostRecord(pid: 7, since: 0)
        // Time passing and the carrier read change nothing the record shows.
        _ = driver.link(.running, at: t0 + .milliseconds(500))
        _ = driver.time(t0 + .milliseconds(500))
        #expect(driver.instance.hostRecordSource == idle)
        #expect(driver.instance.hostRecord(pid: 7, since: 0) == idleRecord)
        // A peer heard: the record names it, and the source differs.
        _ = driver.advert(advskew: 0, at: t0 + .milliseconds(600))
        #expect(driver.instance.hostRecord(pid: 7, since: 0) != idleRecord)
        #expect(driver.instance.hostRecordSource != idle)
        // Maintenance: a cause of our own.
        let heard = driver.instance.hostRecordSource
        _ = driver.carryOut(
            driver.instance.hostStateRead(maintenance: true, members: nil, at: t0 + .milliseconds(700)),
            at: t0 + .milliseconds(700))
        #expect(driver.instance.hostRecordSource != heard)
        #expect(driver.instance.hostRecord(pid: 7, since: 0).causes == [.maintenance])
    }

    @Test func becomingMasterChangesTheRecordsSource() {
        var driver = InstanceDriver()
        _ = driver.start()
        driver.finishScripts(at: t0)
        let backup = driver.instance.hostRecordSource
        // No master heard: the master-down timer makes it master.
        _ = driver.run(until: t0 + .seconds(5))
        #expect(driver.instance.machine.role == .master)
        #expect(driver.instance.hostRecordSource != backup)
        #expect(driver.instance.hostRecord(pid: 7, since: 0).state == .master)
    }
}
