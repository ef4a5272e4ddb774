import CARPCore
import Testing
import UCarpConfiguration

@testable import CARPInstance

@Suite struct InstanceMetricsTests {
    static func withMetrics(_ adjust: (inout Settings) -> Void = { _ in }) -> InstanceDriver {
        InstanceDriver(
            testSettings {
                $0.metricsFile = "/run/textfile/ucarp.prom"
                adjust(&$0)
            })
    }

    /// Runs the driver from deadline to deadline up to `end`; the instants of the writes and
    /// their snapshots.
    static func writes(_ driver: inout InstanceDriver, until end: MonotonicInstant) -> [(
        at: MonotonicInstant, snapshot: MetricsSnapshot
    )] {
        var writes: [(MonotonicInstant, MetricsSnapshot)] = []
        _ = driver.takeWritten()
        while let deadline = driver.instance.nextDeadline, deadline <= end {
            _ = driver.link(.running, at: deadline) + driver.time(deadline)
            writes += driver.takeWritten().map { (deadline, $0) }
        }
        return writes
    }

    @Test func withoutAMetricsFileNothingIsWrittenNorScheduled() {
        var driver = InstanceDriver()
        _ = driver.start()
        #expect(driver.takeWritten().isEmpty)
        #expect(driver.instance.metrics == nil)
        let now = driver.becomeMaster()
        _ = driver.run(until: now + .seconds(30))
        #expect(driver.takeWritten().isEmpty)
    }

    @Test func theFileIsWrittenAtStartAndAtOnceOnEveryChangeOfState() throws {
        var driver = Self.withMetrics()
        let start = driver.start()
        let written = driver.takeWritten()
        #expect(written.count == 1)
        let first = try #require(written.first)
        #expect(first.role == .backup)
        #expect(first.running)
        #expect(first.version == "9.9.9")
        #expect(first.instanceName == "vhid1")
        #expect(first.interface == "eth0")
        #expect(first.virtualAddress == "192.0.2.100")
        #expect(first.statistics.transitionsTo == [.backup: 1])
        // Written after the change of state is recorded, in the same event.
        let index = try #require(start.firstIndex { if case .writeMetrics = $0 { true } else { false } })
        #expect(Array(start[..<index]).states == ["BACKUP"])

        // Nothing changes until the master-down timer fires: the take-over is written then.
        let takeOver = Self.writes(&driver, until: t0 + .seconds(3) + .milliseconds(1))
        #expect(takeOver.count == 1)
        #expect(takeOver.first?.at == t0 + .seconds(3))
        #expect(takeOver.first?.snapshot.role == .master)
        #expect(takeOver.first?.snapshot.statistics.transitionsTo == [.backup: 1, .master: 1])
    }

    @Test func unchangedItIsRewrittenEveryTenSecondsWithTheCounters() throws {
        var driver = Self.withMetrics()
        let master = driver.becomeMaster()
        _ = driver.frame(.dropped(.badTTL(64)), at: master + .milliseconds(100))
        let writes = Self.writes(&driver, until: master + .seconds(30))
        #expect(writes.map(\.at) == [master + .seconds(10), master + .seconds(20), master + .seconds(30)])
        let tenth = try #require(writes.first?.snapshot)
        // The take-over's and ten more: the file is written after the tenth went out.
        #expect(tenth.statistics.advertisementsSent == 11)
        #expect(tenth.statistics.dropped == [.badTTL: 1])
        // The counters alone never make it write sooner.
        _ = driver.advert(advskew: 200, at: master + .milliseconds(30_500))
        #expect(driver.takeWritten().isEmpty)
        #expect(driver.instance.statistics.advertisementsReceived == 1)
        #expect(driver.instance.nextDeadline == master + .seconds(31))
    }

    @Test func anInstanceWithNoTimerOfItsOwnStillWakesToRewriteIt() throws {
        var driver = Self.withMetrics {
            $0.ignoreInterfaceState = true
            $0.check = "false"
            $0.checkFall = 1
            $0.checkInterval = .seconds(3600)
            $0.upscript = nil
            $0.downscript = nil
        }
        let check = try #require(driver.start().spawned.first?.0)
        _ = driver.exited(check, .exited(1), at: t0)
        // FAULT times nothing, the next check is an hour away: the file's deadline is next.
        #expect(driver.instance.machine.role == .fault)
        #expect(driver.instance.nextDeadline == t0 + .seconds(10))
        _ = driver.takeWritten()
        _ = driver.time(t0 + .seconds(10))
        #expect(driver.takeWritten().count == 1)
        #expect(driver.instance.nextDeadline == t0 + .seconds(20))
    }

    @Test func theLastTransitionIsTheWallClockTimeOfTheChange() throws {
        var driver = Self.withMetrics()
        driver.instance.wallClockRead(secondsSinceEpoch: 1_764_580_000.25, at: t0)
        _ = driver.start()
        let start = try #require(driver.takeWritten().first)
        #expect(start.lastTransition == 1_764_580_000.25)
        // The wall clock read later, at the take-over's wake-up, dates the take-over.
        driver.instance.wallClockRead(secondsSinceEpoch: 1_764_580_003.5, at: t0 + .seconds(3))
        let master = try #require(Self.writes(&driver, until: t0 + .seconds(3)).first?.snapshot)
        #expect(master.lastTransition == 1_764_580_003.5)
        // Without a change the time stays, even when the wall clock is stepped.
        driver.instance.wallClockRead(secondsSinceEpoch: 1_900_000_000, at: t0 + .seconds(12))
        let later = try #require(Self.writes(&driver, until: t0 + .seconds(13)).first?.snapshot)
        #expect(later.lastTransition == 1_764_580_003.5)
    }

    @Test func withoutAWallClockReadingThereIsNoTimestamp() throws {
        var driver = Self.withMetrics()
        _ = driver.start()
        #expect(try #require(driver.takeWritten().first).lastTransition == nil)
    }

    @Test func demotionAfterSendErrorsIsWrittenAtOnceWithTheSkewAdvertised() throws {
        var driver = Self.withMetrics()
        let master = driver.becomeMaster()
        driver.sendFailure = .injection(interface: "eth0", message: "Network is down")
        _ = driver.takeWritten()
        var demoted: [MetricsSnapshot] = []
        var now = master
        while demoted.isEmpty, now < master + .seconds(5) {
            let next = driver.instance.nextDeadline
            now = try #require(next)
            _ = driver.link(.running, at: now) + driver.time(now)
            demoted = driver.takeWritten()
        }
        #expect(demoted.last?.advskew == 240)
        #expect(demoted.last?.role == .master)
        // The third error demotes; the advertisement sent at once with skew 240 fails too.
        #expect(demoted.last?.statistics.sendErrors == 4)
    }

    @Test func healthResultsAndVerdictsAreShown() throws {
        var driver = Self.withMetrics {
            $0.check = "test -f /ok"
            $0.checkFall = 1
            $0.checkRise = 1
            $0.upscript = nil
            $0.downscript = nil
        }
        let start = driver.start()
        #expect(driver.takeWritten().last?.healthCheck == .init(healthy: nil, passed: 0, failed: 0))
        let check = try #require(start.spawned.first?.0)
        _ = driver.exited(check, .exited(1), at: t0 + .milliseconds(10))
        let verdict = driver.takeWritten()
        #expect(verdict.last?.healthCheck == .init(healthy: false, passed: 0, failed: 1))
        #expect(verdict.last?.role == .fault)
    }

    @Test(arguments: [false, true])
    func leavingWritesTheStoppedFileLast(withShutdown: Bool) throws {
        var driver = Self.withMetrics { $0.shutdown = withShutdown }
        let now = driver.becomeMaster()
        var leaving = driver.signal(.terminate, at: now + .milliseconds(500))
        if withShutdown, let down = leaving.spawned.first?.0 {
            leaving += driver.exited(down, .exited(0), at: now + .seconds(1))
        }
        let last = try #require(driver.takeWritten().last)
        #expect(!last.running)
        #expect(last.stateNumber == 0)
        #expect(last.statistics.advertisementsSent >= 1)
        // It comes before the exit, after the STOPPED state.
        let kinds = leaving.suffix(3).map { action -> String in
            switch action {
            case .recordState: "state"
            case .writeMetrics: "metrics"
            case .exit, .dieOf: "exit"
            default: "other"
            }
        }
        #expect(kinds == ["state", "metrics", "exit"])
        #expect(driver.instance.metrics?.due == nil)
        #expect(driver.instance.nextDeadline == nil)
    }

    @Test func aFailingWriteIsLoggedOnceAndItsRecovery() {
        var driver = Self.withMetrics()
        driver.metricsFailure = .system(
            call: "open", subject: "/run/textfile/ucarp.prom.tmp.1", errno: .noSuchFileOrDirectory)
        #expect(
            driver.start().messages(at: .error) == [
                "Unable to write the metrics file /run/textfile/ucarp.prom: open on /run/textfile/ucarp.prom.tmp.1 failed: No such file or directory"
            ])
        // The down script of the start ends (else the up script would have it stopped).
        driver.finishScripts(at: t0)
        #expect(driver.run(until: t0 + .seconds(25)).messages(at: .error).isEmpty)
        driver.metricsFailure = nil
        #expect(
            driver.run(until: t0 + .seconds(35)).messages(at: .info) == [
                "The metrics file /run/textfile/ucarp.prom is written again"
            ])
    }
}
