import CARPCore
import Testing
import UCarpConfiguration

@testable import CARPInstance

extension InstanceDriver {
    /// `actions`, then every script they spawned reported finished at `now`, and so on for the
    /// scripts that starts: what happens when each script ends at once.
    mutating func finishingScripts(_ actions: [Action], at now: MonotonicInstant) -> [Action] {
        var done = actions
        var pending = actions.spawned.map(\.0)
        while !pending.isEmpty {
            let next = exited(pending.removeFirst(), .exited(0), at: now)
            done += next
            pending += next.spawned.map(\.0)
        }
        return done
    }
}

extension [Action] {
    /// The notify script's runs: its arguments after the configured ones.
    var notified: [[String]] {
        spawned.filter { $0.1.path == "/etc/notify" }.map { [String]($0.1.arguments.suffix(4)) }
    }
}

/// `--notify`: keepalived's `notify` script in the scripts' queue, after the up or down script.
@Suite struct InstanceNotifyTests {
    static func notifying(_ adjust: (inout Settings) -> Void = { _ in }) -> Settings {
        testSettings {
            $0.notify = ["/etc/notify"]
            adjust(&$0)
        }
    }

    @Test func theStartIsNotifiedAsBackupAfterTheDownScriptWithItsEnvironment() throws {
        var driver = InstanceDriver(Self.notifying())
        let start = driver.start()
        // One script at a time: the notify script waits for the down script.
        #expect(start.spawnedPaths == ["/etc/down"])
        let down = try #require(start.spawned.first)
        let next = driver.exited(down.0, .exited(0), at: t0)
        let notify = try #require(next.spawned.first?.1)
        #expect(notify.path == "/etc/notify")
        #expect(notify.arguments == ["INSTANCE", "vhid1", "BACKUP", "255"])
        #expect(notify.environment == down.1.environment)
        #expect(next.messages(at: .warning) == ["Spawning [/etc/notify INSTANCE vhid1 BACKUP 255]"])
    }

    @Test func aNeutralStartIsNotifiedToo() {
        var driver = InstanceDriver(Self.notifying { $0.neutral = true })
        #expect(driver.start().notified == [["INSTANCE", "vhid1", "BACKUP", "255"]])
    }

    @Test func everyChangeIsNotifiedWithTheNameAndThePriority() {
        var driver = InstanceDriver(
            Self.notifying {
                $0.notify = ["/etc/notify", "site a"]
                $0.name = "VI_web"
                $0.advskew = 100
            })
        var actions = driver.finishingScripts(driver.start(), at: t0)
        actions += driver.finishingScripts(driver.run(until: t0 + .seconds(4)), at: t0 + .seconds(4))
        #expect(driver.instance.machine.role == .master)
        actions += driver.finishingScripts(driver.link(.noCarrier, at: t0 + .seconds(5)), at: t0 + .seconds(5))
        #expect(
            actions.spawnedPaths == ["/etc/down", "/etc/notify", "/etc/up", "/etc/notify", "/etc/down", "/etc/notify"])
        #expect(
            actions.notified == [
                ["INSTANCE", "VI_web", "BACKUP", "155"], ["INSTANCE", "VI_web", "MASTER", "155"],
                ["INSTANCE", "VI_web", "BACKUP", "155"],
            ])
        // The configured arguments come first, as in keepalived.
        #expect(actions.spawned[1].1.arguments == ["site a", "INSTANCE", "VI_web", "BACKUP", "155"])
        #expect(actions.spawned[3].1.environment.first == .init("CARP_STATE", "MASTER"))
    }

    @Test func anUnhealthyInstanceIsNotifiedAsFault() {
        var driver = InstanceDriver(Self.notifying { $0.check = "test -f /ok" })
        _ = driver.finishingScripts(driver.start(), at: t0)
        let fault = driver.finishingScripts(
            driver.carryOut(driver.instance.healthChanged(healthy: false, at: t0 + .seconds(1)), at: t0 + .seconds(1)),
            at: t0 + .seconds(1))
        #expect(fault.notified == [["INSTANCE", "vhid1", "FAULT", "255"]])
        #expect(
            fault.spawned.first?.1.environment.prefix(3) == [
                .init("CARP_STATE", "FAULT"), .init("CARP_PREVIOUS_STATE", "BACKUP"),
                .init("CARP_REASON", "health-check-failed"),
            ])
    }

    @Test func aDemotedInstanceIsNotifiedWithItsLowerPriority() {
        var driver = InstanceDriver(Self.notifying())
        driver.sendFailure = .injection(interface: "eth0", message: "No buffer space available")
        _ = driver.finishingScripts(driver.start(), at: t0)
        // Three failed advertisements as master demote it to the skew 240.
        _ = driver.finishingScripts(driver.run(until: t0 + .seconds(6)), at: t0 + .seconds(6))
        #expect(driver.instance.machine.demoted)
        let now = t0 + .seconds(6)
        let stepDown = driver.finishingScripts(driver.signal(.user2, at: now), at: now)
        #expect(stepDown.notified == [["INSTANCE", "vhid1", "BACKUP", "15"]])
    }

    @Test func withShutdownAMasterRunsItsDownScriptThenTheStopInsteadOfBackup() throws {
        var driver = InstanceDriver(Self.notifying { $0.shutdown = true })
        _ = driver.finishingScripts(driver.start(), at: t0)
        _ = driver.finishingScripts(driver.run(until: t0 + .seconds(3)), at: t0 + .seconds(3))
        #expect(driver.instance.machine.role == .master)
        let now = t0 + .milliseconds(3500)
        let leaving = driver.finishingScripts(driver.signal(.terminate, at: now), at: now)
        #expect(
            leaving.adverts == [.sendAdvertisement(advbase: 255, advskew: 255, counter: 1000 &+ CARPWire.counterStride)]
        )
        #expect(leaving.spawnedPaths == ["/etc/down", "/etc/notify"])
        #expect(leaving.notified == [["INSTANCE", "vhid1", "STOP", "255"]])
        #expect(
            leaving.spawned.last?.1.environment.prefix(3) == [
                .init("CARP_STATE", "STOP"), .init("CARP_PREVIOUS_STATE", "MASTER"), .init("CARP_REASON", "shutdown"),
            ])
        #expect(
            Array(leaving.suffix(2)) == [
                .recordState(state: .stopped, previous: .backup, reason: .exit), .exit(.success),
            ])
    }

    @Test func withShutdownABackupIsNotifiedOfItsStop() {
        var driver = InstanceDriver(Self.notifying { $0.shutdown = true })
        _ = driver.finishingScripts(driver.start(), at: t0)
        let leaving = driver.finishingScripts(driver.signal(.interrupt, at: t0 + .seconds(1)), at: t0 + .seconds(1))
        #expect(leaving.spawnedPaths == ["/etc/notify"])
        #expect(leaving.notified == [["INSTANCE", "vhid1", "STOP", "255"]])
        #expect(leaving.exits == [.exit(.success)])
    }

    @Test(arguments: [Instance.Signal.hangUp, .interrupt, .quit, .terminate])
    func withoutShutdownTheStopIsNotifiedAfterTheRunningScriptThenTheSignalKills(signal: Instance.Signal) throws {
        var driver = InstanceDriver(Self.notifying())
        _ = driver.finishingScripts(driver.start(), at: t0)
        let up = try #require(driver.run(until: t0 + .seconds(3)).spawned.first?.0)
        let now = t0 + .milliseconds(3500)
        let leaving = driver.signal(signal, at: now)
        // No down script, no leaving advertisement: ucarp's death, only told to the notify script.
        #expect(leaving.adverts.isEmpty)
        #expect(leaving.spawned.isEmpty)
        #expect(leaving.exits.isEmpty)
        #expect(driver.instance.phase == .leaving(.signal(signal), notice: nil))
        let next = driver.exited(up, .exited(0), at: now + .seconds(1))
        #expect(next.notified == [["INSTANCE", "vhid1", "MASTER", "255"]])
        let stop = try #require(next.spawned.first?.0)
        let told = driver.exited(stop, .exited(0), at: now + .seconds(1))
        #expect(told.notified == [["INSTANCE", "vhid1", "STOP", "255"]])
        #expect(
            told.spawned.first?.1.environment.prefix(2) == [
                .init("CARP_STATE", "STOP"), .init("CARP_PREVIOUS_STATE", "MASTER"),
            ])
        let done = try #require(told.spawned.first?.0)
        #expect(
            driver.exited(done, .exited(0), at: now + .seconds(2)).suffix(2) == [
                .recordState(state: .stopped, previous: .master, reason: .exit), .dieOf(signal),
            ])
        #expect(driver.instance.phase == .finished)
    }

    @Test func aSecondTerminationSignalDoesNotWaitForTheStop() throws {
        var driver = InstanceDriver(Self.notifying())
        _ = driver.finishingScripts(driver.start(), at: t0)
        let stop = driver.signal(.terminate, at: t0 + .seconds(1))
        #expect(stop.notified == [["INSTANCE", "vhid1", "STOP", "255"]])
        #expect(driver.signal(.user1, at: t0 + .seconds(2)).isEmpty)
        #expect(
            driver.signal(.interrupt, at: t0 + .seconds(2)) == [
                .recordState(state: .stopped, previous: .backup, reason: .exit), .dieOf(.interrupt),
            ])
        #expect(driver.instance.phase == .finished)
    }

    @Test func aFatalErrorIsNotifiedAsAStopWithItsReason() {
        var driver = InstanceDriver(Self.notifying())
        _ = driver.finishingScripts(driver.start(), at: t0)
        let failed = driver.carryOut(
            driver.instance.failed("exiting: poll() error: x", .runtimeFailure, at: t0 + .seconds(1)),
            at: t0 + .seconds(1))
        let gone = driver.finishingScripts(failed, at: t0 + .seconds(1))
        #expect(gone.notified == [["INSTANCE", "vhid1", "STOP", "255"]])
        #expect(
            gone.spawned.first?.1.environment.prefix(3) == [
                .init("CARP_STATE", "STOP"), .init("CARP_PREVIOUS_STATE", "BACKUP"), .init("CARP_REASON", "error"),
            ])
        #expect(gone.exits == [.exit(.runtimeFailure)])
    }

    @Test func withoutNotifyNothingChanges() throws {
        var driver = InstanceDriver()
        let now = driver.becomeMaster(keepScriptRunning: true)
        #expect(driver.signal(.terminate, at: now).exits == [.dieOf(.terminate)])
    }
}

/// The `--garp-*` settings reach the election.
@Suite struct InstanceAnnouncementTests {
    @Test func theGarpSettingsScheduleTheMastersAnnouncements() {
        var driver = InstanceDriver(
            testSettings {
                $0.garpRepeat = 3
                $0.garpInterval = .milliseconds(250)
                $0.garpRefresh = .seconds(10)
            })
        let since = driver.becomeMaster()
        var announced: [MonotonicInstant] = []
        while let deadline = driver.instance.nextDeadline, deadline <= since + .seconds(21) {
            if driver.link(.running, at: deadline).contains(.announceAddresses)
                || driver.time(deadline).contains(.announceAddresses)
            {
                announced.append(deadline)
            }
        }
        #expect(
            announced == [
                since + .milliseconds(250), since + .milliseconds(500), since + .seconds(10), since + .seconds(20),
            ])
    }

    @Test func byDefaultTheSecondARPGoesWithTheSecondAdvertisementAfterTheTakeOver() {
        #expect(Instance.announcementSchedule(testSettings()) == .ucarp)
    }
}
