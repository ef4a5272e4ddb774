import CARPCore
import Logging
import SystemPackage
import Testing

@testable import CARPInstance

/// The metrics file's schedule on its own: written at once when the headline changes, at least
/// every ten seconds, once more when stopped; a run of failures logged once, and the recovery.
@Suite struct MetricsScheduleTests {
    static let backup = MetricsSchedule.Headline(
        role: .backup, transitions: 1, advskew: 0, healthy: nil, addressRestores: 0)
    static let failure = DaemonError.system(call: "rename", subject: "/run/ucarp.prom", errno: .noSuchFileOrDirectory)

    @Test func theFirstHeadlineIsWrittenThenOnlyAChangeOfIt() {
        var schedule = MetricsSchedule(path: "/run/ucarp.prom")
        #expect(schedule.due == nil)
        #expect(schedule.changed(Self.backup, at: t0) == [.write])
        #expect(schedule.changed(Self.backup, at: t0 + .seconds(1)).isEmpty)
        var master = Self.backup
        master.role = .master
        master.transitions = 2
        #expect(schedule.changed(master, at: t0 + .seconds(2)) == [.write])
        var unhealthy = master
        unhealthy.healthy = false
        #expect(schedule.changed(unhealthy, at: t0 + .seconds(3)) == [.write])
        #expect(schedule.changed(unhealthy, at: t0 + .seconds(3)).isEmpty)
        #expect(schedule.written == unhealthy)
    }

    @Test func theFileIsRefreshedEveryTenSecondsFromTheLastWrite() {
        var schedule = MetricsSchedule(path: "/run/ucarp.prom")
        #expect(schedule.timePassed(Self.backup, at: t0).isEmpty, "nothing due before the first write")
        _ = schedule.changed(Self.backup, at: t0)
        #expect(schedule.due == t0 + .seconds(10))
        #expect(schedule.timePassed(Self.backup, at: t0 + .milliseconds(9999)).isEmpty)
        #expect(schedule.timePassed(Self.backup, at: t0 + .seconds(10)) == [.write])
        #expect(schedule.due == t0 + .seconds(20))
        // A write for a change pushes the refresh back.
        var master = Self.backup
        master.role = .master
        _ = schedule.changed(master, at: t0 + .seconds(15))
        #expect(schedule.due == t0 + .seconds(25))
        #expect(schedule.timePassed(master, at: t0 + .seconds(20)).isEmpty)
    }

    @Test func stoppedWritesOnceMoreAndNothingIsDueAfter() {
        var schedule = MetricsSchedule(path: "/run/ucarp.prom")
        _ = schedule.changed(Self.backup, at: t0)
        #expect(schedule.stopped() == [.write])
        #expect(schedule.due == nil)
        #expect(schedule.timePassed(Self.backup, at: t0 + .seconds(60)).isEmpty)
    }

    @Test func aRunOfFailuresIsLoggedOnceAndTheRecoveryToo() {
        var schedule = MetricsSchedule(path: "/run/ucarp.prom")
        #expect(schedule.written(failure: nil).isEmpty)
        #expect(
            schedule.written(failure: Self.failure) == [
                .log(.error, "Unable to write the metrics file /run/ucarp.prom: \(Self.failure.description)")
            ])
        #expect(schedule.failing)
        #expect(schedule.written(failure: Self.failure).isEmpty)
        #expect(schedule.written(failure: nil) == [.log(.info, "The metrics file /run/ucarp.prom is written again")])
        #expect(!schedule.failing)
        #expect(schedule.written(failure: nil).isEmpty)
        #expect(schedule.written(failure: Self.failure).count == 1, "a new run of failures is logged again")
    }
}
