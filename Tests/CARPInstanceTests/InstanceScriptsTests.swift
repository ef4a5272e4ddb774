import CARPCore
import SystemPackage
import Testing
import UCarpConfiguration

@testable import CARPInstance

@Suite struct InstanceScriptsTests {
    @Test func scriptsRunOneAtATimeInTheOrderOfTheTransitions() throws {
        var driver = InstanceDriver()
        // The down script of the start is still running when the up script is due.
        let start = driver.start()
        let down = try #require(start.spawned.first?.0)
        let master = driver.run(until: t0 + .seconds(3))
        // The up script supersedes it: it is asked to stop (and has 2 s to).
        #expect(
            master.messages(at: .warning) == [
                "Switching to state: MASTER",
                "Master now: stopping [/etc/down eth0 192.0.2.100] (SIGTERM, SIGKILL after 2s) so that the up "
                    + "script runs",
            ])
        #expect(master.terminated == [down])
        #expect(master.spawned.isEmpty)
        // A carrier loss queues another down script behind it.
        let lost = driver.link(.noCarrier, at: t0 + .milliseconds(3500))
        #expect(lost.spawned.isEmpty)
        let next = driver.exited(down, .exited(0), at: t0 + .seconds(4))
        #expect(next.spawnedPaths == ["/etc/up"])
        #expect(next.spawned.first?.1.environment.first == .init("CARP_STATE", "MASTER"))
        let up = try #require(next.spawned.first?.0)
        let last = driver.exited(up, .exited(0), at: t0 + .seconds(5))
        #expect(last.spawnedPaths == ["/etc/down"])
        #expect(
            last.spawned.first?.1.environment.prefix(3) == [
                .init("CARP_STATE", "BACKUP"), .init("CARP_PREVIOUS_STATE", "MASTER"),
                .init("CARP_REASON", "carrier-lost"),
            ])
        let third = try #require(last.spawned.first?.0)
        #expect(Set([down, up, third]).count == 3)
        #expect(driver.exited(third, .exited(0), at: t0 + .seconds(6)).spawned.isEmpty)
        #expect(driver.instance.scripts.running == nil)
    }

    @Test func aScriptPastItsTimeoutIsKilledAndTheQueueGoesOn() throws {
        var driver = InstanceDriver(testSettings { $0.scriptTimeout = .seconds(1) })
        let down = try #require(driver.start().spawned.first?.0)
        #expect(driver.instance.nextDeadline == t0 + .seconds(1))
        let actions = driver.run(until: t0 + .seconds(3))
        #expect(
            actions.messages(at: .error) == [
                "Script [/etc/down eth0 192.0.2.100] still running after 1.0s: killing its process group"
            ])
        #expect(actions.killed == [down])
        // The up script waits until the killed one is collected.
        #expect(actions.spawned.isEmpty)
        let next = driver.exited(down, .killed(signal: 9), at: t0 + .milliseconds(3100))
        #expect(next.messages(at: .warning).first == "Script [/etc/down eth0 192.0.2.100] was killed by signal 9")
        #expect(next.spawnedPaths == ["/etc/up"])
        // Its own timeout runs from its own start.
        #expect(driver.instance.scripts.running?.deadline == t0 + .milliseconds(4100))
    }

    @Test func withoutATimeoutAScriptMayRunForever() {
        // No up script, which would supersede the down script once master.
        var driver = InstanceDriver(
            testSettings {
                $0.scriptTimeout = nil
                $0.upscript = nil
            })
        _ = driver.start()
        #expect(driver.run(until: t0 + .seconds(3600)).killed.isEmpty)
    }

    @Test func aScriptThatCannotStartDoesNotHoldUpTheNext() throws {
        var driver = InstanceDriver()
        driver.failingSpawns["/etc/down"] = .noSuchFileOrDirectory
        let start = driver.start()
        #expect(
            start.messages(at: .error) == [
                "Unable to exec /etc/down eth0 192.0.2.100: \(Errno.noSuchFileOrDirectory.description)"
            ])
        #expect(driver.instance.scripts.running == nil)
        let master = driver.run(until: t0 + .seconds(3))
        #expect(master.spawnedPaths == ["/etc/up"])
    }

    @Test func howAScriptEndedIsLoggedAtTheLevelItDeserves() throws {
        var driver = InstanceDriver()
        let down = try #require(driver.start().spawned.first?.0)
        #expect(
            driver.exited(down, .exited(3), at: t0) == [
                .log(.warning, "Script [/etc/down eth0 192.0.2.100] exited with status 3")
            ])
        let up = try #require(driver.run(until: t0 + .seconds(3)).spawned.first?.0)
        #expect(
            driver.exited(up, .killed(signal: 15), at: t0 + .seconds(3)) == [
                .log(.warning, "Script [/etc/up eth0 192.0.2.100] was killed by signal 15"),
                // The announcement held for it: the address may be there all the same.
                .announceAddresses,
            ])
        let again = try #require(driver.link(.noCarrier, at: t0 + .seconds(4)).spawned.first?.0)
        #expect(
            driver.exited(again, .unknown, at: t0 + .seconds(4)) == [
                .log(.warning, "Script [/etc/down eth0 192.0.2.100] ended, its exit status unknown")
            ])
    }

    @Test func theXparamFollowsTheArgumentsAndTheEnvironment() throws {
        var driver = InstanceDriver(
            testSettings {
                $0.xparam = "extra"
                $0.virtualAddressArguments = ["192.0.2.100/24"]
            })
        let command = try #require(driver.start().spawned.first?.1)
        #expect(command.arguments == ["eth0", "192.0.2.100/24", "extra"])
        #expect(command.environment.contains(.init("CARP_VIRTUAL_ADDRESS", "192.0.2.100/24")))
        #expect(command.environment.last == .init("CARP_XPARAM", "extra"))
    }

    @Test func noScriptRunsWhereNoneIsConfiguredOrForANeutralStart() {
        var none = InstanceDriver(
            testSettings {
                $0.upscript = nil
                $0.downscript = nil
            })
        #expect(none.start().spawned.isEmpty)
        #expect(none.run(until: t0 + .seconds(3)).spawned.isEmpty)
        var neutral = InstanceDriver(testSettings { $0.neutral = true })
        #expect(neutral.start().spawned.isEmpty)
        #expect(neutral.run(until: t0 + .seconds(3)).spawnedPaths == ["/etc/up"])
    }

    // MARK: An up script supersedes the down scripts before it

    @Test func aHungDownScriptIsStoppedWhenTheInstanceIsMasterAgain() throws {
        var driver = InstanceDriver()
        let down = try #require(driver.start().spawned.first?.0)
        // It hangs: the instance becomes master at t0 + 3 s and asks it to stop.
        let master = driver.run(until: t0 + .seconds(3))
        let stop = try #require(master.firstIndex(of: .terminate(down)))
        #expect(master.messages(at: .warning).first == "Switching to state: MASTER")
        #expect(stop > 0)
        #expect(master.spawned.isEmpty)
        // It ignores SIGTERM: killed at the end of the grace, not at --script-timeout.
        let next = driver.instance.nextDeadline
        let grace = try #require(next)
        #expect(grace <= t0 + .seconds(5))
        let killed = driver.run(until: t0 + .seconds(5))
        #expect(killed.killed == [down])
        #expect(
            killed.messages(at: .error) == [
                "Script [/etc/down eth0 192.0.2.100] still running 2s after SIGTERM: killing its process group"
            ])
        let up = driver.exited(down, .killed(signal: 9), at: t0 + .milliseconds(5010))
        #expect(up.spawnedPaths == ["/etc/up"])
    }

    @Test func aDownScriptThatStopsOnSIGTERMLetsTheUpScriptRunAtOnce() throws {
        var driver = InstanceDriver()
        let down = try #require(driver.start().spawned.first?.0)
        #expect(driver.run(until: t0 + .seconds(3)).contains(.terminate(down)))
        let up = driver.exited(down, .killed(signal: 15), at: t0 + .milliseconds(3010))
        #expect(up.spawnedPaths == ["/etc/up"])
        #expect(up.killed.isEmpty)
        #expect(driver.instance.scripts.running?.graceDeadline == nil)
    }
}
