import CARPCore
import EtcdGuard
import TestSupport
import Testing
import UCarpConfiguration

@testable import CARPInstance

/// The fixed-seed random walk of ``InstanceRandomWalkTests`` with `--etcd`: CARP's events
/// interleaved with etcd's answers, failures, lost leases and late answers, against what the
/// guard promises: no address without the key, the lease let go only once the address is gone,
/// the leaving advert only once the key is free.
@Suite struct InstanceEtcdRandomWalkTests {
    static let ours = "192.0.2.11 alpha"
    static let theirs = "192.0.2.12 beta"

    /// A fake etcd member that answers each call as the walk decides: a new lease per grant.
    struct Etcd {
        var nextLease: Int64 = 1000

        enum Outcome: CaseIterable {
            case ok, heldByPeer, heldByAnEarlierLeaseOfOurs, leaseGone, leaseNotFound, failure
        }

        mutating func answer(to call: EtcdCall, _ outcome: Outcome) -> (Int, String)? {
            switch (call, outcome) {
            case (_, .failure):
                return nil
            case (.grant, _):
                nextLease += 1
                return (200, #"{"ID":"\#(nextLease)","TTL":"3"}"#)
            case (.acquire, .heldByPeer), (.read, .heldByPeer):
                return Self.held(by: InstanceEtcdRandomWalkTests.theirs, lease: 77, call: call)
            case (.acquire, .heldByAnEarlierLeaseOfOurs):
                return Self.held(by: InstanceEtcdRandomWalkTests.ours, lease: 99, call: call)
            case (.acquire, .leaseNotFound), (.keepAlive, .leaseNotFound), (.revoke, .leaseNotFound):
                return (
                    404,
                    #"{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}"#
                )
            case (.acquire, _):
                return (200, #"{"succeeded":true}"#)
            case (.keepAlive(let lease), .leaseGone):
                return (200, #"{"result":{"ID":"\#(lease)"}}"#)
            case (.keepAlive(let lease), _):
                return (200, #"{"result":{"ID":"\#(lease)","TTL":"3"}}"#)
            case (.timeToLive, .leaseGone), (.timeToLive, .leaseNotFound):
                return (200, #"{"ID":"77","TTL":"-1"}"#)
            case (.revoke, _), (.read, _), (.authenticate, _), (.timeToLive, _):
                return InstanceEtcdTests.answer(to: call)
            }
        }

        static func held(by value: String, lease: Int64, call: EtcdCall) -> (Int, String) {
            let kv = #"{"key":"a2V5","value":""# + Array(value.utf8).base64 + #"","lease":"\#(lease)"}"#
            if case .read = call { return (200, #"{"kvs":["# + kv + #"],"count":"1"}"#) }
            return (200, #"{"responses":[{"response_range":{"kvs":["# + kv + #"]}}]}"#)
        }
    }

    /// What the walk saw, and the promises it checks as each action goes by.
    struct Observer {
        var runningScript: (id: Child.ID, path: String, lease: String?, killed: Bool)?
        var runningCheck: Child.ID?
        var inFlight: [UInt64: EtcdLeaseGuard.Request] = [:]
        /// Requests cancelled or answered: a late answer to one of them changes nothing.
        var stale: [UInt64] = []
        /// Leases under which mastership was granted and reported.
        var grantedLeases: Set<Int64> = []
        /// A granted master left: its leaving advert waits for the release.
        var releasePending = false
        var exits: [Action] = []
        var grants = 0
        var releases = 0
        var violations: [String] = []
        /// Up scripts run, or left running, without the key: a known issue
        /// (``InstanceEtcdLossAfterLeavingTests``).
        var upScriptsWithoutKey: [String] = []
        /// A lost lease revoked while its down script still runs: a known issue
        /// (``InstanceEtcdLossAfterLeavingTests``).
        var revokesUnderDownScript: [String] = []
        /// The last events and what they did, told with the first violation.
        var history: [String] = []

        mutating func absorb(_ actions: [Action], instance: Instance, step: Int) {
            history.append("step \(step): " + actions.map(Self.brief).filter { !$0.isEmpty }.joined(separator: "; "))
            if history.count > 60 { history.removeFirst(history.count - 60) }
            func violated(_ what: String) {
                violations.append(
                    "step \(step): \(what)" + (violations.isEmpty ? "\n" + history.joined(separator: "\n") : ""))
            }
            let gate = instance.etcd
            let keyOurs = gate?.lease.isMaster == true
            for (index, action) in actions.enumerated() {
                let later = actions[(index + 1)...]
                let leftLater = later.contains {
                    if case .recordState(let state, .master, _) = $0 { state != .master } else { false }
                }
                switch action {
                case .recordState(.master, _, _):
                    grants += 1
                    // A new term: the last one's release was called off, or goes on under the new lease.
                    releasePending = false
                    if let lease = gate?.heldLease { grantedLeases.insert(lease) }
                    if !(keyOurs && gate?.granted == true), !leftLater { violated("MASTER recorded without the key") }
                case .recordState(let state, .master, _) where state != .master:
                    releasePending = true
                case .announceAddresses:
                    if !(keyOurs && gate?.granted == true), !leftLater { violated("gratuitous ARP without the key") }
                case .spawn(let id, let command) where command.path == "/bin/sh":
                    if runningCheck != nil { violated("a second check while one runs") }
                    runningCheck = id
                case .spawn(let id, let command):
                    if runningScript != nil { violated("a second script while one runs") }
                    let lease = command.environment.first { $0.name == "CARP_ETCD_LEASE" }?.value
                    runningScript = (id, command.path, lease, false)
                    if command.path == "/etc/up", !keyOurs {
                        upScriptsWithoutKey.append(
                            "step \(step): up script \(id) started without the key\n" + history.joined(separator: "\n"))
                    }
                case .kill(let id):
                    if id == runningScript?.id {
                        runningScript?.killed = true
                    } else if id != runningCheck {
                        violated("killed \(id), not running")
                    }
                case .etcdRequest(let request):
                    if !inFlight.isEmpty { violated("a second etcd request in flight: \(request.call)") }
                    inFlight[request.id] = request
                    guard case .revoke(let lease) = request.call, grantedLeases.contains(lease) else { break }
                    if let running = runningScript, running.path == "/etc/down", running.lease == "\(lease)" {
                        revokesUnderDownScript.append(
                            "step \(step): revoke of lease \(lease) while its down script runs\n"
                                + history.joined(separator: "\n"))
                    }
                    let queuedDown = instance.scripts.queued.contains {
                        $0.releasesLease && $0.environment.contains(.init("CARP_ETCD_LEASE", "\(lease)"))
                    }
                    if queuedDown { violated("revoke of lease \(lease) before its down script ran") }
                case .etcdCancel(let id):
                    if inFlight.removeValue(forKey: id) == nil { violated("cancelled \(id), not in flight") }
                    stale.append(id)
                case .sendAdvertisement(255, 255, _):
                    if releasePending { violated("leaving advert before the lease's release") }
                case .log(_, let message) where message.hasPrefix("etcd: CARP would make us MASTER"):
                    // A new term: its adverts are a would-be master's until it is granted.
                    releasePending = false
                case .log(_, let message) where message.hasPrefix("etcd: key ") && message.contains(" released: "):
                    releases += 1
                    releasePending = false
                case .exit, .dieOf:
                    exits.append(action)
                default:
                    break
                }
            }
        }

        /// An action in a few words, for the history.
        static func brief(_ action: Action) -> String {
            switch action {
            case .log(let level, let message): level >= .info ? "\(message)" : ""
            case .spawn(let id, let command):
                "spawn \(id) \(command.path) \(command.environment.filter { $0.name.hasPrefix("CARP_ETCD_LEASE") || $0.name == "CARP_REASON" }.map(\.value))"
            case .etcdRequest(let request): "request \(request.id) \(request.call)"
            case .sendAdvertisement(let advbase, let advskew, _): "advert \(advbase)/\(advskew)"
            default: "\(action)"
            }
        }

        /// A request answered or failed: no longer in flight.
        mutating func settled(_ id: UInt64) {
            inFlight[id] = nil
            stale.append(id)
        }
    }

    /// Seed 21 never becomes master (CARP's better adverts and etcd's failures), so it is left out.
    @Test(arguments: Array(1...20) + Array(22...48) + [205, 360] as [UInt64])
    func theGuardedInstanceNeverHoldsTheAddressWithoutTheKeyAndLetsItGoInOrder(seed: UInt64) {
        var random = SplitMix(state: seed)
        let settings = InstanceEtcdTests.guarded {
            $0.check = "check"
            $0.checkInterval = .seconds(2)
            $0.scriptTimeout = .seconds(5)
            $0.preempt = seed % 2 == 0
            $0.advskew = 100
        }
        var driver = InstanceEtcdTests.driver(settings)
        var etcd = Etcd()
        var seen = Observer()
        var now = t0
        var carrier = LinkState.running
        var step = 0
        func event(_ what: String) { seen.history.append("step \(step) event: \(what)") }
        func absorb(_ actions: [Action]) {
            seen.absorb(actions, instance: driver.instance, step: step)
            // Reported MASTER only while the guard holds the key.
            let keyOurs = driver.instance.etcd?.lease.isMaster == true
            // An up script adding the address when the key is lost is killed at once.
            if let running = seen.runningScript, running.path == "/etc/up", !running.killed, !keyOurs {
                seen.upScriptsWithoutKey.append(
                    "step \(step): the up script \(running.id) still runs without the key\n"
                        + seen.history.joined(separator: "\n"))
            }
            if driver.instance.reportedRole == .master, !keyOurs {
                seen.violations.append(
                    "step \(step): reported MASTER without the key\n" + seen.history.joined(separator: "\n"))
            }
        }
        func answerInFlight(_ outcome: Etcd.Outcome) {
            guard let request = seen.inFlight.values.first else { return }
            seen.settled(request.id)
            event("etcd answers \(request.id) \(request.call): \(outcome)")
            if case (let status, let body)? = etcd.answer(to: request.call, outcome) {
                absorb(
                    driver.carryOut(
                        driver.instance.etcdAnswered(status: status, body: Array(body.utf8), for: request.id, at: now),
                        at: now))
            } else {
                absorb(
                    driver.carryOut(
                        driver.instance.etcdFailed(requestID: request.id, reason: "Connection refused", at: now),
                        at: now))
            }
        }
        absorb(driver.start())
        for index in 0..<1200 {
            step = index
            // etcd answers often enough for CARP's master terms to be granted now and then.
            switch random.below(34) {
            case 0..<5:
                guard let deadline = driver.instance.nextDeadline else { break }
                now = max(now, deadline)
                event("time to the next deadline")
                absorb(driver.link(carrier, at: now) + driver.time(now))
                // Whatever was due is done: the poll loop cannot spin.
                if let next = driver.instance.nextDeadline, next <= now {
                    seen.violations.append("step \(step): the next deadline \(next) is not after \(now)")
                }
            case 4:
                now = now + .milliseconds(UInt64(random.below(1500)))
                event("time passes")
                absorb(driver.link(carrier, at: now) + driver.time(now))
            case 5:
                // A better master, a worse one, or one leaving.
                let (advbase, advskew): (UInt8, UInt8) = [(1, 0), (1, 200), (255, 255)][random.below(3)]
                event("advert \(advbase)/\(advskew)")
                let counter = driver.peerCounter()
                absorb(
                    driver.frame(
                        .accepted(.init(source: .ipv4(peer), advbase: advbase, advskew: advskew, counter: counter)),
                        at: now))
            case 6:
                guard random.below(3) == 0 else { break }
                carrier = carrier == .running ? .noCarrier : .running
                event("carrier \(carrier)")
                absorb(driver.link(carrier, at: now))
            case 7:
                let signal: Instance.Signal = random.below(3) == 0 ? .user2 : .user1
                event("\(signal)")
                absorb(driver.signal(signal, at: now))
            case 8, 9:
                guard let script = seen.runningScript else { break }
                seen.runningScript = nil
                let status: Child.Status = random.below(4) > 0 ? .exited(0) : .killed(signal: 9)
                event("script \(script.id) \(script.path) ends \(status)")
                absorb(driver.exited(script.id, status, at: now))
            case 10, 11, 30..<34:
                guard let check = seen.runningCheck else { break }
                seen.runningCheck = nil
                let status: Child.Status = random.below(10) > 0 ? .exited(0) : .exited(1)
                event("check ends \(status)")
                absorb(driver.exited(check, status, at: now))
            case 12..<24:
                answerInFlight(.ok)
            case 24, 25:
                answerInFlight(random.below(4) == 0 ? .heldByAnEarlierLeaseOfOurs : .heldByPeer)
            case 26:
                answerInFlight(random.below(2) == 0 ? .leaseGone : .leaseNotFound)
            case 27, 28:
                answerInFlight(.failure)
            default:
                // A late answer to a request cancelled or answered already: nothing happens.
                guard let id = seen.stale.randomElement(using: &random) else { break }
                event("late answer to \(id)")
                let late = driver.instance.etcdAnswered(
                    status: 200, body: Array(#"{"succeeded":true}"#.utf8), for: id, at: now)
                if late.contains(where: { if case .etcdRequest = $0 { true } else { false } }) {
                    seen.violations.append("step \(step): a late answer to \(id) sent a request")
                }
                absorb(driver.carryOut(late, at: now))
            }
            if !seen.exits.isEmpty { seen.violations.append("step \(step): exited during the walk") }
        }
        // Leaving: the scripts finish, etcd answers the revoke, then the instance exits once.
        step = 10_000
        event("TERM")
        absorb(driver.signal(.terminate, at: now))
        var rounds = 0
        while seen.exits.isEmpty, rounds < 200 {
            rounds += 1
            if let script = seen.runningScript {
                seen.runningScript = nil
                absorb(driver.exited(script.id, .exited(0), at: now))
            } else if !seen.inFlight.isEmpty {
                answerInFlight(.ok)
            } else if let deadline = driver.instance.nextDeadline {
                now = max(now, deadline)
                absorb(driver.time(now))
            } else {
                break
            }
        }
        #expect(seen.violations.isEmpty, "seed \(seed): \(seen.violations.prefix(5))")
        // Seeds 13, 35 and 48 found a lease lost after the term left leaving its up script running.
        #expect(seen.upScriptsWithoutKey.isEmpty, "seed \(seed): \(seen.upScriptsWithoutKey.prefix(1))")
        // Seeds 205 and 360 found a lease lost under the down script revoked before the script ended.
        #expect(seen.revokesUnderDownScript.isEmpty, "seed \(seed): \(seen.revokesUnderDownScript.prefix(1))")
        #expect(seen.exits == [.exit(.success)], "seed \(seed)")
        #expect(driver.instance.phase == .finished)
        #expect(driver.signal(.terminate, at: now).isEmpty)
        // The walk went through the guard's paths, not around them.
        #expect(seen.grants >= 1, "seed \(seed): never granted")
        #expect(seen.releases >= 1, "seed \(seed): never released a granted lease")
    }
}
