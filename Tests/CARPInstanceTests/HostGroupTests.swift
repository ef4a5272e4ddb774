import CARPCore
import Testing
import UCarpConfiguration

@testable import CARPInstance

/// The demotion arithmetic: 240 per cause (FreeBSD's demotion factors), summed over the live
/// members of the group; a group of one counts maintenance only.
@Suite struct HostGroupTests {
    @Test func eachCauseAdds240AndTheCounterSumsTheLiveMembers() {
        var group = HostGroup(name: "router")
        #expect(group.counter == 0)
        let changed1 = group.ownCausesAre([.carrierLost])
        #expect(changed1)
        #expect(group.ownDemotion == 240)
        #expect(group.counter == 240)
        let read = group.membersAre([
            .init(name: "eth1.vhid2", demotion: 480, alive: true),
            .init(name: "eth2.vhid3", demotion: 240, alive: false),
        ])
        #expect(read)
        #expect(group.counter == 720)
        #expect(group.demotingMembers == ["eth1.vhid2"])
        // The same causes again: nothing changed.
        let changed2 = group.ownCausesAre([.carrierLost])
        #expect(!changed2)
    }

    @Test func aMemberThatDiedStopsCounting() {
        var group = HostGroup(name: "router")
        _ = group.membersAre([.init(name: "eth1.vhid2", demotion: 240, alive: true)])
        #expect(group.counter == 240)
        let changed3 = group.membersAre([.init(name: "eth1.vhid2", demotion: 240, alive: false)])
        #expect(changed3)
        #expect(group.counter == 0)
    }

    @Test func aGroupOfOneCountsMaintenanceOnly() {
        var alone = HostGroup(name: nil)
        let changed4 = alone.ownCausesAre([.carrierLost, .checkFailed])
        #expect(!changed4)
        #expect(alone.counter == 0)
        #expect(alone.ownDemotion == 480)
        let changed5 = alone.ownCausesAre([.carrierLost, .maintenance])
        #expect(changed5)
        #expect(alone.counter == 240)
    }

    @Test func theCounterSaturatesInsteadOfOverflowing() {
        var group = HostGroup(name: "g")
        _ = group.membersAre([
            .init(name: "a", demotion: .max, alive: true), .init(name: "b", demotion: 240, alive: true),
        ])
        #expect(group.counter == .max)
    }
}

/// What the instance does with the host-state directory's news.
@Suite struct InstanceGroupTests {
    static func grouped(_ adjust: (inout Settings) -> Void = { _ in }) -> Settings {
        testSettings { settings in
            settings.hostGroup = "router"
            settings.handOverWait = .seconds(2)
            settings.preempt = true
            adjust(&settings)
        }
    }

    @Test func aDemotingMemberMakesTheMasterHandOver() {
        var driver = InstanceDriver(Self.grouped())
        let since = driver.becomeMaster()
        let now = since + .milliseconds(300)
        let actions = driver.carryOut(
            driver.instance.hostStateRead(
                maintenance: false, members: [.init(name: "eth1.vhid2", demotion: 240, alive: true)], at: now),
            at: now)
        #expect(
            actions.contains(
                .sendAdvertisement(advbase: 255, advskew: 255, counter: driver.instance.machine.counter ?? 0)))
        #expect(driver.instance.machine.role == .backup)
        #expect(driver.instance.machine.addressRelease?.reason == .demoted)
        #expect(actions.messages(at: .warning).contains { $0.contains("Demoted (member eth1.vhid2)") })
        #expect(driver.instance.hostRecord(pid: 7, since: 0).counter == 240)
        // Our own record publishes none of it: only our own causes.
        #expect(driver.instance.hostRecord(pid: 7, since: 0).causes == [])
    }

    @Test func maintenanceDemotesAnInstanceWithoutAGroup() {
        var driver = InstanceDriver(testSettings { $0.handOverWait = .seconds(2) })
        let since = driver.becomeMaster()
        _ = driver.carryOut(driver.instance.hostStateRead(maintenance: true, members: nil, at: since), at: since)
        #expect(driver.instance.machine.role == .backup)
        #expect(driver.instance.machine.effectiveSkew == 240)
        #expect(driver.instance.hostRecord(pid: 7, since: 0).causes == [.maintenance])
        let status = driver.signal(.user1, at: since + .seconds(1))
        #expect(status.contains(.log(.info, "Demoted: maintenance (counter 240, advskew 240)")))
        // Off again: the skew comes back.
        _ = driver.carryOut(
            driver.instance.hostStateRead(maintenance: false, members: nil, at: since + .seconds(2)),
            at: since + .seconds(2))
        #expect(driver.instance.machine.effectiveSkew == 0)
    }

    @Test func ourOwnCausesArePublishedForTheGroup() {
        var driver = InstanceDriver(Self.grouped())
        _ = driver.start()
        _ = driver.link(.noCarrier, at: t0 + .seconds(1))
        _ = driver.instance.hostStateRead(maintenance: false, members: [], at: t0 + .seconds(1))
        let record = driver.instance.hostRecord(pid: 42, since: 1_700_000_000)
        #expect(record.causes == [.carrierLost])
        #expect(record.group == "router")
        #expect(record.demotion == 240)
        #expect(record.state == .backup)
    }

    @Test func aStepDownDemotesTheGroupForItsHoldOnly() {
        var driver = InstanceDriver(Self.grouped())
        let since = driver.becomeMaster()
        _ = driver.signal(.user2, at: since)
        _ = driver.instance.hostStateRead(maintenance: false, members: [], at: since + .seconds(1))
        #expect(driver.instance.group.ownCauses == [.stepDown])
        _ = driver.instance.hostStateRead(maintenance: false, members: nil, at: since + .seconds(4))
        #expect(driver.instance.group.ownCauses == [])
    }
}
