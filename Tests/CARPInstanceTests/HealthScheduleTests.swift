import CARPCore
import Logging
import SystemPackage
import Testing
import UCarpConfiguration

@testable import CARPInstance

/// The health check's schedule on its own: the first check at start, then every interval; a
/// check past its timeout killed and counted as one failure; fall/rise verdicts.
@Suite struct HealthScheduleTests {
    static func schedule(
        interval: UInt64 = 2, timeout: UInt64? = 1, fall: Int = 2, rise: Int = 2, debug: Bool = false
    ) -> HealthSchedule {
        HealthSchedule(
            command: "check",
            settings: testSettings {
                $0.checkInterval = .seconds(interval)
                $0.checkTimeout = timeout.map { .seconds($0) }
                $0.checkFall = fall
                $0.checkRise = rise
                $0.debug = debug
            })
    }

    static func spawned(_ actions: [HealthSchedule.Action]) -> [Child.ID] {
        actions.compactMap { if case .spawn(let id, _) = $0 { id } else { nil } }
    }

    static func verdicts(_ actions: [HealthSchedule.Action]) -> [Bool] {
        actions.compactMap { if case .verdict(let healthy) = $0 { healthy } else { nil } }
    }

    /// Starts the check due at `now` and ends it with `status`.
    static func check(
        _ schedule: inout HealthSchedule, _ numbering: inout Child.Numbering, _ status: Child.Status,
        at now: MonotonicInstant
    ) -> [HealthSchedule.Action] {
        let started = schedule.timePassed(numbering: &numbering, at: now)
        #expect(spawned(started).count == 1)
        return schedule.ended(status: status)
    }

    @Test func nothingIsDueBeforeStartAndTheFirstCheckIsDueAtStart() throws {
        var schedule = Self.schedule()
        var numbering = Child.Numbering()
        #expect(schedule.nextDeadline == nil)
        #expect(schedule.timePassed(numbering: &numbering, at: t0).isEmpty)
        schedule.started(at: t0)
        #expect(schedule.nextDeadline == t0)
        let actions = schedule.timePassed(numbering: &numbering, at: t0)
        let id = try #require(Self.spawned(actions).first)
        #expect(actions == [.spawn(id, .init(path: "/bin/sh", arguments: ["-c", "check"]))])
        #expect(schedule.runs(id))
        // While it runs, the deadline is its timeout.
        #expect(schedule.nextDeadline == t0 + .seconds(1))
    }

    @Test func checksStartEveryIntervalFromTheLastStart() {
        var schedule = Self.schedule(interval: 2, timeout: 1)
        var numbering = Child.Numbering()
        schedule.started(at: t0)
        _ = Self.check(&schedule, &numbering, .exited(0), at: t0)
        #expect(schedule.nextDeadline == t0 + .seconds(2))
        #expect(schedule.timePassed(numbering: &numbering, at: t0 + .milliseconds(1999)).isEmpty)
        _ = Self.check(&schedule, &numbering, .exited(0), at: t0 + .seconds(2))
        #expect(schedule.nextDeadline == t0 + .seconds(4))
    }

    @Test func aCheckPastItsTimeoutIsKilledAndCountsAsOneFailure() throws {
        var schedule = Self.schedule(interval: 5, timeout: 1, fall: 1)
        var numbering = Child.Numbering()
        schedule.started(at: t0)
        _ = Self.check(&schedule, &numbering, .exited(0), at: t0)
        let id = try #require(Self.spawned(schedule.timePassed(numbering: &numbering, at: t0 + .seconds(5))).first)
        let killed = schedule.timePassed(numbering: &numbering, at: t0 + .seconds(6))
        #expect(killed.first == .kill(id))
        #expect(killed.contains(.log(.warning, "Health check [check] timed out: killed")))
        #expect(killed.contains(.checked(passed: false)))
        #expect(Self.verdicts(killed) == [false])
        // Killed once; its reaping counts nothing more; the next check comes at its interval.
        #expect(schedule.timePassed(numbering: &numbering, at: t0 + .seconds(7)).isEmpty)
        #expect(schedule.nextDeadline == nil, "the timed-out check is still to be reaped")
        #expect(schedule.ended(status: .killed(signal: 9)).isEmpty)
        #expect(schedule.nextDeadline == t0 + .seconds(10))
    }

    @Test func theVerdictFallsAfterFallFailuresAndRisesAfterRisePasses() {
        var schedule = Self.schedule(interval: 1, timeout: 1, fall: 2, rise: 3)
        var numbering = Child.Numbering()
        schedule.started(at: t0)
        var now = t0
        func next(_ status: Child.Status) -> [Bool] {
            defer { now = now + .seconds(1) }
            return Self.verdicts(Self.check(&schedule, &numbering, status, at: now))
        }
        #expect(next(.exited(0)) == [true], "the first result is the first verdict")
        #expect(next(.exited(1)) == [])
        #expect(next(.exited(0)) == [], "a pass resets the streak")
        #expect(next(.exited(1)) == [])
        #expect(next(.killed(signal: 15)) == [false])
        #expect(next(.exited(0)) == [])
        #expect(next(.exited(0)) == [])
        #expect(next(.exited(0)) == [true])
    }

    @Test func eachResultIsCheckedAndAFailureLoggedOnlyWithDebug() {
        var numbering = Child.Numbering()
        var quiet = Self.schedule(fall: 5)
        quiet.started(at: t0)
        _ = Self.check(&quiet, &numbering, .exited(0), at: t0)
        #expect(
            Self.check(&quiet, &numbering, .exited(3), at: t0 + .seconds(2)) == [.checked(passed: false)])
        var loud = Self.schedule(fall: 5, debug: true)
        loud.started(at: t0)
        _ = Self.check(&loud, &numbering, .exited(0), at: t0)
        #expect(
            Self.check(&loud, &numbering, .exited(3), at: t0 + .seconds(2)) == [
                .log(.debug, "Health check [check] failed: exit status 3"), .checked(passed: false),
            ])
    }

    @Test func aCheckThatFailedToStartCountsAsAFailure() {
        var schedule = Self.schedule(fall: 1)
        var numbering = Child.Numbering()
        schedule.started(at: t0)
        _ = schedule.timePassed(numbering: &numbering, at: t0)
        let actions = schedule.failedToStart(reason: .permissionDenied)
        #expect(actions.first == .log(.error, "Unable to run the health check: \(Errno.permissionDenied)"))
        #expect(actions.contains(.checked(passed: false)))
        #expect(Self.verdicts(actions) == [false])
        #expect(schedule.running == nil)
        #expect(schedule.failedToStart(reason: .permissionDenied).isEmpty)
    }

    @Test func withoutATimeoutTheIntervalIsTheTimeout() {
        var schedule = Self.schedule(interval: 3, timeout: nil)
        var numbering = Child.Numbering()
        schedule.started(at: t0)
        _ = schedule.timePassed(numbering: &numbering, at: t0)
        #expect(schedule.nextDeadline == t0 + .seconds(3))
    }

    @Test func stopKillsARunningCheckUnlessItTimedOutAndNothingMoreIsDue() throws {
        var numbering = Child.Numbering()
        var running = Self.schedule()
        running.started(at: t0)
        let id = try #require(Self.spawned(running.timePassed(numbering: &numbering, at: t0)).first)
        #expect(running.stop() == id)
        #expect(running.nextDeadline == nil)
        #expect(running.running == nil)
        #expect(running.ended(status: .exited(1)).isEmpty, "not counted")
        #expect(running.timePassed(numbering: &numbering, at: t0 + .seconds(60)).isEmpty)

        var timedOut = Self.schedule()
        timedOut.started(at: t0)
        _ = timedOut.timePassed(numbering: &numbering, at: t0)
        _ = timedOut.timePassed(numbering: &numbering, at: t0 + .seconds(1))
        #expect(timedOut.stop() == nil)

        var idle = Self.schedule()
        idle.started(at: t0)
        #expect(idle.stop() == nil)
        #expect(idle.nextDeadline == nil)
    }
}
