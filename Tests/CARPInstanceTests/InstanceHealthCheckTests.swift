import CARPCore
import SystemPackage
import Testing
import UCarpConfiguration

@testable import CARPInstance

@Suite struct InstanceHealthCheckTests {
    /// `--check 'test -f /ok'` every 2 s, no script to keep the actions short.
    static func checked(_ adjust: (inout Settings) -> Void = { _ in }) -> InstanceDriver {
        InstanceDriver(
            testSettings {
                $0.upscript = nil
                $0.downscript = nil
                $0.check = "test -f /ok"
                $0.checkInterval = .seconds(2)
                adjust(&$0)
            })
    }

    static let checkCommand = Child.Command(path: "/bin/sh", arguments: ["-c", "test -f /ok"])

    @Test func checksStartAtOnceThenEveryInterval() throws {
        var driver = Self.checked()
        let start = driver.start()
        #expect(start.spawned.map(\.1) == [Self.checkCommand])
        let first = try #require(start.spawned.first?.0)
        #expect(
            driver.exited(first, .exited(0), at: t0 + .milliseconds(100)) == [
                .log(.info, "Health check [test -f /ok] passed: the service is healthy")
            ])
        var starts: [MonotonicInstant] = []
        while let deadline = driver.instance.nextDeadline, deadline <= t0 + .seconds(6) {
            let actions = driver.link(.running, at: deadline) + driver.time(deadline)
            for (id, _) in actions.spawned {
                starts.append(deadline)
                _ = driver.exited(id, .exited(0), at: deadline + .milliseconds(100))
            }
        }
        #expect(starts == [t0 + .seconds(2), t0 + .seconds(4), t0 + .seconds(6)])
    }

    @Test func untilTheFirstResultTheInstanceMayNotTakeOver() {
        var driver = Self.checked()
        _ = driver.start()
        // The check hangs; its timeout is the interval; it counts as a failure: FAULT.
        let actions = driver.run(until: t0 + .seconds(10))
        #expect(!actions.messages.contains("Switching to state: MASTER"))
        #expect(actions.states == ["FAULT"])
    }

    @Test func aCheckPastItsTimeoutIsKilledAndCountsAsAFailure() throws {
        var driver = Self.checked { $0.checkTimeout = .seconds(1) }
        let check = try #require(driver.start().spawned.first?.0)
        #expect(driver.time(t0 + .milliseconds(999)).isEmpty)
        let actions = driver.link(.running, at: t0 + .seconds(1)) + driver.time(t0 + .seconds(1))
        #expect(
            actions == [
                .kill(check),
                .log(.warning, "Health check [test -f /ok] timed out: killed"),
                .log(.debug, "Health check [test -f /ok] failed: timed out"),
                .log(.warning, "Health check [test -f /ok] failed (timed out): the service is unhealthy"),
                .log(.warning, "Switching to state: FAULT"),
                .recordState(state: .fault, previous: .backup, reason: .transition(.healthCheckFailed)),
            ])
        // Killed, it is not counted again when collected, and the next one waits for that.
        #expect(driver.instance.nextDeadline == t0 + .seconds(2))
        #expect(driver.time(t0 + .seconds(2)).spawned.isEmpty)
        #expect(driver.exited(check, .killed(signal: 9), at: t0 + .seconds(2)).isEmpty)
        #expect(driver.time(t0 + .seconds(2)).spawned.map(\.1) == [Self.checkCommand])
    }

    @Test func fallAndRiseVerdictsReachTheElection() throws {
        var driver = Self.checked {
            $0.checkFall = 2
            $0.checkRise = 2
            $0.downscript = "/etc/down"
        }
        var now = t0
        /// Runs to the next check and reports its result.
        func check(passes: Bool) -> [Action] {
            var actions: [Action] = []
            while driver.instance.health?.running == nil, let deadline = driver.instance.nextDeadline {
                now = deadline
                actions += driver.link(.running, at: now) + driver.time(now)
            }
            guard let id = driver.instance.health?.running?.id else { return actions }
            return actions + driver.exited(id, passes ? .exited(0) : .exited(1), at: now)
        }
        for (id, _) in driver.start().spawned where id != driver.instance.health?.running?.id {
            _ = driver.exited(id, .exited(0), at: t0)
        }
        #expect(
            check(passes: true).messages(at: .info) == ["Health check [test -f /ok] passed: the service is healthy"])
        #expect(driver.run(until: t0 + .seconds(3)).messages(at: .warning).contains("Switching to state: MASTER"))
        now = t0 + .seconds(3)
        #expect(driver.instance.machine.role == .master)
        // One failure is not enough.
        let once = check(passes: false)
        #expect(once.messages(at: .debug).contains("Health check [test -f /ok] failed: exit status 1"))
        #expect(driver.instance.machine.role == .master)
        let twice = check(passes: false)
        #expect(
            twice.messages(at: .warning).prefix(2) == [
                "Health check [test -f /ok] failed (exit status 1): the service is unhealthy",
                "Switching to state: FAULT",
            ])
        // A master says it is leaving and runs its down script.
        #expect(twice.hasLeavingAdvertisement)
        #expect(twice.spawnedPaths.contains("/etc/down"))
        #expect(driver.instance.machine.role == .fault)
        _ = check(passes: true)
        #expect(driver.instance.machine.role == .fault)
        let back = check(passes: true)
        #expect(back.messages(at: .info) == ["Health check [test -f /ok] passed: the service is healthy"])
        #expect(back.messages(at: .warning) == ["Switching to state: BACKUP"])
        #expect(driver.instance.machine.role == .backup)
    }

    @Test func aCheckThatCannotStartCountsAsAFailure() {
        var driver = Self.checked()
        driver.failingSpawns["/bin/sh"] = .permissionDenied
        let actions = driver.start()
        #expect(
            actions.messages(at: .error) == [
                "Unable to run the health check: \(Errno.permissionDenied.description)"
            ])
        #expect(actions.messages(at: .debug) == ["Health check [test -f /ok] failed: could not start"])
        #expect(actions.states.last == "FAULT")
        #expect(driver.instance.health?.running == nil)
        #expect(driver.instance.nextDeadline == t0 + .seconds(1))
    }

    @Test func leavingKillsTheRunningCheck() throws {
        var driver = Self.checked()
        let check = try #require(driver.start().spawned.first?.0)
        let actions = driver.signal(.terminate, at: t0 + .milliseconds(500))
        #expect(
            actions == [
                .log(.debug, "Caught signal 15: leaving"), .kill(check),
                .recordState(state: .stopped, previous: .backup, reason: .exit), .dieOf(.terminate),
            ])
    }

    @Test func aCheckEndingWhileTheScriptsFinishGivesNoVerdictAndNoneStarts() throws {
        var driver = Self.checked {
            $0.shutdown = true
            $0.downscript = "/etc/down"
        }
        let start = driver.start()
        let check = try #require(driver.instance.health?.running?.id)
        let down = try #require(start.spawned.first { $0.0 != check }?.0)
        _ = driver.signal(.terminate, at: t0 + .milliseconds(500))
        #expect(driver.exited(check, .exited(1), at: t0 + .seconds(1)).isEmpty)
        #expect(driver.time(t0 + .seconds(2)).isEmpty)
        #expect(driver.instance.machine.role == .backup)
        // Nothing left to kill at the exit.
        #expect(
            driver.exited(down, .exited(0), at: t0 + .seconds(3)) == [
                .log(.debug, "Script [/etc/down eth0 192.0.2.100] finished"),
                .recordState(state: .stopped, previous: .backup, reason: .exit), .exit(.success),
            ])
    }
}

extension [Action] {
    /// Whether a leaving advertisement (advbase and advskew 255) is among these.
    fileprivate var hasLeavingAdvertisement: Bool {
        contains {
            guard case .sendAdvertisement(255, 255, _) = $0 else { return false }
            return true
        }
    }
}
