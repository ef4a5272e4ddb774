import CARPCore
import Glibc
import SystemPackage
import Testing
import UCarpConfiguration

@testable import CARPInstance

@Suite struct InstanceTests {
    // MARK: Signals

    @Test func signalNumbersAreTheSystemsOwn() {
        #expect(Instance.Signal.hangUp.rawValue == SIGHUP)
        #expect(Instance.Signal.interrupt.rawValue == SIGINT)
        #expect(Instance.Signal.quit.rawValue == SIGQUIT)
        #expect(Instance.Signal.user1.rawValue == SIGUSR1)
        #expect(Instance.Signal.user2.rawValue == SIGUSR2)
        #expect(Instance.Signal.terminate.rawValue == SIGTERM)
        #expect(Instance.Signal.child.rawValue == SIGCHLD)
    }

    @Test func usr1LogsTheRoleAndTheCounters() {
        var driver = InstanceDriver()
        // Before the start the role is INIT, which ucarp shows as BACKUP.
        #expect(
            driver.signal(.user1, at: t0) == [
                .log(.info, "BACKUP on eth0 id 1"),
                .log(.info, "Counters: sent 0, received 0, send errors 0, transitions 0, dropped: none"),
            ])
        _ = driver.becomeMaster()
        let now = t0 + .seconds(4)
        _ = driver.frame(.dropped(.badTTL(64)), at: now)
        _ = driver.frame(.dropped(.badDigest(expectedPrefix: [1], receivedPrefix: [2])), at: now)
        _ = driver.frame(.dropped(.badTTL(1)), at: now)
        #expect(
            driver.signal(.user1, at: now) == [
                .log(.info, "MASTER on eth0 id 1"),
                .log(
                    .info,
                    "Counters: sent 1, received 0, send errors 0, transitions 2, dropped: bad-ttl 2, bad-digest 1"),
            ])
    }

    @Test func usr2StepsDownAMasterWhichRunsTheDownScript() {
        var driver = InstanceDriver()
        let now = driver.becomeMaster()
        let actions = driver.signal(.user2, at: now + .milliseconds(500))
        #expect(
            actions.adverts == [.sendAdvertisement(advbase: 255, advskew: 255, counter: 1000 &+ CARPWire.counterStride)]
        )
        #expect(
            actions.messages(at: .warning) == ["Switching to state: BACKUP", "Spawning [/etc/down eth0 192.0.2.100]"])
        #expect(actions.states == ["BACKUP"])
        #expect(driver.instance.machine.role == .backup)
        #expect(driver.instance.phase == .running)
    }

    @Test func usr2OnABackupOnlySaysItConsideredIt() {
        var driver = InstanceDriver()
        _ = driver.start()
        #expect(
            driver.signal(.user2, at: t0 + .seconds(1)) == [.log(.debug, "Caught signal (USR2) considering going down")]
        )
    }

    @Test func sigchldAsksForTheChildrenToBeReaped() {
        var driver = InstanceDriver()
        #expect(driver.signal(.child, at: t0) == [.reapChildren])
    }

    @Test(arguments: [Instance.Signal.hangUp, .interrupt, .quit, .terminate])
    func withoutShutdownATerminationSignalTidiesUpAndDiesOfIt(signal: Instance.Signal) {
        var driver = InstanceDriver()
        let now = driver.becomeMaster(keepScriptRunning: true)
        let actions = driver.signal(signal, at: now + .milliseconds(500))
        // No script, no leaving advert, and the running up script is not waited for.
        #expect(
            actions == [
                .log(.debug, "Caught signal \(signal.rawValue): leaving"),
                .recordState(state: .stopped, previous: .master, reason: .exit),
                .dieOf(signal),
            ])
        #expect(driver.instance.phase == .finished)
        #expect(driver.instance.nextDeadline == nil)
    }

    @Test func withShutdownAMasterSaysItIsLeavingRunsTheDownScriptAndExitsOnceItFinished() throws {
        var driver = InstanceDriver(testSettings { $0.shutdown = true })
        let now = driver.becomeMaster()
        let leaving = driver.signal(.terminate, at: now + .milliseconds(500))
        #expect(leaving.messages.first == "Caught signal 15: leaving")
        #expect(
            leaving.adverts == [.sendAdvertisement(advbase: 255, advskew: 255, counter: 1000 &+ CARPWire.counterStride)]
        )
        #expect(leaving.spawnedPaths == ["/etc/down"])
        #expect(leaving.states == ["BACKUP"])
        #expect(leaving.exits.isEmpty)
        #expect(driver.instance.phase == .leaving(.exit(.success), notice: nil))
        let down = try #require(leaving.spawned.first?.0)
        let done = driver.exited(down, .exited(0), at: now + .seconds(1))
        #expect(
            done == [
                .log(.debug, "Script [/etc/down eth0 192.0.2.100] finished"),
                .recordState(state: .stopped, previous: .backup, reason: .exit),
                .exit(.success),
            ])
    }

    @Test func withShutdownABackupLeavesAtOnceWithoutAScript() throws {
        var driver = InstanceDriver(testSettings { $0.shutdown = true })
        let down = try #require(driver.start().spawned.first?.0)
        _ = driver.exited(down, .exited(0), at: t0)
        let actions = driver.signal(.interrupt, at: t0 + .seconds(1))
        #expect(
            actions == [
                .log(.debug, "Caught signal 2: leaving"),
                .recordState(state: .stopped, previous: .backup, reason: .exit),
                .exit(.success),
            ])
    }

    @Test func leavingWaitsForTheRunningAndQueuedScriptsInOrder() throws {
        var driver = InstanceDriver(testSettings { $0.shutdown = true })
        let now = driver.becomeMaster(keepScriptRunning: true)
        let up = try #require(driver.instance.scripts.running?.id)
        let leaving = driver.signal(.terminate, at: now + .milliseconds(500))
        // The down script waits behind the up script.
        #expect(leaving.spawned.isEmpty)
        #expect(leaving.messages(at: .warning) == ["Switching to state: BACKUP"])
        // Nothing but the scripts matters now: packets, the carrier, signals, the election.
        #expect(driver.advert(at: now + .seconds(1)).isEmpty)
        #expect(driver.link(.noCarrier, at: now + .seconds(1)).isEmpty)
        #expect(driver.signal(.terminate, at: now + .seconds(1)).isEmpty)
        #expect(driver.signal(.user1, at: now + .seconds(1)).isEmpty)
        #expect(driver.signal(.child, at: now + .seconds(1)) == [.reapChildren])
        #expect(driver.instance.nextDeadline == now + .seconds(60))
        let next = driver.exited(up, .exited(0), at: now + .seconds(2))
        #expect(next.spawnedPaths == ["/etc/down"])
        #expect(next.exits.isEmpty)
        let down = try #require(next.spawned.first?.0)
        #expect(driver.exited(down, .exited(1), at: now + .seconds(3)).exits == [.exit(.success)])
    }

    @Test func leavingKillsAHungScriptAtItsTimeoutThenExits() throws {
        var driver = InstanceDriver(
            testSettings {
                $0.shutdown = true
                $0.scriptTimeout = .seconds(2)
            })
        let now = driver.becomeMaster()
        let leaving = driver.signal(.terminate, at: now)
        let down = try #require(leaving.spawned.first?.0)
        #expect(driver.instance.nextDeadline == now + .seconds(2))
        #expect(driver.time(now + .seconds(1)).isEmpty)
        let killed = driver.time(now + .seconds(2))
        #expect(
            killed == [
                .log(.error, "Script [/etc/down eth0 192.0.2.100] still running after 2.0s: killing its process group"),
                .kill(down),
            ])
        #expect(driver.instance.nextDeadline == nil)
        let done = driver.exited(down, .killed(signal: 9), at: now + .seconds(2))
        #expect(done.messages(at: .warning) == ["Script [/etc/down eth0 192.0.2.100] was killed by signal 9"])
        #expect(done.exits == [.exit(.success)])
    }

    // MARK: Carrier

    @Test func carrierLossMakesAMasterABackupAndItsReturnListensAgain() {
        var driver = InstanceDriver()
        let now = driver.becomeMaster()
        let lost = driver.link(.noCarrier, at: now + .milliseconds(500))
        #expect(
            lost.messages(at: .warning) == [
                "Interface [eth0] is down or has no carrier: staying BACKUP until it is back",
                "Switching to state: BACKUP",
                "Spawning [/etc/down eth0 192.0.2.100]",
            ])
        #expect(driver.instance.machine.role == .backup)
        // Said once, however long it lasts; the loop still wakes every second to look.
        #expect(driver.link(.noCarrier, at: now + .milliseconds(1500)).isEmpty)
        #expect(driver.instance.nextDeadline == now + .milliseconds(2500))
        // Silent meanwhile: adverts are not even answered.
        #expect(driver.time(now + .seconds(10)).adverts.isEmpty)
        let back = driver.link(.running, at: now + .seconds(11))
        #expect(back.messages == ["Interface [eth0] has its carrier back"])
        #expect(driver.link(.running, at: now + .seconds(12)).isEmpty)
        // Back as a backup that takes over after the usual master-down interval.
        let actions = driver.run(until: now + .seconds(14))
        #expect(actions.messages(at: .warning).first == "Switching to state: MASTER")
    }

    @Test func withIgnoreIfStateTheCarrierIsNotWatched() {
        var driver = InstanceDriver(testSettings { $0.ignoreInterfaceState = true })
        let now = driver.becomeMaster()
        #expect(driver.link(.noCarrier, at: now).isEmpty)
        #expect(driver.instance.machine.role == .master)
        // Only the advert timer wakes the loop, not a carrier check.
        #expect(driver.instance.nextDeadline == now + .seconds(1))
        _ = driver.time(now + .seconds(1))
        #expect(driver.instance.nextDeadline == now + .seconds(2))
    }

    // MARK: Packets

    @Test func dropWarningsAreRateLimitedPerKindAndSayHowManyWereHeldBack() {
        var driver = InstanceDriver()
        _ = driver.start()
        let ttl = AdvertisementError.badTTL(64)
        #expect(driver.frame(.dropped(ttl), at: t0) == [.log(.warning, "Bad TTL: [64]")])
        #expect(driver.frame(.dropped(ttl), at: t0 + .seconds(1)).isEmpty)
        #expect(driver.frame(.dropped(ttl), at: t0 + .seconds(29)).isEmpty)
        // Another kind has a window of its own.
        #expect(driver.frame(.dropped(.badVersion(3)), at: t0 + .seconds(29)) == [.log(.warning, "Bad version: [3]")])
        #expect(
            driver.frame(.dropped(ttl), at: t0 + .seconds(30)) == [
                .log(.warning, "Bad TTL: [64] (and 2 more like it not logged since the last)")
            ])
        #expect(driver.frame(.dropped(ttl), at: t0 + .seconds(100)) == [.log(.warning, "Bad TTL: [64]")])
        #expect(driver.instance.statistics.dropped == [.badTTL: 5, .badVersion: 1])
    }

    @Test func ordinaryDropsAreDebugLinesShownOnlyWithDebug() {
        var driver = InstanceDriver()
        #expect(driver.frame(.dropped(.otherVHID(7)), at: t0) == [.log(.debug, "Ignoring vhid: [7]")])
        var quiet = InstanceDriver(testSettings { $0.debug = false })
        #expect(quiet.frame(.dropped(.otherVHID(7)), at: t0).isEmpty)
        #expect(quiet.instance.statistics.dropped == [.otherVHID: 1])
        #expect(quiet.frame(.ignored, at: t0).isEmpty)
    }

    @Test func aPreferredMastersAdvertIsCountedAndSendsAMasterBack() {
        var driver = InstanceDriver(testSettings { $0.advskew = 100 })
        let now = driver.becomeMaster()
        let actions = driver.advert(advskew: 0, at: now + .milliseconds(500))
        #expect(actions.first == .log(.debug, "Advertisement from [192.0.2.12]: advbase 1 advskew 0"))
        #expect(actions.messages(at: .warning).contains("Switching to state: BACKUP"))
        #expect(driver.instance.statistics.advertisementsReceived == 1)
    }

    @Test func sendFailuresAreCountedLoggedAndReportedToTheElection() {
        var driver = InstanceDriver()
        let now = driver.becomeMaster()
        driver.sendFailure = .injection(interface: "eth0", message: "Network is down")
        var actions: [Action] = []
        for second in 1...3 {
            actions += driver.time(now + .seconds(UInt64(second)))
        }
        #expect(actions.messages(at: .warning) == Array(repeating: "write() has failed: Network is down", count: 4))
        #expect(actions.messages(at: .error) == ["write() error #3/3: advertising with advskew 240"])
        #expect(driver.instance.statistics.sendErrors == 4)
        #expect(driver.instance.statistics.advertisementsSent == 1)
    }

    // MARK: Start and failures

    @Test func startingGoesToBackupRunsTheDownScriptAndRecordsIt() {
        var driver = InstanceDriver()
        let actions = driver.start()
        #expect(
            actions == [
                .log(.warning, "Switching to state: BACKUP"),
                .log(.warning, "Spawning [/etc/down eth0 192.0.2.100]"),
                .spawn(
                    .init(value: 1),
                    .init(
                        path: "/etc/down", arguments: ["eth0", "192.0.2.100"],
                        environment: [
                            .init("CARP_STATE", "BACKUP"), .init("CARP_PREVIOUS_STATE", "INIT"),
                            .init("CARP_REASON", "startup"), .init("CARP_VHID", "1"), .init("CARP_INTERFACE", "eth0"),
                            .init("CARP_VIRTUAL_ADDRESS", "192.0.2.100"),
                            .init("CARP_VIRTUAL_ADDRESSES", "192.0.2.100"),
                            .init("CARP_SOURCE_ADDRESS", "192.0.2.11"),
                        ])),
                .recordState(state: .backup, previous: .initial, reason: .transition(.startup)),
            ])
        // The carrier check, a second from now, comes before the master-down timer.
        #expect(driver.instance.nextDeadline == t0 + .seconds(1))
    }

    @Test func withoutAStateFileNothingIsRecorded() {
        var driver = InstanceDriver(testSettings { $0.stateFile = nil })
        #expect(driver.start().states.isEmpty)
        #expect(driver.signal(.terminate, at: t0).states.isEmpty)
        // Dying, it takes nothing more.
        #expect(driver.signal(.terminate, at: t0).isEmpty)
    }

    @Test func aShellFailureBeforeTheStartLeavesWithItsStatusAfterTheDownScript() throws {
        var driver = InstanceDriver(testSettings { $0.shutdown = true })
        let actions = driver.carryOut(
            driver.instance.failed("write on /run/ucarp.pid failed", .startupFailed, at: t0), at: t0)
        #expect(actions.first == .log(.error, "write on /run/ucarp.pid failed"))
        #expect(actions.spawnedPaths == ["/etc/down"])
        let down = try #require(actions.spawned.first?.0)
        #expect(driver.exited(down, .exited(0), at: t0).exits == [.exit(.startupFailed)])
        // Too late to start.
        #expect(driver.instance.started(at: t0).isEmpty)
    }
}

@Suite struct InstanceSupervisorTests {
    /// A death, not a planned departure: the address goes at once even with a hand-over wait.
    @Test(arguments: [false, true])
    func aMasterWhoseSupervisorIsGoneHandsOverAndLeavesEvenWithoutShutdown(handOver: Bool) throws {
        var driver = InstanceDriver(testSettings { if handOver { $0.handOverWait = nil } })
        let now = driver.becomeMaster()
        let leaving = driver.carryOut(driver.instance.supervisorLost(at: now + .milliseconds(10)), at: now)
        #expect(leaving.messages(at: .error) == ["The supervisor is gone: leaving"])
        #expect(
            leaving.adverts == [.sendAdvertisement(advbase: 255, advskew: 255, counter: 1000 &+ CARPWire.counterStride)]
        )
        #expect(leaving.spawnedPaths == ["/etc/down"])
        let down = try #require(leaving.spawned.first?.0)
        #expect(driver.exited(down, .exited(0), at: now + .seconds(1)).exits == [.exit(.runtimeFailure)])
    }

    @Test func aSupervisedInstanceReportsEveryChangeWithoutAStateFile() {
        var driver = InstanceDriver(testSettings { $0.stateFile = nil })
        driver.instance.supervisorAttached()
        #expect(driver.start().states == ["BACKUP"])
        var plain = InstanceDriver(testSettings { $0.stateFile = nil })
        #expect(plain.start().states == [])
    }
}
