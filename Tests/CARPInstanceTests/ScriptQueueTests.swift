import CARPCore
import Logging
import SystemPackage
import Testing

@testable import CARPInstance

/// The scripts' queue on its own: one at a time, in order, a hung one killed once at its timeout,
/// `.ended` before the next starts, an up script dropped or killed when mastership is taken back.
@Suite struct ScriptQueueTests {
    static func script(_ name: String, addsAddress: Bool = false, releasesLease: Bool = false) -> ScriptQueue.Script {
        .init(
            path: "/etc/\(name)", arguments: ["eth0", "192.0.2.100"], addsAddress: addsAddress,
            releasesLease: releasesLease)
    }

    static let up = script("up", addsAddress: true)
    static let down = script("down", releasesLease: true)
    static let notify = script("notify")

    static func spawned(_ actions: [ScriptQueue.Action]) -> [String] {
        actions.compactMap { if case .spawn(_, let command) = $0 { command.path } else { nil } }
    }

    static func ended(_ actions: [ScriptQueue.Action]) -> [String] {
        actions.compactMap { if case .ended(let script) = $0 { script.path } else { nil } }
    }

    static func killed(_ actions: [ScriptQueue.Action]) -> [Child.ID] {
        actions.compactMap { if case .kill(let id) = $0 { id } else { nil } }
    }

    @Test func scriptsRunOneAtATimeInTheOrderAsked() throws {
        var queue = ScriptQueue(timeout: nil, debug: false)
        var numbering = Child.Numbering()
        #expect(queue.isIdle)
        #expect(Self.spawned(queue.enqueue(Self.up, numbering: &numbering, at: t0)) == ["/etc/up"])
        #expect(Self.spawned(queue.enqueue(Self.notify, numbering: &numbering, at: t0)).isEmpty)
        #expect(Self.spawned(queue.enqueue(Self.down, numbering: &numbering, at: t0)).isEmpty)
        #expect(queue.queued.map(\.path) == ["/etc/notify", "/etc/down"])
        var order: [String] = ["/etc/up"]
        while let running = queue.running {
            let actions = queue.ended(status: .exited(0), numbering: &numbering, at: t0 + .seconds(1))
            #expect(Self.ended(actions) == [running.script.path])
            order += Self.spawned(actions)
        }
        #expect(order == ["/etc/up", "/etc/notify", "/etc/down"])
        #expect(queue.isIdle)
        #expect(queue.nextDeadline == nil)
    }

    @Test func endedIsReportedBeforeTheNextScriptStarts() throws {
        var queue = ScriptQueue(timeout: nil, debug: false)
        var numbering = Child.Numbering()
        _ = queue.enqueue(Self.up, numbering: &numbering, at: t0)
        _ = queue.enqueue(Self.down, numbering: &numbering, at: t0)
        let actions = queue.ended(status: .exited(1), numbering: &numbering, at: t0)
        let end = try #require(actions.firstIndex(of: .ended(Self.up)))
        let spawn = try #require(actions.firstIndex { if case .spawn = $0 { true } else { false } })
        #expect(end < spawn)
        #expect(actions.first == .log(.warning, "Script [/etc/up eth0 192.0.2.100] exited with status 1"))
    }

    @Test func aScriptThatFailedToStartIsReportedEndedAndTheNextStarts() throws {
        var queue = ScriptQueue(timeout: .seconds(5), debug: false)
        var numbering = Child.Numbering()
        _ = queue.enqueue(Self.up, numbering: &numbering, at: t0)
        _ = queue.enqueue(Self.notify, numbering: &numbering, at: t0)
        let actions = queue.failedToStart(reason: .noSuchFileOrDirectory, numbering: &numbering, at: t0)
        #expect(
            actions.first == .log(.error, "Unable to exec /etc/up eth0 192.0.2.100: \(Errno.noSuchFileOrDirectory)"))
        let end = try #require(actions.firstIndex(of: .ended(Self.up)))
        let spawn = try #require(actions.firstIndex { if case .spawn = $0 { true } else { false } })
        #expect(end < spawn)
        #expect(Self.spawned(actions) == ["/etc/notify"])
        // Nothing running: neither outcome does anything.
        _ = queue.ended(status: .exited(0), numbering: &numbering, at: t0)
        #expect(queue.failedToStart(reason: .permissionDenied, numbering: &numbering, at: t0).isEmpty)
        #expect(queue.ended(status: .exited(0), numbering: &numbering, at: t0).isEmpty)
    }

    @Test func aHungScriptIsKilledAtItsTimeoutOnceAndTheNextStartsWhenItIsReaped() throws {
        var queue = ScriptQueue(timeout: .seconds(5), debug: false)
        var numbering = Child.Numbering()
        _ = queue.enqueue(Self.up, numbering: &numbering, at: t0)
        _ = queue.enqueue(Self.notify, numbering: &numbering, at: t0 + .seconds(1))
        let id = try #require(queue.running?.id)
        #expect(queue.nextDeadline == t0 + .seconds(5))
        #expect(queue.timePassed(at: t0 + .seconds(4)).isEmpty)
        let killing = queue.timePassed(at: t0 + .seconds(5))
        #expect(Self.killed(killing) == [id])
        #expect(
            killing.first
                == .log(.error, "Script [/etc/up eth0 192.0.2.100] still running after 5.0s: killing its process group")
        )
        // Killed once: no deadline any more, and time passing kills nothing again.
        #expect(queue.nextDeadline == nil)
        #expect(queue.timePassed(at: t0 + .seconds(50)).isEmpty)
        #expect(queue.runs(id))
        let reaped = queue.ended(status: .killed(signal: 9), numbering: &numbering, at: t0 + .seconds(6))
        #expect(Self.ended(reaped) == ["/etc/up"])
        #expect(Self.spawned(reaped) == ["/etc/notify"])
        // The next one's timeout counts from its own start.
        #expect(queue.nextDeadline == t0 + .seconds(11))
    }

    @Test func withoutATimeoutNoScriptIsEverKilled() {
        var queue = ScriptQueue(timeout: nil, debug: false)
        var numbering = Child.Numbering()
        _ = queue.enqueue(Self.up, numbering: &numbering, at: t0)
        #expect(queue.nextDeadline == nil)
        #expect(queue.timePassed(at: t0 + .seconds(3600)).isEmpty)
    }

    @Test func aScriptEndingWellIsLoggedOnlyWithDebug() {
        var numbering = Child.Numbering()
        var quiet = ScriptQueue(timeout: nil, debug: false)
        _ = quiet.enqueue(Self.notify, numbering: &numbering, at: t0)
        #expect(quiet.ended(status: .exited(0), numbering: &numbering, at: t0) == [.ended(Self.notify)])
        var loud = ScriptQueue(timeout: nil, debug: true)
        _ = loud.enqueue(Self.notify, numbering: &numbering, at: t0)
        #expect(
            loud.ended(status: .exited(0), numbering: &numbering, at: t0) == [
                .log(.debug, "Script [/etc/notify eth0 192.0.2.100] finished"), .ended(Self.notify),
            ])
    }

    @Test func stopAddingAddressDropsQueuedUpScriptsAndKillsARunningOneOnce() throws {
        var queue = ScriptQueue(timeout: .seconds(5), debug: false)
        var numbering = Child.Numbering()
        _ = queue.enqueue(Self.up, numbering: &numbering, at: t0)
        _ = queue.enqueue(Self.notify, numbering: &numbering, at: t0)
        _ = queue.enqueue(Self.up, numbering: &numbering, at: t0)
        _ = queue.enqueue(Self.down, numbering: &numbering, at: t0)
        let id = try #require(queue.running?.id)
        #expect(queue.addingAddress)
        let stopped = queue.stopAddingAddress(because: "lease-lost")
        #expect(Self.killed(stopped) == [id])
        #expect(stopped.contains(.log(.warning, "etcd: lease-lost: not running [/etc/up eth0 192.0.2.100]")))
        #expect(queue.queued.map(\.path) == ["/etc/notify", "/etc/down"])
        // The running one is killed, not forgotten: it still counts until it is reaped.
        #expect(queue.addingAddress)
        #expect(queue.nextDeadline == nil)
        #expect(Self.killed(queue.stopAddingAddress(because: "lease-lost")).isEmpty)
        #expect(Self.killed(queue.timePassed(at: t0 + .seconds(5))).isEmpty)
        _ = queue.ended(status: .killed(signal: 9), numbering: &numbering, at: t0 + .seconds(1))
        #expect(!queue.addingAddress)
    }

    @Test func stopAddingAddressLeavesARunningDownScriptAlone() {
        var queue = ScriptQueue(timeout: .seconds(5), debug: false)
        var numbering = Child.Numbering()
        _ = queue.enqueue(Self.down, numbering: &numbering, at: t0)
        _ = queue.enqueue(Self.up, numbering: &numbering, at: t0)
        let stopped = queue.stopAddingAddress(because: "key-taken")
        #expect(Self.killed(stopped).isEmpty)
        #expect(queue.queued.isEmpty)
        #expect(queue.running?.script == Self.down)
        #expect(!queue.addingAddress)
    }

    @Test func leaseReleasingDownScriptsGoFirstInTheirOwnOrder() {
        var queue = ScriptQueue(timeout: nil, debug: false)
        var numbering = Child.Numbering()
        let secondDown = ScriptQueue.Script(
            path: "/etc/down", arguments: ["eth0", "2001:db8::100"], releasesLease: true)
        for script in [Self.up, Self.notify, Self.down, Self.notify, secondDown] {
            _ = queue.enqueue(script, numbering: &numbering, at: t0)
        }
        queue.putLeaseReleaseFirst()
        #expect(queue.running?.script == Self.up)
        #expect(queue.queued == [Self.down, secondDown, Self.notify, Self.notify])
    }

    @Test func addingAddressAndReleasingLeaseLookAtTheRunningAndTheQueued() {
        var queue = ScriptQueue(timeout: nil, debug: false)
        var numbering = Child.Numbering()
        #expect(!queue.addingAddress && !queue.releasingLease && queue.isIdle)
        _ = queue.enqueue(Self.notify, numbering: &numbering, at: t0)
        #expect(!queue.addingAddress && !queue.releasingLease && !queue.isIdle)
        _ = queue.enqueue(Self.down, numbering: &numbering, at: t0)
        #expect(queue.releasingLease && !queue.addingAddress)
        _ = queue.ended(status: .exited(0), numbering: &numbering, at: t0)
        #expect(queue.releasingLease, "running now")
        _ = queue.enqueue(Self.up, numbering: &numbering, at: t0)
        #expect(queue.addingAddress && queue.releasingLease)
        _ = queue.ended(status: .exited(0), numbering: &numbering, at: t0)
        #expect(queue.addingAddress && !queue.releasingLease)
        _ = queue.ended(status: .unknown, numbering: &numbering, at: t0)
        #expect(!queue.addingAddress && !queue.releasingLease && queue.isIdle)
    }

    // MARK: An up script supersedes the down scripts before it

    static let plainDown = ScriptQueue.Script(
        path: "/etc/down", arguments: ["eth0", "192.0.2.100"], removesAddress: true)
    static let secondDown = ScriptQueue.Script(
        path: "/etc/down", arguments: ["eth0", "192.0.2.101"], removesAddress: true)

    static func terminated(_ actions: [ScriptQueue.Action]) -> [Child.ID] {
        actions.compactMap { if case .terminate(let id) = $0 { id } else { nil } }
    }

    @Test func anUpScriptDropsTheQueuedDownScriptsAndStopsTheRunningOne() throws {
        var queue = ScriptQueue(timeout: .seconds(60), debug: false)
        var numbering = Child.Numbering()
        _ = queue.enqueue(Self.plainDown, numbering: &numbering, at: t0)
        let running = try #require(queue.running?.id)
        _ = queue.enqueue(Self.secondDown, numbering: &numbering, at: t0)
        _ = queue.enqueue(Self.notify, numbering: &numbering, at: t0)
        let actions = queue.enqueue(Self.up, numbering: &numbering, at: t0 + .seconds(1))
        #expect(Self.terminated(actions) == [running])
        #expect(
            actions.compactMap { if case .log(.warning, let text) = $0 { text } else { nil } } == [
                "Master now: not running [/etc/down eth0 192.0.2.101]",
                "Master now: stopping [/etc/down eth0 192.0.2.100] (SIGTERM, SIGKILL after 2s) so that the up script runs",
            ])
        // The notify script stays, before the up script.
        #expect(queue.queued.map(\.path) == ["/etc/notify", "/etc/up"])
        #expect(queue.nextDeadline == t0 + .seconds(3))
        #expect(queue.timePassed(at: t0 + .milliseconds(2999)).isEmpty)
        let kill = queue.timePassed(at: t0 + .seconds(3))
        #expect(Self.killed(kill) == [running])
        // Killed once: no deadline until it is reaped.
        #expect(queue.nextDeadline == nil)
        let next = queue.ended(status: .killed(signal: 9), numbering: &numbering, at: t0 + .seconds(3))
        #expect(Self.spawned(next) == ["/etc/notify"])
    }

    @Test func aGuardedMastersDownScriptIsNotSuperseded() throws {
        var queue = ScriptQueue(timeout: .seconds(60), debug: false)
        var numbering = Child.Numbering()
        var guarded = Self.plainDown
        guarded.releasesLease = true
        _ = queue.enqueue(guarded, numbering: &numbering, at: t0)
        _ = queue.enqueue(guarded, numbering: &numbering, at: t0)
        let actions = queue.enqueue(Self.up, numbering: &numbering, at: t0 + .seconds(1))
        #expect(Self.terminated(actions).isEmpty)
        #expect(queue.queued.count == 2)
        #expect(queue.nextDeadline == t0 + .seconds(60))
    }

    @Test func aDownScriptQueuedAfterTheUpScriptRuns() throws {
        var queue = ScriptQueue(timeout: nil, debug: false)
        var numbering = Child.Numbering()
        _ = queue.enqueue(Self.up, numbering: &numbering, at: t0)
        let actions = queue.enqueue(Self.plainDown, numbering: &numbering, at: t0)
        #expect(Self.terminated(actions).isEmpty)
        #expect(queue.queued == [Self.plainDown])
    }
}
