import CARPCore
import Testing
import UCarpConfiguration

@testable import CARPInstance

/// Make before break in the daemon: the down script of a planned departure waits for the new
/// master, and a new master announces the address once its up script has put it there.
@Suite struct InstanceHandOverTests {
    static func handingOver(_ adjust: (inout Settings) -> Void = { _ in }) -> Settings {
        testSettings {
            $0.handOverWait = nil  // the default: two advertisement intervals, at least 1 s
            adjust(&$0)
        }
    }

    @Test func theDefaultWaitIsTwoAdvertisementIntervalsAndZeroTurnsItOff() {
        #expect(Instance.handOverWait(Self.handingOver()) == .seconds(2))
        #expect(Instance.handOverWait(Self.handingOver { $0.advbase = 0 }) == .seconds(1))
        #expect(Instance.handOverWait(Self.handingOver { $0.advbase = 5 }) == .seconds(10))
        #expect(Instance.handOverWait(Self.handingOver { $0.handOverWait = .milliseconds(300) }) == .milliseconds(300))
        #expect(Instance.handOverWait(testSettings()) == nil)
    }

    @Test func aSteppedDownMasterRunsItsDownScriptOnceTheNewMasterHasAdvertisedTwice() {
        var driver = InstanceDriver(Self.handingOver())
        let now = driver.becomeMaster()
        let leaving = driver.signal(.user2, at: now + .milliseconds(500))
        #expect(
            leaving.adverts == [.sendAdvertisement(advbase: 255, advskew: 255, counter: 1000 &+ CARPWire.counterStride)]
        )
        #expect(leaving.states == ["BACKUP"])
        #expect(leaving.spawnedPaths == [])
        #expect(driver.advert(advskew: 100, at: now + .milliseconds(505)).spawnedPaths == [])
        let released = driver.advert(advskew: 100, at: now + .milliseconds(1900))
        #expect(released.spawnedPaths == ["/etc/down"])
        let environment = released.spawned.first?.1.environment.prefix(3)
        #expect(
            environment.map(Array.init) == [
                .init("CARP_STATE", "BACKUP"), .init("CARP_PREVIOUS_STATE", "MASTER"),
                .init("CARP_REASON", "step-down"),
            ])
    }

    @Test func aShutdownWaitsForTheNewMasterThenRunsTheDownScriptAndTheStopAndExits() throws {
        var driver = InstanceDriver(
            Self.handingOver {
                $0.shutdown = true
                $0.notify = ["/etc/notify"]
            })
        let now = driver.becomeMaster()
        // The notify script's BACKUP and MASTER, and the up script, queued behind each other.
        driver.finishScripts(at: now + .milliseconds(20))
        let leaving = driver.signal(.terminate, at: now + .milliseconds(500))
        #expect(leaving.spawnedPaths == [])
        #expect(leaving.exits.isEmpty)
        #expect(driver.instance.nextDeadline == now + .milliseconds(2500))
        _ = driver.advert(advskew: 100, at: now + .milliseconds(510))
        let released = driver.advert(advskew: 100, at: now + .milliseconds(1900))
        #expect(released.spawnedPaths == ["/etc/down"])
        let down = try #require(released.spawned.first?.0)
        let stop = driver.exited(down, .exited(0), at: now + .milliseconds(1950))
        #expect(stop.spawnedPaths == ["/etc/notify"])
        #expect(stop.spawned.first?.1.arguments.suffix(2) == ["STOP", "255"])
        let notify = try #require(stop.spawned.first?.0)
        #expect(driver.exited(notify, .exited(0), at: now + .seconds(2)).exits == [.exit(.success)])
    }

    @Test func aShutdownWithNoNewMasterLetsGoAtTheBound() throws {
        var driver = InstanceDriver(Self.handingOver { $0.shutdown = true })
        let now = driver.becomeMaster()
        _ = driver.signal(.terminate, at: now)
        #expect(driver.time(now + .milliseconds(1999)).spawnedPaths == [])
        let released = driver.time(now + .seconds(2))
        #expect(released.spawnedPaths == ["/etc/down"])
        let down = try #require(released.spawned.first?.0)
        #expect(driver.exited(down, .exited(0), at: now + .seconds(2)).exits == [.exit(.success)])
    }

    @Test func aNewMasterAnnouncesTheAddressOnceItsUpScriptHasAddedIt() throws {
        var driver = InstanceDriver(Self.handingOver())
        for (id, _) in driver.start().spawned { _ = driver.exited(id, .exited(0), at: t0) }
        let takeOver = driver.run(until: t0 + .seconds(3))
        try #require(driver.instance.machine.role == .master)
        #expect(takeOver.spawnedPaths == ["/etc/up"])
        #expect(!takeOver.contains(.announceAddresses))
        #expect(takeOver.adverts.count == 1)
        let up = try #require(takeOver.spawned.first?.0)
        #expect(driver.exited(up, .exited(0), at: t0 + .seconds(3) + .milliseconds(8)).contains(.announceAddresses))
    }
}
