import CARPCore
import SystemPackage
import Testing
import UCarpConfiguration

@testable import CARPInstance

/// An interface deleted and created again (issue 27; ucarp issue #26): waited for as a lost
/// carrier, opened again by the shell every second, then the election as usual.
@Suite struct InstanceInterfaceTests {
    static let gone = LinkState.missing(.operationNotSupportedByDevice)

    @Test func aMasterWhoseInterfaceVanishesRunsItsDownScriptAndWaitsSilently() {
        var driver = InstanceDriver()
        let now = driver.becomeMaster()
        let lost = driver.link(Self.gone, at: now + .milliseconds(500))
        #expect(
            lost.messages(at: .warning) == [
                "Interface [eth0] is gone: waiting for it to come back",
                "Switching to state: BACKUP",
                "Spawning [/etc/down eth0 192.0.2.100]",
            ])
        #expect(lost.spawned.first?.1.environment.contains(.init("CARP_REASON", "carrier-lost")) == true)
        #expect(lost.exits.isEmpty)
        #expect(driver.instance.machine.role == .backup)
        #expect(driver.instance.awaitsInterface)
        driver.finishScripts(at: now + .milliseconds(500))
        // Looked for every second, said once, silent, never master, never leaving.
        #expect(driver.instance.nextDeadline == now + .milliseconds(1500))
        let waiting = driver.run(until: now + .seconds(20), link: .running)
        #expect(driver.reopenings == 19)
        #expect(waiting.messages(at: .warning).isEmpty)
        #expect(waiting.adverts.isEmpty)
        #expect(waiting.exits.isEmpty)
        #expect(driver.instance.machine.role == .backup)
        #expect(driver.instance.phase == .running)
    }

    @Test func theInterfaceBackRejoinsAsBackupWatchingItsNewIndex() {
        var driver = InstanceDriver()
        let now = driver.becomeMaster()
        _ = driver.link(Self.gone, at: now)
        driver.finishScripts(at: now)
        _ = driver.time(now + .seconds(1))
        driver.reopening = .reopened(index: 9, link: .running)
        let back = driver.time(now + .seconds(2))
        #expect(back.messages == ["Interface [eth0] is back: listening as BACKUP"])
        #expect(!driver.instance.awaitsInterface)
        #expect(driver.instance.addressWatch?.interfaceIndex == 9)
        // No more reopening; the carrier is read again, and a silent segment makes it master.
        let rejoined = driver.run(until: now + .seconds(6))
        #expect(driver.reopenings == 2)
        #expect(rejoined.messages(at: .warning).first == "Switching to state: MASTER")
    }

    @Test func aPeersAdvertsAfterTheReturnKeepItBackup() {
        var driver = InstanceDriver()
        let now = driver.becomeMaster()
        _ = driver.link(Self.gone, at: now)
        driver.finishScripts(at: now)
        driver.reopening = .reopened(index: 9, link: .running)
        _ = driver.time(now + .seconds(1))
        var actions: [Action] = []
        for second: UInt64 in 2...8 {
            actions += driver.advert(advskew: 100, at: now + .seconds(second))
            actions += driver.run(until: now + .seconds(second))
        }
        // Without --preempt the other host stays master, though less preferred.
        #expect(driver.instance.machine.role == .backup)
        #expect(actions.adverts.isEmpty)
    }

    @Test func aBackupWhoseInterfaceVanishesRunsNoScript() {
        var driver = InstanceDriver()
        _ = driver.start()
        driver.finishScripts(at: t0)
        let lost = driver.link(Self.gone, at: t0 + .milliseconds(100))
        #expect(lost.messages.first == "Interface [eth0] is gone: waiting for it to come back")
        #expect(lost.spawned.isEmpty)
        driver.reopening = .reopened(index: 2, link: .running)
        let back = driver.run(until: t0 + .milliseconds(1100))
        #expect(back.messages.contains("Interface [eth0] is back: listening as BACKUP"))
        #expect(driver.instance.machine.role == .backup)
    }

    @Test func reopenFailuresAreLoggedOncePerKindAndRetried() {
        var driver = InstanceDriver()
        _ = driver.start()
        driver.finishScripts(at: t0)
        _ = driver.link(Self.gone, at: t0)
        driver.reopening = .failed(.pcap(action: "open the interface", interface: "eth0", message: "down"))
        let first = driver.run(until: t0 + .seconds(5))
        #expect(
            first.messages == [
                "Interface [eth0] is back but cannot be used yet: Unable to open the interface on [eth0]: down: trying again every second"
            ])
        #expect(driver.reopenings == 5)
        let bind = DaemonError.system(
            call: "bind to --srcip 192.0.2.11", subject: "--peer socket", errno: .addressNotAvailable)
        driver.reopening = .failed(bind)
        #expect(driver.run(until: t0 + .seconds(8)).messages.count == 1)
        driver.reopening = .reopened(index: 3, link: .running)
        #expect(driver.run(until: t0 + .seconds(9)).messages == ["Interface [eth0] is back: listening as BACKUP"])
        // Gone again: the same failures are told again.
        _ = driver.link(Self.gone, at: t0 + .seconds(10))
        driver.reopening = .failed(bind)
        #expect(driver.run(until: t0 + .seconds(12)).messages.count == 1)
    }

    @Test func backWithoutCarrierWaitsForIt() {
        var driver = InstanceDriver()
        _ = driver.start()
        driver.finishScripts(at: t0)
        _ = driver.link(Self.gone, at: t0)
        driver.reopening = .reopened(index: 3, link: .noCarrier)
        let back = driver.time(t0 + .seconds(1))
        #expect(back.messages == ["Interface [eth0] is back, without carrier: staying BACKUP until it has one"])
        #expect(driver.instance.machine.carrierDown)
        #expect(driver.run(until: t0 + .seconds(10), link: .noCarrier).messages(at: .warning).isEmpty)
        #expect(driver.link(.running, at: t0 + .seconds(11)).messages == ["Interface [eth0] has its carrier back"])
        #expect(!driver.instance.machine.carrierDown)
    }

    @Test func withIgnoreIfStateAVanishedInterfaceIsStillWaitedFor() {
        var driver = InstanceDriver(testSettings { $0.ignoreInterfaceState = true })
        let now = driver.becomeMaster()
        let lost = driver.link(Self.gone, at: now)
        #expect(lost.messages(at: .warning).first == "Interface [eth0] is gone: waiting for it to come back")
        #expect(driver.instance.machine.role == .backup)
        driver.finishScripts(at: now)
        // The carrier does not count with -S: back is back.
        driver.reopening = .reopened(index: 3, link: .noCarrier)
        #expect(driver.time(now + .seconds(1)).messages == ["Interface [eth0] is back: listening as BACKUP"])
        #expect(!driver.instance.machine.carrierDown)
    }

    @Test func leavingIgnoresTheInterface() {
        var driver = InstanceDriver(testSettings { $0.shutdown = true })
        let now = driver.becomeMaster()
        _ = driver.signal(.terminate, at: now)
        #expect(driver.link(Self.gone, at: now).isEmpty)
        #expect(!driver.instance.awaitsInterface)
    }
}
