import CARPCore
import Testing
import UCarpConfiguration

@testable import CARPInstance

@Suite struct InstanceAddressWatchTests {
    let index = InstanceDriver.interfaceIndex
    let vip = IPv4Address(192, 0, 2, 100)
    let hostAddress = IPv4Address(192, 0, 2, 11)

    @Test func aFlushWhileMasterRunsTheUpScriptAgainAndAnnouncesTheAddressWithoutAChangeOfRole() throws {
        var driver = InstanceDriver()
        let now = driver.becomeMaster() + .milliseconds(200)
        let actions = driver.routes(
            [
                .addressRemoved(interfaceIndex: index, address: hostAddress),
                .addressRemoved(interfaceIndex: index, address: vip),
            ],
            at: now)
        #expect(
            actions.messages(at: .warning) == [
                "Virtual address 192.0.2.100 vanished from [eth0] while MASTER: running the up script and announcing it again (address-lost)",
                "Spawning [/etc/up eth0 192.0.2.100]",
            ])
        let up = try #require(actions.spawned.first?.1)
        #expect(up.path == "/etc/up")
        #expect(up.arguments == ["eth0", "192.0.2.100"])
        #expect(up.environment.contains(.init("CARP_REASON", "address-lost")))
        #expect(up.environment.contains(.init("CARP_STATE", "MASTER")))
        #expect(up.environment.contains(.init("CARP_PREVIOUS_STATE", "MASTER")))
        // The announcement waits for the up script that puts the address back.
        #expect(!actions.contains(.announceAddresses))
        let upID = try #require(actions.spawned.first?.0)
        #expect(driver.exited(upID, .exited(0), at: now + .milliseconds(5)).contains(.announceAddresses))
        // No change of role: no state file, no transition.
        #expect(actions.states.isEmpty)
        #expect(driver.instance.machine.role == .master)
        #expect(driver.instance.statistics.transitions == 2)
        #expect(driver.instance.statistics.addressRestores == 1)
    }

    @Test func onlyAMastersOwnVirtualAddressOnItsOwnInterfaceCounts() {
        var backup = InstanceDriver()
        _ = backup.start()
        // A backup's address goes with its down script: that is no loss.
        #expect(backup.routes([.addressRemoved(interfaceIndex: index, address: vip)], at: t0 + .seconds(1)) == [])
        var master = InstanceDriver()
        let now = master.becomeMaster()
        #expect(
            master.routes(
                [
                    .addressRemoved(interfaceIndex: index + 1, address: vip),
                    .addressRemoved(interfaceIndex: index, address: hostAddress),
                    .addressRemoved(interfaceIndex: index, address: IPv4Address(192, 0, 2, 101)),
                ], at: now) == [])
    }

    @Test func aLossWhileAScriptRunsWaitsForItAndIsForgottenIfTheAddressComesBack() throws {
        var driver = InstanceDriver()
        let now = driver.becomeMaster(keepScriptRunning: true)
        let up = try #require(driver.instance.scripts.running?.id)
        // Something removes the address while the up script runs: nothing yet.
        #expect(driver.routes([.addressRemoved(interfaceIndex: index, address: vip)], at: now) == [])
        // The up script adds it back before it ends: nothing to restore.
        _ = driver.routes([.addressAdded(interfaceIndex: index, address: vip)], at: now + .milliseconds(5))
        #expect(driver.exited(up, .exited(0), at: now + .milliseconds(10)).spawned.isEmpty)
        #expect(driver.instance.statistics.addressRestores == 0)
    }

    @Test func aLossWhileAScriptRunsIsRepairedOnceTheQueueIsEmpty() throws {
        var driver = InstanceDriver()
        let now = driver.becomeMaster(keepScriptRunning: true)
        let up = try #require(driver.instance.scripts.running?.id)
        _ = driver.routes([.addressRemoved(interfaceIndex: index, address: vip)], at: now)
        let ended = driver.exited(up, .exited(0), at: now + .milliseconds(10))
        #expect(ended.spawnedPaths == ["/etc/up"])
        #expect(ended.contains(.announceAddresses))
        #expect(driver.instance.statistics.addressRestores == 1)
    }

    @Test func aLossSeenInTheLastRoleIsForgotten() throws {
        var driver = InstanceDriver()
        let now = driver.becomeMaster(keepScriptRunning: true)
        let up = try #require(driver.instance.scripts.running?.id)
        _ = driver.routes([.addressRemoved(interfaceIndex: index, address: vip)], at: now)
        // A step-down queues the down script behind the up script; after both nothing is restored.
        _ = driver.signal(.user2, at: now + .milliseconds(5))
        let down = try #require(driver.exited(up, .exited(0), at: now + .milliseconds(10)).spawned.first?.0)
        let ended = driver.exited(down, .exited(0), at: now + .milliseconds(20))
        #expect(ended.spawned.isEmpty)
        #expect(!ended.contains(.announceAddresses))
        #expect(driver.instance.statistics.addressRestores == 0)
    }

    @Test func theLinkComingBackUpWhileMasterRestoresTooButItsFirstNewsDoesNot() throws {
        var driver = InstanceDriver(testSettings { $0.ignoreInterfaceState = true })
        let now = driver.becomeMaster()
        #expect(driver.routes([.link(interfaceIndex: index, running: true)], at: now) == [])
        #expect(driver.routes([.link(interfaceIndex: index + 1, running: false)], at: now) == [])
        #expect(driver.routes([.link(interfaceIndex: index + 1, running: true)], at: now) == [])
        #expect(driver.routes([.link(interfaceIndex: index, running: false)], at: now) == [])
        let back = driver.routes([.link(interfaceIndex: index, running: true)], at: now + .milliseconds(3))
        #expect(
            back.messages(at: .warning).first
                == "Interface [eth0] is up again while MASTER: running the up script and announcing 192.0.2.100 again (address-lost)"
        )
        #expect(back.spawnedPaths == ["/etc/up"])
        #expect(!back.contains(.announceAddresses))
        let upID = try #require(back.spawned.first?.0)
        #expect(driver.exited(upID, .exited(0), at: now + .milliseconds(8)).contains(.announceAddresses))
        #expect(driver.instance.machine.role == .master)
    }

    @Test func newsLostWhileMasterIsTakenForALossAndIgnoredOtherwise() throws {
        var backup = InstanceDriver()
        _ = backup.start()
        #expect(backup.instance.routeNewsLost(at: t0 + .seconds(1)) == [])
        var driver = InstanceDriver()
        let now = driver.becomeMaster()
        let actions = driver.carryOut(driver.instance.routeNewsLost(at: now), at: now)
        #expect(
            actions.messages(at: .warning).first
                == "News of [eth0]'s addresses was lost while MASTER: running the up script and announcing 192.0.2.100 again (address-lost)"
        )
        #expect(actions.spawnedPaths == ["/etc/up"])
        #expect(!actions.contains(.announceAddresses))
        let upID = try #require(actions.spawned.first?.0)
        #expect(driver.exited(upID, .exited(0), at: now + .milliseconds(5)).contains(.announceAddresses))
        #expect(driver.instance.statistics.addressRestores == 1)
    }

    @Test func withoutAnUpScriptTheAddressIsStillAnnounced() {
        var driver = InstanceDriver(testSettings { $0.upscript = nil })
        let now = driver.becomeMaster()
        let actions = driver.routes([.addressRemoved(interfaceIndex: index, address: vip)], at: now)
        #expect(actions.spawned.isEmpty)
        #expect(actions.contains(.announceAddresses))
        #expect(driver.instance.statistics.addressRestores == 1)
    }

    @Test func aRestoreIsWrittenToTheMetricsFileAtOnce() {
        var driver = InstanceDriver(testSettings { $0.metricsFile = "/run/ucarp.prom" })
        let now = driver.becomeMaster()
        _ = driver.takeWritten()
        _ = driver.routes([.addressRemoved(interfaceIndex: index, address: vip)], at: now)
        #expect(driver.takeWritten().map(\.statistics.addressRestores) == [1])
    }

    @Test func withoutTheWatchNothingHappens() {
        var driver = InstanceDriver()
        driver.instance.addressWatch = nil
        let now = driver.becomeMaster()
        #expect(driver.routes([.addressRemoved(interfaceIndex: index, address: vip)], at: now) == [])
    }

    @Test func whileLeavingNothingIsRestored() throws {
        var driver = InstanceDriver(testSettings { $0.shutdown = true })
        let now = driver.becomeMaster()
        _ = driver.signal(.terminate, at: now)
        #expect(driver.routes([.addressRemoved(interfaceIndex: index, address: vip)], at: now) == [])
    }
}
