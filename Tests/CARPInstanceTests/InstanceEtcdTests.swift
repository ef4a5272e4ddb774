import CARPCore
import Testing
import UCarpConfiguration

@testable import CARPInstance
@testable import EtcdGuard

/// `--etcd` in the instance: MASTER only once the key is ours, BACKUP reported until then, the
/// lease lost leaves at once, a planned departure lets the lease go before the address.
@Suite struct InstanceEtcdTests {
    static let key = "/swiftcarp/1/192.0.2.100"

    static func guarded(_ adjust: (inout Settings) -> Void = { _ in }) -> Settings {
        testSettings {
            $0.etcd = EtcdSettings(endpoints: ["http://192.0.2.1:2379"])
            adjust(&$0)
        }
    }

    /// What a single etcd member answers: a lease of TTL 3, the key free unless `holder` has it.
    static func answer(to call: EtcdCall, holder: String? = nil) -> (Int, String) {
        switch call {
        case .grant: (200, #"{"ID":"42","TTL":"3"}"#)
        case .acquire:
            if let holder {
                (
                    200,
                    #"{"responses":[{"response_range":{"kvs":[{"key":"a2V5","value":""#
                        + Array(holder.utf8).base64 + #"","lease":"77"}]}}]}"#
                )
            } else {
                (200, #"{"succeeded":true}"#)
            }
        case .keepAlive: (200, #"{"result":{"ID":"42","TTL":"3"}}"#)
        // The holder lives: its lease has 2 s left or more.
        case .timeToLive: (200, #"{"ID":"77","TTL":"2","grantedTTL":"3"}"#)
        case .revoke: (200, #"{"header":{}}"#)
        case .authenticate: (200, #"{"token":"t"}"#)
        case .read:
            if let holder {
                (
                    200,
                    #"{"kvs":[{"key":"a2V5","value":""# + Array(holder.utf8).base64 + #"","lease":"77"}],"count":"1"}"#
                )
            } else {
                (200, #"{"header":{}}"#)
            }
        }
    }

    /// A driver whose host is called alpha.
    static func driver(_ settings: Settings = guarded()) -> InstanceDriver {
        var driver = InstanceDriver(settings)
        driver.instance = Instance(
            settings: settings, interfaceName: "eth0", initialCounter: 1000, version: "9.9.9", hostName: "alpha")
        driver.instance.addressWatchStarted(interfaceIndex: InstanceDriver.interfaceIndex)
        return driver
    }

    /// Started, then run until CARP would make it master; returns when, and what happened then.
    static func wouldBeMaster(_ driver: inout InstanceDriver) -> (MonotonicInstant, [Action]) {
        for (id, _) in driver.start().spawned {
            _ = driver.exited(id, .exited(0), at: t0)
        }
        while let deadline = driver.instance.nextDeadline, deadline < t0 + .seconds(60) {
            let actions = driver.link(.running, at: deadline) + driver.time(deadline)
            if driver.instance.machine.role == .master { return (deadline, actions) }
        }
        preconditionFailure("CARP never made it master")
    }

    /// Master with the key: the grant and the transaction answered 10 ms apart, the up script
    /// reported finished. Returns when mastership was granted.
    static func master(_ driver: inout InstanceDriver) -> MonotonicInstant {
        let (now, actions) = wouldBeMaster(&driver)
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        let granted = driver.answer(acquire.etcdRequests, at: now + .milliseconds(20))
        for (id, _) in granted.spawned { _ = driver.exited(id, .exited(0), at: now + .milliseconds(30)) }
        return now + .milliseconds(20)
    }

    @Test func withoutEtcdThereIsNoGateAndTheHandOverWaitStands() {
        let driver = InstanceDriver()
        #expect(driver.instance.etcd == nil)
        #expect(Instance.handOverWait(Self.guarded { $0.handOverWait = nil }) == nil)
        #expect(Instance.handOverWait(testSettings { $0.handOverWait = nil }) == .seconds(2))
    }

    @Test func startUpSaysWhyItMayNotBeMasterYet() {
        var driver = Self.driver()
        #expect(
            driver.start().messages.first
                == "etcd: MASTER only while holding key \(Self.key) (lease TTL 3 s, --etcd-unreachable=release, "
                + "http://192.0.2.1:2379): BACKUP until then")
    }

    @Test func aWouldBeMasterStaysBackupButAdvertisesUntilTheKeyIsOurs() throws {
        var driver = Self.driver()
        let (now, actions) = Self.wouldBeMaster(&driver)
        #expect(!actions.messages.contains("Switching to state: MASTER"))
        #expect(
            actions.messages.contains("etcd: CARP would make us MASTER (master-silent): taking key \(Self.key) first"))
        #expect(actions.spawnedPaths.isEmpty)
        #expect(actions.states.isEmpty)
        #expect(!actions.contains(.announceAddresses))
        #expect(actions.adverts.count == 1)
        #expect(actions.etcdRequests.map(\.call) == [.grant(ttl: 3)])
        #expect(driver.instance.reportedRole == .backup)
        #expect(driver.signal(.user1, at: now).messages.first == "BACKUP on eth0 id 1")
        // While etcd answers (the key held elsewhere), CARP goes on advertising as the master it would be.
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        let held = driver.answer(acquire.etcdRequests, holder: "192.0.2.12 beta", at: now + .milliseconds(20))
        // How long the holder's lease has left: 2 s, the next try a second after the last.
        #expect(held.etcdRequests.map(\.call) == [.timeToLive(lease: 77)])
        _ = driver.answer(held.etcdRequests, at: now + .milliseconds(30))
        #expect(driver.time(now + .seconds(1)).adverts.count == 1)
    }

    @Test func theKeyTakenTheMasterTermIsReportedWithItsUpScriptThenItsARP() throws {
        var driver = Self.driver()
        let (now, actions) = Self.wouldBeMaster(&driver)
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        #expect(
            acquire.etcdRequests.map(\.call) == [
                .acquire(key: Self.key, value: "192.0.2.11 alpha", lease: 42)
            ])
        let granted = driver.answer(acquire.etcdRequests, at: now + .milliseconds(20))
        #expect(granted.messages(at: .warning).first == "Switching to state: MASTER")
        #expect(granted.states == ["MASTER"])
        let up = try #require(granted.spawned.first)
        #expect(up.1.path == "/etc/up")
        #expect(up.1.environment.contains(.init("CARP_REASON", "master-silent")))
        #expect(up.1.environment.contains(.init("CARP_PREVIOUS_STATE", "BACKUP")))
        #expect(up.1.environment.contains(.init("CARP_ETCD_KEY", Self.key)))
        #expect(up.1.environment.contains(.init("CARP_ETCD_LEASE", "42")))
        #expect(!granted.contains(.announceAddresses))
        #expect(driver.exited(up.0, .exited(0), at: now + .milliseconds(40)).contains(.announceAddresses))
        #expect(driver.instance.reportedRole == .master)
        #expect(
            driver.signal(.user1, at: now + .seconds(1)).messages.last == "etcd: key \(Self.key), held with lease 42")
    }

    @Test func aKeyHeldElsewhereKeepsItBackupAndIsTriedAgainEachInterval() {
        var driver = Self.driver()
        let (now, actions) = Self.wouldBeMaster(&driver)
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        let held = driver.answer(acquire.etcdRequests, holder: "192.0.2.12 beta", at: now + .milliseconds(20))
        #expect(held.messages.contains("etcd: key \(Self.key) is held by 192.0.2.12 beta (lease 77)"))
        #expect(held.states.isEmpty)
        #expect(driver.instance.reportedRole == .backup)
        #expect(
            driver.signal(.user1, at: now + .milliseconds(30)).messages.last
                == "etcd: key \(Self.key), held by 192.0.2.12 beta (lease 77)")
        _ = driver.answer(held.etcdRequests, at: now + .milliseconds(40))
        // The contending lease is renewed first, then the key tried again a second after the last try.
        let renewal = driver.run(until: now + .milliseconds(1020))
        #expect(renewal.etcdRequests.map(\.call) == [.keepAlive(lease: 42)])
        let retry = driver.answer(renewal.etcdRequests, at: now + .milliseconds(1030))
        #expect(retry.etcdRequests.map(\.call) == [.acquire(key: Self.key, value: "192.0.2.11 alpha", lease: 42)])
    }

    @Test func theHoldersLeavingAdvertMakesABlockedMasterTryAtOnce() {
        var driver = Self.driver()
        let (now, actions) = Self.wouldBeMaster(&driver)
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        _ = driver.answer(acquire.etcdRequests, holder: "192.0.2.12 beta", at: now + .milliseconds(20))
        let leaving = driver.frame(
            .accepted(.init(source: peer, advbase: 255, advskew: 255, counter: 9)), at: now + .milliseconds(300))
        #expect(leaving.etcdRequests.map(\.call) == [.acquire(key: Self.key, value: "192.0.2.11 alpha", lease: 42)])
        #expect(!leaving.contains(.announceAddresses))
    }

    /// Where each of these happens in `actions`: the down script's spawn, the revoke request,
    /// the leaving advert (nil if absent).
    static func order(_ actions: [Action]) -> (spawn: Int?, revoke: Int?, advert: Int?) {
        (
            actions.firstIndex { if case .spawn(_, let command) = $0 { command.path == "/etc/down" } else { false } },
            actions.firstIndex {
                if case .etcdRequest(let request) = $0 { request.call == .revoke(lease: 42) } else { false }
            },
            actions.firstIndex { if case .sendAdvertisement(255, 255, _) = $0 { true } else { false } }
        )
    }

    @Test func aLeaseNotRenewedInTimeRunsTheDownScriptAtOnceThenRevokesThenSendsTheLeavingAdvert() throws {
        var driver = Self.driver()
        let granted = Self.master(&driver)
        // No renewal is ever answered: the deadline is the grant's send time + 3 s - 0.5 s.
        let lost = driver.run(until: granted + .seconds(3))
        #expect(lost.messages(at: .warning).contains("Switching to state: BACKUP"))
        let down = try #require(lost.spawned.first)
        #expect(down.1.path == "/etc/down")
        #expect(down.1.environment.contains(.init("CARP_REASON", "lease-lost")))
        #expect(down.1.environment.contains(.init("CARP_ETCD_LEASE", "42")))
        // The lease lost still keeps the key from the next host until etcd expires it: the
        // down script runs in that margin, and only its end revokes the lease.
        #expect(Self.order(lost).revoke == nil)
        #expect(Self.order(lost).advert == nil)
        #expect(lost.states == ["BACKUP"])
        #expect(driver.instance.machine.role == .backup)
        #expect(driver.instance.etcd?.losses == 1)
        let done = driver.exited(down.0, .exited(0), at: granted + .milliseconds(2600))
        #expect(done.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        #expect(Self.order(done).advert == nil)
        let released = driver.answer(done.etcdRequests, at: granted + .milliseconds(2610))
        #expect(Self.order(released).advert != nil)
        #expect(driver.instance.etcd?.release == nil)
    }

    @Test func aStepDownRunsTheDownScriptThenRevokesTheLeaseThenSendsTheLeavingAdvert() throws {
        var driver = Self.driver()
        let granted = Self.master(&driver)
        let leaving = driver.signal(.user2, at: granted + .milliseconds(100))
        #expect(leaving.states == ["BACKUP"])
        let down = try #require(leaving.spawned.first)
        #expect(down.1.path == "/etc/down")
        #expect(down.1.environment.contains(.init("CARP_REASON", "step-down")))
        #expect(down.1.environment.contains(.init("CARP_ETCD_LEASE", "42")))
        #expect(leaving.etcdRequests.isEmpty)
        #expect(leaving.adverts.isEmpty)
        let done = driver.exited(down.0, .exited(0), at: granted + .milliseconds(120))
        #expect(done.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        #expect(done.adverts.isEmpty)
        let released = driver.answer(done.etcdRequests, at: granted + .milliseconds(130))
        #expect(released.messages.contains("etcd: key \(Self.key) released: letting [192.0.2.100] go"))
        #expect(released.spawned.isEmpty)
        #expect(released.adverts.count == 1)
        let timeline = Self.order(leaving + done + released)
        let (spawn, revoke, advert) = (
            try #require(timeline.spawn), try #require(timeline.revoke), try #require(timeline.advert)
        )
        #expect(spawn < revoke && revoke < advert)
    }

    @Test func withSeveralAddressesTheLeaseGoesOnlyWhenTheLastAddressesDownScriptHasEnded() throws {
        let ipv6 = try #require(IPv6Address("2001:db8::100"))
        let settings = Self.guarded {
            $0.virtualAddresses = [.ipv4(IPv4Address(192, 0, 2, 100)), .ipv6(ipv6)]
            $0.virtualAddressArguments = ["192.0.2.100", "2001:db8::100"]
        }
        var driver = Self.driver(settings)
        let granted = Self.master(&driver)
        driver.finishScripts(at: granted + .milliseconds(60))
        let leaving = driver.signal(.user2, at: granted + .milliseconds(100))
        let first = try #require(leaving.spawned.first)
        #expect(first.1.arguments == ["eth0", "192.0.2.100"])
        #expect(leaving.etcdRequests.isEmpty)
        // The first address gone, the second still here: the key stays ours.
        let between = driver.exited(first.0, .exited(0), at: granted + .milliseconds(110))
        let second = try #require(between.spawned.first)
        #expect(second.1.arguments == ["eth0", "2001:db8::100"])
        #expect(second.1.environment.contains(.init("CARP_ETCD_LEASE", "42")))
        #expect(between.etcdRequests.isEmpty)
        #expect(between.adverts.isEmpty)
        let done = driver.exited(second.0, .exited(0), at: granted + .milliseconds(120))
        #expect(done.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        let released = driver.answer(done.etcdRequests, at: granted + .milliseconds(130))
        #expect(released.messages.contains("etcd: key \(Self.key) released: letting [192.0.2.100 2001:db8::100] go"))
        #expect(released.adverts.count == 1)
    }

    @Test func theNotifyScriptRunsAfterTheDownScriptAndTheLeaseGoesWhenTheDownScriptEnds() throws {
        var driver = Self.driver(Self.guarded { $0.notify = ["/etc/notify"] })
        let granted = Self.master(&driver)
        // The scripts of the start and of MASTER (up, notify), done.
        driver.finishScripts(at: granted + .milliseconds(60))
        #expect(driver.instance.reportedRole == .master)
        let leaving = driver.signal(.user2, at: granted + .milliseconds(100))
        #expect(leaving.spawnedPaths == ["/etc/down"])
        let down = try #require(leaving.spawned.first)
        let done = driver.exited(down.0, .exited(0), at: granted + .milliseconds(120))
        #expect(done.spawnedPaths == ["/etc/notify"])
        #expect(done.etcdRequests.map(\.call) == [.revoke(lease: 42)])
    }

    @Test func aSlowDownScriptKeepsTheLeaseRenewedAndTheKeyOursUntilItEnds() throws {
        var driver = Self.driver()
        let granted = Self.master(&driver)
        let leaving = driver.signal(.user2, at: granted + .milliseconds(100))
        let down = try #require(leaving.spawned.first)
        // Two seconds of down script: renewals go out and are answered, nothing else.
        var meanwhile: [Action] = []
        var now = granted + .milliseconds(100)
        while now < granted + .milliseconds(2100) {
            now = now + .milliseconds(50)
            let actions = driver.run(until: now)
            meanwhile += actions
            if !actions.etcdRequests.isEmpty { meanwhile += driver.answer(actions.etcdRequests, at: now) }
        }
        #expect(!meanwhile.etcdRequests.isEmpty)
        #expect(meanwhile.etcdRequests.allSatisfy { $0.call == .keepAlive(lease: 42) })
        #expect(meanwhile.adverts.isEmpty)
        #expect(!meanwhile.messages(at: .warning).contains { $0.hasPrefix("etcd:") })
        #expect(driver.instance.etcd?.lease.isMaster == true)
        let done = driver.exited(down.0, .exited(0), at: now)
        #expect(done.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        #expect(driver.answer(done.etcdRequests, at: now + .milliseconds(10)).adverts.count == 1)
    }

    @Test func aDownScriptKilledByItsTimeoutLetsTheLeaseGoOnceReaped() throws {
        var driver = Self.driver(Self.guarded { $0.scriptTimeout = .seconds(1) })
        let granted = Self.master(&driver)
        let leaving = driver.signal(.user2, at: granted + .milliseconds(100))
        let down = try #require(leaving.spawned.first)
        let killed = driver.time(granted + .milliseconds(1100))
        #expect(killed.killed == [down.0])
        #expect(!killed.etcdRequests.contains { $0.call == .revoke(lease: 42) })
        #expect(killed.adverts.isEmpty)
        let reaped = driver.exited(down.0, .killed(signal: 9), at: granted + .milliseconds(1110))
        #expect(reaped.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        #expect(driver.answer(reaped.etcdRequests, at: granted + .milliseconds(1120)).adverts.count == 1)
    }

    /// With `--shutdown`, and without it (`--etcd` implies it): TERM runs the down script, then
    /// releases the lease, then sends the leaving advert and exits.
    @Test(arguments: [true, false])
    func aTerminationRunsTheDownScriptThenReleasesThenExits(shutdown: Bool) throws {
        let settings = Self.guarded { $0.shutdown = shutdown }
        #expect(
            Instance.EtcdGate.shutdownLine(settings)
                == (shutdown
                    ? nil
                    : "etcd: --etcd implies --shutdown: a master leaves by its down script, then revokes the lease"))
        var driver = Self.driver(settings)
        let granted = Self.master(&driver)
        let leaving = driver.signal(.terminate, at: granted + .milliseconds(100))
        #expect(leaving.exits.isEmpty)
        let down = try #require(leaving.spawned.first)
        #expect(down.1.path == "/etc/down")
        #expect(leaving.etcdRequests.isEmpty)
        #expect(leaving.adverts.isEmpty)
        let done = driver.exited(down.0, .exited(0), at: granted + .milliseconds(150))
        #expect(done.exits.isEmpty)
        #expect(done.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        let released = driver.answer(done.etcdRequests, at: granted + .milliseconds(160))
        #expect(released.adverts.count == 1)
        #expect(released.exits == [.exit(.success)])
    }

    @Test func aReleaseThatGetsNoAnswerLetsGoWhenTheRequestTimesOut() throws {
        var driver = Self.driver(Self.guarded { $0.shutdown = true })
        let granted = Self.master(&driver)
        let leaving = driver.signal(.terminate, at: granted + .milliseconds(100))
        let down = try #require(leaving.spawned.first)
        _ = driver.exited(down.0, .exited(0), at: granted + .milliseconds(110))
        #expect(driver.time(granted + .milliseconds(500)).adverts.isEmpty)
        let revoke = try #require(driver.instance.etcd?.lease.inFlight?.request)
        #expect(revoke.call == .revoke(lease: 42))
        let released = driver.run(until: granted + .milliseconds(700))
        #expect(released.contains(.etcdCancel(requestID: revoke.id)))
        #expect(released.adverts.count == 1)
        #expect(released.exits == [.exit(.success)])
    }

    @Test func aPreferredMastersAdvertMakesTheHolderYieldWithItsDownScriptBeforeTheRevoke() throws {
        var driver = Self.driver(Self.guarded { $0.advskew = 100 })
        let granted = Self.master(&driver)
        let yielded = driver.advert(advskew: 0, at: granted + .milliseconds(200))
        #expect(yielded.states == ["BACKUP"])
        let down = try #require(yielded.spawned.first)
        #expect(down.1.environment.contains(.init("CARP_REASON", "preferred-master")))
        #expect(yielded.etcdRequests.isEmpty)
        #expect(Self.order(yielded).advert == nil)
        let done = driver.exited(down.0, .exited(0), at: granted + .milliseconds(210))
        #expect(done.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        // CARP's yield sends no leaving advert (the preferred host is advertising already).
        let released = driver.answer(done.etcdRequests, at: granted + .milliseconds(220))
        #expect(released.messages.contains("etcd: key \(Self.key) released: letting [192.0.2.100] go"))
        #expect(driver.instance.etcd?.release == nil)
    }

    @Test func aBlockedMasterThatFallsBackToBackupReportsNothingAndGivesUpItsLease() {
        var driver = Self.driver(Self.guarded { $0.advskew = 100 })
        let (now, actions) = Self.wouldBeMaster(&driver)
        _ = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        let back = driver.advert(advskew: 0, at: now + .milliseconds(50))
        #expect(back.states.isEmpty)
        #expect(back.spawnedPaths.isEmpty)
        #expect(!back.messages.contains("Switching to state: BACKUP"))
        #expect(back.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        #expect(driver.instance.reportedRole == .backup)
    }

    @Test func aHolderElectedAgainWhileItsDownScriptRunsKeepsTheKeyAndRunsItsUpScriptAfter() throws {
        var driver = Self.driver(Self.guarded { $0.advskew = 100 })
        let granted = Self.master(&driver)
        let yielded = driver.advert(advskew: 0, at: granted + .milliseconds(200))
        let down = try #require(yielded.spawned.first)
        // The preferred host falls silent while the down script still runs: CARP elects us again.
        var meanwhile: [Action] = []
        var now = granted + .milliseconds(200)
        while driver.instance.machine.role != .master, now < granted + .seconds(10) {
            now = now + .milliseconds(50)
            let actions = driver.run(until: now)
            meanwhile += actions
            if !actions.etcdRequests.isEmpty { meanwhile += driver.answer(actions.etcdRequests, at: now) }
        }
        #expect(driver.instance.machine.role == .master)
        #expect(meanwhile.states == ["MASTER"])
        #expect(!meanwhile.etcdRequests.contains { $0.call == .revoke(lease: 42) })
        #expect(!meanwhile.etcdRequests.contains { $0.call == .grant(ttl: 3) })
        // The up script waits for the down script; the lease stays ours, the release is off.
        #expect(meanwhile.spawned.isEmpty)
        let done = driver.exited(down.0, .exited(0), at: now + .milliseconds(10))
        #expect(done.spawnedPaths == ["/etc/up"])
        #expect(done.etcdRequests.isEmpty)
        #expect(Self.order(done).advert == nil)
        #expect(driver.instance.etcd?.release == nil)
        #expect(driver.instance.reportedRole == .master)
    }

    @Test func aCarrierLostRunsTheDownScriptAtOnceAndGivesTheLeaseUpAfterIt() throws {
        var driver = Self.driver()
        let granted = Self.master(&driver)
        let lost = driver.link(.noCarrier, at: granted + .milliseconds(100))
        #expect(lost.states == ["BACKUP"])
        let down = try #require(lost.spawned.first)
        #expect(down.1.environment.contains(.init("CARP_REASON", "carrier-lost")))
        #expect(lost.etcdRequests.isEmpty)
        let done = driver.exited(down.0, .exited(0), at: granted + .milliseconds(110))
        #expect(done.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        _ = driver.answer(done.etcdRequests, at: granted + .milliseconds(120))
        #expect(driver.instance.etcd?.release == nil)
    }

    @Test func aBlockedMasterHearingALessPreferredMasterDoesNotClaimToReassertTheAddress() {
        var driver = Self.driver()
        let (now, actions) = Self.wouldBeMaster(&driver)
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        _ = driver.answer(acquire.etcdRequests, holder: "192.0.2.12 beta", at: now + .milliseconds(20))
        let heard = driver.advert(advskew: 100, at: now + .milliseconds(300))
        #expect(!heard.messages.contains(CARPStateMachine.Note.reasserting.message))
        #expect(!heard.contains(.announceAddresses))
        #expect(driver.instance.reportedRole == .backup)
    }

    @Test func aMasterHoldingTheKeyReassertsTheAddressAsUcarpSaysIt() {
        var driver = Self.driver()
        let granted = Self.master(&driver)
        let heard = driver.advert(advskew: 100, at: granted + .milliseconds(300))
        #expect(heard.messages(at: .warning).contains(CARPStateMachine.Note.reasserting.message))
        #expect(heard.contains(.announceAddresses))
    }

    @Test func aPreemptingBackupSaysItWaitsForTheKeyRatherThanPuttingTheMasterDown() {
        var driver = Self.driver(Self.guarded { $0.preempt = true })
        for (id, _) in driver.start().spawned { _ = driver.exited(id, .exited(0), at: t0) }
        let heard = driver.advert(advskew: 100, at: t0 + .milliseconds(500))
        #expect(!heard.messages.contains(CARPStateMachine.Note.preempting(.ipv4(IPv4Address(0, 0, 0, 0))).message))
        #expect(
            heard.messages(at: .info).contains(
                "etcd: preempting [192.0.2.12]: advertising as the preferred master until it lets key \(Self.key) go"))
        #expect(heard.etcdRequests.map(\.call) == [.grant(ttl: 3)])
        #expect(driver.instance.reportedRole == .backup)
    }

    @Test func aPreferredHostWhoseEtcdFailsYieldsAndDoesNotPreemptAgainUntilItAnswers() throws {
        var driver = Self.driver(Self.guarded { $0.preempt = true })
        for (id, _) in driver.start().spawned { _ = driver.exited(id, .exited(0), at: t0) }
        let heard = driver.advert(advskew: 100, at: t0 + .milliseconds(500))
        let grant = try #require(heard.etcdRequests.first)
        #expect(grant.call == .grant(ttl: 3))
        let failed = driver.fail([grant], at: t0 + .milliseconds(510))
        #expect(
            failed.messages(at: .warning).contains(
                "etcd: cannot take key \(Self.key) (grant at endpoint 1 failed: connection refused): back to BACKUP, "
                    + "not preempting until etcd answers"))
        #expect(failed.adverts.map { if case .sendAdvertisement(255, 255, _) = $0 { true } else { false } } == [true])
        #expect(failed.states.isEmpty)
        #expect(failed.spawnedPaths.isEmpty)
        #expect(driver.instance.machine.role == .backup)
        // Ten seconds of the holder's adverts, well past the hold: no preemption, only look-ups
        // (each refused) to learn when etcd answers again.
        var tenSeconds: [Action] = []
        for tenth in stride(from: 10, through: 100, by: 10) {
            let now = t0 + .milliseconds(UInt64(tenth) * 100 + 500)
            let actions = driver.run(until: now) + driver.advert(advskew: 100, at: now)
            tenSeconds += actions + driver.fail(actions.etcdRequests, at: now + .milliseconds(5))
        }
        #expect(driver.instance.machine.role == .backup)
        #expect(!tenSeconds.messages.contains { $0.hasPrefix("etcd: preempting") })
        #expect(!tenSeconds.contains { if case .sendAdvertisement(255, 255, _) = $0 { true } else { false } })
        #expect(tenSeconds.etcdRequests.allSatisfy { $0.call == .read(key: Self.key) })
        #expect(tenSeconds.etcdRequests.count >= 5)
        // etcd answers the next look-up: the next advert of the holder is preempted, the key taken.
        let probe = driver.run(until: t0 + .milliseconds(11_000))
        let read = try #require(probe.etcdRequests.first)
        let answered = driver.answer([read], holder: "192.0.2.12 beta", at: t0 + .milliseconds(11_010))
        #expect(answered.messages(at: .info).contains("etcd: answering again: preempting again when CARP says so"))
        let preempted = driver.advert(advskew: 100, at: t0 + .milliseconds(11_100))
        #expect(preempted.messages(at: .info).contains { $0.hasPrefix("etcd: preempting [192.0.2.12]") })
        let acquire = driver.answer(preempted.etcdRequests, at: t0 + .milliseconds(11_110))
        let granted = driver.answer(acquire.etcdRequests, at: t0 + .milliseconds(11_120))
        #expect(granted.states == ["MASTER"])
        #expect(driver.instance.reportedRole == .master)
    }

    @Test func aSuspendedHostMadeMasterByTheHoldersSilenceStepsDownAgainWhileItsEtcdFails() throws {
        var driver = Self.driver(Self.guarded { $0.preempt = true })
        for (id, _) in driver.start().spawned { _ = driver.exited(id, .exited(0), at: t0) }
        let heard = driver.advert(advskew: 100, at: t0 + .milliseconds(500))
        _ = driver.fail(heard.etcdRequests, at: t0 + .milliseconds(510))
        #expect(driver.instance.machine.preemptionSuspended)
        // The holder falls silent; etcd stays unreachable: every call fails.
        var later: [Action] = []
        var now = t0 + .milliseconds(600)
        while now < t0 + .seconds(20) {
            let actions = driver.run(until: now)
            later += actions + driver.fail(actions.etcdRequests, at: now + .milliseconds(5))
            now = now + .milliseconds(100)
        }
        // CARP made it master more than once (the master-down timer after each hold); each
        // time it stepped down again with a leaving advert, never reported MASTER, and said so
        // once only (the first time, above).
        let leavingAdverts = later.filter { if case .sendAdvertisement(255, 255, _) = $0 { true } else { false } }
        #expect(leavingAdverts.count >= 2)
        #expect(later.states.isEmpty)
        #expect(driver.instance.reportedRole == .backup)
        #expect(!later.messages(at: .warning).contains { $0.hasPrefix("etcd: cannot take key") })
        #expect(later.messages(at: .debug).contains { $0.hasPrefix("etcd: cannot take key") })
    }

    @Test func aLeaseLostKillsTheUpScriptStillRunningAndRunsTheDownScriptsFirst() throws {
        let ipv6 = try #require(IPv6Address("2001:db8::100"))
        var driver = Self.driver(
            Self.guarded {
                $0.virtualAddresses = [.ipv4(IPv4Address(192, 0, 2, 100)), .ipv6(ipv6)]
                $0.virtualAddressArguments = ["192.0.2.100", "2001:db8::100"]
            })
        let (now, actions) = Self.wouldBeMaster(&driver)
        driver.finishScripts(at: now)
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        let granted = driver.answer(acquire.etcdRequests, at: now + .milliseconds(20))
        let up = try #require(granted.spawned.first)
        #expect(up.1.path == "/etc/up")
        // The first up script hangs, the second waits behind it; no renewal is answered.
        let lost = driver.run(until: now + .seconds(3))
        #expect(lost.states == ["BACKUP"])
        #expect(lost.killed == [up.0])
        #expect(
            lost.messages(at: .warning).contains(
                "etcd: lease-lost: killing [/etc/up eth0 192.0.2.100] so that the down script runs within the "
                    + "lease's margin"))
        #expect(lost.messages(at: .warning).contains("etcd: lease-lost: not running [/etc/up eth0 2001:db8::100]"))
        #expect(lost.spawned.isEmpty)
        let reaped = driver.exited(up.0, .killed(signal: 9), at: now + .milliseconds(3010))
        let down = try #require(reaped.spawned.first)
        #expect(down.1.path == "/etc/down")
        #expect(down.1.arguments == ["eth0", "192.0.2.100"])
        let between = driver.exited(down.0, .exited(0), at: now + .milliseconds(3020))
        let second = try #require(between.spawned.first)
        #expect(second.1.path == "/etc/down")
        #expect(second.1.arguments == ["eth0", "2001:db8::100"])
        let done = driver.exited(second.0, .exited(0), at: now + .milliseconds(3030))
        #expect(done.etcdRequests.map(\.call) == [.revoke(lease: 42)])
        #expect(done.spawned.isEmpty)
    }

    @Test func aLeaseLostKillsTheAddressLostRepairAndRunsTheDownScriptAtOnce() throws {
        var driver = Self.driver()
        let granted = Self.master(&driver)
        let vanished = driver.routes(
            [.addressRemoved(interfaceIndex: InstanceDriver.interfaceIndex, address: IPv4Address(192, 0, 2, 100))],
            at: granted + .milliseconds(100))
        let repair = try #require(vanished.spawned.first)
        #expect(repair.1.path == "/etc/up")
        let lost = driver.run(until: granted + .seconds(3))
        #expect(lost.killed == [repair.0])
        #expect(lost.messages(at: .warning).contains { $0.hasPrefix("etcd: lease-lost: killing [/etc/up eth0") })
        let reaped = driver.exited(repair.0, .killed(signal: 9), at: granted + .milliseconds(2600))
        let down = try #require(reaped.spawned.first)
        #expect(down.1.path == "/etc/down")
        #expect(down.1.environment.contains(.init("CARP_REASON", "lease-lost")))
    }

    @Test func withShutdownGivenTheStartUpSaysNothingOfIt() {
        var driver = Self.driver(Self.guarded { $0.shutdown = true })
        #expect(!driver.start().messages.contains { $0.contains("implies --shutdown") })
        #expect(!testSettings().shutsDown)
        #expect(Self.guarded().shutsDown)
    }

    @Test func withoutEtcdAPreemptingBackupPutsTheMasterDownAsUcarpSaysIt() {
        var driver = InstanceDriver(testSettings { $0.preempt = true })
        for (id, _) in driver.start().spawned { _ = driver.exited(id, .exited(0), at: t0) }
        let heard = driver.advert(advskew: 100, at: t0 + .milliseconds(500))
        #expect(heard.messages(at: .warning).contains("Putting MASTER down - preemption"))
    }

    @Test func aBlockedMasterThatFailsItsCheckGoesFromBackupToFaultWithoutADownScript() {
        var driver = Self.driver()
        let (now, actions) = Self.wouldBeMaster(&driver)
        _ = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        let failed = driver.carryOut(
            driver.instance.healthChanged(healthy: false, at: now + .milliseconds(50)), at: now)
        #expect(failed.states == ["FAULT"])
        #expect(failed.spawnedPaths.isEmpty)
        #expect(failed.adverts.map { if case .sendAdvertisement(255, 255, _) = $0 { true } else { false } } == [true])
        let record = failed.first { if case .recordState = $0 { true } else { false } }
        #expect(record == .recordState(state: .fault, previous: .backup, reason: .transition(.healthCheckFailed)))
    }

    /// A backup hears the master; after twice the TTL it looks the key up.
    static func backupHearingAMaster(_ driver: inout InstanceDriver) -> ([Action], MonotonicInstant) {
        for (id, _) in driver.start().spawned { _ = driver.exited(id, .exited(0), at: t0) }
        var heard: [Action] = []
        var now = t0
        for second in 0...6 {
            now = t0 + .milliseconds(UInt64(second) * 1000 + 500)
            heard += driver.run(until: now) + driver.advert(advskew: 0, at: now)
        }
        return (heard, now)
    }

    @Test func aBackupThatHearsAMasterWithoutTheKeySaysSoOnce() throws {
        var driver = Self.driver(Self.guarded { $0.advskew = 100 })
        let (heard, now) = Self.backupHearingAMaster(&driver)
        let read = try #require(heard.etcdRequests.first)
        #expect(read.call == .read(key: Self.key))
        let message =
            "etcd: 192.0.2.12 advertises as MASTER while key \(Self.key) is free: it cannot reach etcd, or runs "
            + "without --etcd or with another key (every host of the group must run the guard)"
        #expect(driver.answer([read], at: now).messages(at: .warning) == [message])
        // Thirty seconds later: the same finding, not said again.
        var again: [Action] = []
        for second in 7...38 { again += driver.advert(advskew: 0, at: t0 + .seconds(UInt64(second))) }
        again += driver.run(until: t0 + .seconds(38))
        let second = try #require(again.etcdRequests.first)
        #expect(driver.answer([second], at: t0 + .seconds(38)).messages(at: .warning).isEmpty)
    }

    @Test func withEtcdUserABackupAuthenticatesToLookUpTheKeyOfTheMasterItHears() throws {
        var driver = Self.driver(
            Self.guarded {
                $0.advskew = 100
                $0.etcd?.user = "carp"
                $0.etcd?.password = "carppw"
            })
        let (heard, now) = Self.backupHearingAMaster(&driver)
        #expect(heard.etcdRequests.map(\.call) == [.authenticate(user: "carp", password: "carppw")])
        let read = driver.answer(heard.etcdRequests, at: now)
        #expect(read.etcdRequests.map(\.call) == [.read(key: Self.key)])
        #expect(read.etcdRequests.first?.token == "t")
        let answered = driver.answer(read.etcdRequests, at: now + .milliseconds(5))
        #expect(
            answered.messages(at: .warning).first?.hasPrefix("etcd: 192.0.2.12 advertises as MASTER while key") == true)
    }

    @Test func aBackupWhoseMasterHoldsTheKeySaysNothing() throws {
        var driver = Self.driver(Self.guarded { $0.advskew = 100 })
        let (heard, now) = Self.backupHearingAMaster(&driver)
        let read = try #require(heard.etcdRequests.first)
        #expect(driver.answer([read], holder: "192.0.2.12 beta", at: now).messages(at: .warning).isEmpty)
        #expect(driver.instance.reportedRole == .backup)
    }

    @Test func theMetricsFollowTheReportedRoleTheKeyAndTheLosses() {
        var driver = Self.driver(Self.guarded { $0.metricsFile = "/run/ucarp.prom" })
        let (now, actions) = Self.wouldBeMaster(&driver)
        #expect(driver.instance.metricsSnapshot.role == .backup)
        #expect(driver.instance.metricsSnapshot.etcd == .init(holdsKey: false, leaseLosses: 0))
        let acquire = driver.answer(actions.etcdRequests, at: now + .milliseconds(10))
        _ = driver.answer(acquire.etcdRequests, at: now + .milliseconds(20))
        #expect(driver.instance.metricsSnapshot.role == .master)
        #expect(driver.instance.metricsSnapshot.etcd == .init(holdsKey: true, leaseLosses: 0))
        _ = driver.run(until: now + .seconds(3))
        #expect(driver.instance.metricsSnapshot.role == .backup)
        #expect(driver.instance.metricsSnapshot.etcd == .init(holdsKey: false, leaseLosses: 1))
    }
}

extension InstanceDriver {
    /// etcd's answer to the one request among `requests`, after the fake member's rules.
    mutating func answer(
        _ requests: [EtcdLeaseGuard.Request], holder: String? = nil, at now: MonotonicInstant
    ) -> [Action] {
        guard let request = requests.last else {
            Issue.record("no etcd request to answer")
            return []
        }
        let (status, body) = InstanceEtcdTests.answer(to: request.call, holder: holder)
        return carryOut(
            instance.etcdAnswered(status: status, body: Array(body.utf8), for: request.id, at: now), at: now)
    }
}

extension InstanceDriver {
    /// The requests among `requests` go unanswered: connection refused.
    mutating func fail(_ requests: [EtcdLeaseGuard.Request], at now: MonotonicInstant) -> [Action] {
        requests.flatMap { request in
            carryOut(
                instance.etcdFailed(requestID: request.id, reason: "connection refused", at: now), at: now)
        }
    }
}

extension [Action] {
    var etcdRequests: [EtcdLeaseGuard.Request] {
        compactMap {
            guard case .etcdRequest(let request) = $0 else { return nil }
            return request
        }
    }
}

extension [UInt8] {
    /// Standard base64 with padding, as etcd's gateway writes keys and values.
    var base64: String {
        let alphabet = [Character]("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var text = ""
        for start in stride(from: 0, to: count, by: 3) {
            let chunk = Array(self[start..<Swift.min(start + 3, count)])
            let bits = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for index in 0..<4 {
                text.append(index <= chunk.count ? alphabet[(bits >> (18 - 6 * index)) & 63] : "=")
            }
        }
        return text
    }
}
