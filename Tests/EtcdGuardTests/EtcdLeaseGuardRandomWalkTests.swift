import CARPCore
import Testing

@testable import EtcdGuard

/// TestSupport's SplitMix64, which this test target does not depend on (Package.swift): the
/// same sequence on every platform for a seed.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next(upperBound: UInt64(bound))) }
}

/// The lease guard alone on a fixed-seed random walk: the daemon's calls (want, standDown,
/// stopWanting, lookUp, time passing) in random order, etcd's answers random (the key free or
/// held, the lease gone, errors, failures, silence), against the guard's documented promises.
@Suite struct EtcdLeaseGuardRandomWalkTests {
    static let ours = "192.0.2.1 hostA"

    enum Outcome {
        case ok, heldByPeer, heldByAnEarlierLeaseOfOurs, heldByOurLease, vanished, leaseGone, leaseNotFound
        case invalidToken, serverError, failure
    }

    /// A fake member: a new lease per grant, a TTL of 3 s always.
    struct Etcd {
        var nextLease: Int64 = 5000

        static func kv(_ value: String, _ lease: Int64) -> String {
            #"{"key":"a2V5","value":""# + base64(Array(value.utf8)) + #"","lease":"\#(lease)"}"#
        }

        mutating func answer(to call: EtcdCall, _ outcome: Outcome) -> (Int, String)? {
            switch (call, outcome) {
            case (_, .failure): return nil
            case (_, .invalidToken):
                return (
                    401,
                    #"{"error":"etcdserver: invalid auth token","message":"etcdserver: invalid auth token","code":16}"#
                )
            case (_, .serverError): return (503, #"{"error":"etcdserver: leader changed","code":14}"#)
            case (.grant, _):
                nextLease += 1
                return (200, #"{"ID":"\#(nextLease)","TTL":"3"}"#)
            case (.acquire(_, _, let lease), .heldByOurLease):
                return (200, #"{"responses":[{"response_range":{"kvs":["# + Self.kv(ours, lease) + "]}}]}")
            case (.acquire, .heldByPeer):
                return (200, #"{"responses":[{"response_range":{"kvs":["# + Self.kv("192.0.2.2 hostB", 77) + "]}}]}")
            case (.acquire, .heldByAnEarlierLeaseOfOurs):
                return (200, #"{"responses":[{"response_range":{"kvs":["# + Self.kv(ours, 99) + "]}}]}")
            case (.acquire, .vanished):
                return (200, #"{"responses":[{"response_range":{}}]}"#)
            case (.acquire, .leaseNotFound), (.keepAlive, .leaseNotFound), (.revoke, .leaseNotFound):
                return (
                    404,
                    #"{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}"#
                )
            case (.acquire, _): return (200, #"{"succeeded":true}"#)
            case (.keepAlive(let lease), .leaseGone): return (200, #"{"result":{"ID":"\#(lease)"}}"#)
            case (.keepAlive(let lease), _): return (200, #"{"result":{"ID":"\#(lease)","TTL":"3"}}"#)
            case (.revoke, _): return (200, #"{"header":{}}"#)
            case (.authenticate, _): return (200, #"{"token":"t\#(nextLease)"}"#)
            case (.read, .heldByPeer): return (200, #"{"kvs":["# + Self.kv("192.0.2.2 hostB", 77) + #"],"count":"1"}"#)
            case (.read, _): return (200, #"{"header":{}}"#)
            case (.timeToLive, .leaseGone), (.timeToLive, .leaseNotFound): return (200, #"{"ID":"77","TTL":"-1"}"#)
            case (.timeToLive, .vanished): return (200, #"{"ID":"77","grantedTTL":"3"}"#)
            case (.timeToLive, _): return (200, #"{"ID":"77","TTL":"2","grantedTTL":"3"}"#)
            }
        }

        static func base64(_ bytes: [UInt8]) -> String {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
            var text = ""
            for start in stride(from: 0, to: bytes.count, by: 3) {
                let chunk = Array(bytes[start..<min(start + 3, bytes.count)])
                let value = chunk.enumerated().reduce(UInt32(0)) {
                    $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset))
                }
                for index in 0..<4 {
                    text.append(index <= chunk.count ? alphabet[Int((value >> (18 - 6 * UInt32(index))) & 63)] : "=")
                }
            }
            return text
        }
    }

    /// The guard's promises, checked against a model kept from the calls and answers alone.
    struct Model {
        var inFlight: EtcdLeaseGuard.Request?
        var sentAt: MonotonicInstant?
        /// Leases etcd granted us, with the send time of the grant.
        var granted: [Int64: MonotonicInstant] = [:]
        /// Per lease, the send time of the last confirmed grant or renewal.
        var confirmed: [Int64: MonotonicInstant] = [:]
        var masterLease: Int64?
        /// After stopWanting and before want: no grant, acquire or renewal.
        var stopped = true
        /// After standDown and before want or stopWanting: nothing new taken.
        var standingDown = false
        var releasesOwed = 0
        var stale: [UInt64] = []
        var violations: [String] = []
        var grants = 0
        var losses = 0
        var releases = 0

        /// Our own deadline for `lease`, from the send times alone: TTL 3 s less the margin, 0.5 s.
        func deadline(of lease: Int64) -> MonotonicInstant? {
            confirmed[lease].map { $0 + .milliseconds(2500) }
        }

        mutating func check(
            _ actions: [EtcdLeaseGuard.Action], after event: String, guardian: EtcdLeaseGuard, at now: MonotonicInstant,
            acquiredWith: Int64? = nil, regrantable: Int64? = nil
        ) {
            func violated(_ what: String) { violations.append("\(event) at \(now.nanoseconds): \(what)") }
            for action in actions {
                switch action {
                case .send(let request):
                    if let inFlight { violated("sent \(request.call) while \(inFlight.call) is in flight") }
                    inFlight = request
                    sentAt = now
                    switch request.call {
                    case .grant, .acquire, .timeToLive:
                        if stopped || standingDown { violated("\(request.call.name) sent while not wanting") }
                    case .keepAlive:
                        if stopped { violated("renewal sent after stopWanting") }
                    case .revoke, .authenticate, .read:
                        break
                    }
                    if request.timeout.nanoseconds == 0 { violated("a request with no time to answer") }
                case .cancel(let id):
                    if inFlight?.id != id { violated("cancelled \(id), not in flight") }
                    inFlight = nil
                    stale.append(id)
                case .grantMastership(let lease):
                    grants += 1
                    if acquiredWith != lease, regrantable != lease {
                        violated("mastership granted with lease \(lease) without the key taken with it")
                    }
                    if granted[lease] == nil { violated("mastership granted with lease \(lease) etcd never granted") }
                    // Under `keep` a master kept past its deadline is granted again by want().
                    if guardian.configuration.unreachable == .release, let deadline = deadline(of: lease),
                        now >= deadline
                    {
                        violated("mastership granted with lease \(lease) past its deadline")
                    }
                    masterLease = lease
                case .revokeMastership:
                    losses += 1
                    if masterLease == nil { violated("mastership taken back when not granted") }
                    masterLease = nil
                case .released:
                    releases += 1
                    if releasesOwed == 0 { violated("released without a stopWanting owing it") }
                    releasesOwed = max(0, releasesOwed - 1)
                case .keyLookedUp, .log:
                    break
                }
            }
            if guardian.isMaster != (masterLease != nil) {
                violated(
                    "isMaster \(guardian.isMaster) while the model says \(masterLease.map { "\($0)" } ?? "not master")")
            }
            if guardian.inFlight?.request != inFlight { violated("in flight differs from the requests seen") }
            // Never master at or past our own deadline (unless kept while etcd is unreachable).
            if guardian.configuration.unreachable == .release, let lease = masterLease,
                let deadline = deadline(of: lease),
                now >= deadline
            {
                violated("still master with lease \(lease) at or past its deadline")
            }
            if let next = guardian.nextDeadline, next < now {
                violated("next deadline \(next.nanoseconds) in the past")
            }
        }

        mutating func settle() {
            if let inFlight { stale.append(inFlight.id) }
            inFlight = nil
        }
    }

    @Test(arguments: Array(1...16) as [UInt64])
    func theGuardKeepsItsPromisesWhateverEtcdAnswers(seed: UInt64) {
        var random = SplitMix(state: seed)
        let credentials: EtcdLeaseGuard.Credentials? = seed % 3 == 0 ? .init(user: "carp", password: "pw") : nil
        var guardian = EtcdLeaseGuard(
            configuration: .init(
                key: "/swiftcarp/7/192.0.2.100", value: Self.ours, ttl: 3, retryInterval: .seconds(1),
                unreachable: seed % 4 == 1 ? .keep : .release, credentials: credentials,
                endpointCount: 1 + Int(seed % 3)))
        var etcd = Etcd()
        var model = Model()
        var now = MonotonicInstant.seconds(100)
        for step in 0..<1500 {
            let choice = random.below(24)
            switch choice {
            case 0, 1:
                model.stopped = false
                model.standingDown = false
                let regrantable = guardian.isMaster && guardian.holdsKey ? guardian.lease?.id : nil
                model.check(
                    guardian.want(at: now), after: "\(step) want", guardian: guardian, at: now, regrantable: regrantable
                )
            case 2:
                guard !model.stopped else { break }
                model.standingDown = true
                model.check(guardian.standDown(at: now), after: "\(step) standDown", guardian: guardian, at: now)
            case 3:
                guard !model.stopped || random.below(4) == 0 else { break }
                model.stopped = true
                model.standingDown = false
                model.masterLease = nil
                model.releasesOwed += 1
                model.check(guardian.stopWanting(at: now), after: "\(step) stopWanting", guardian: guardian, at: now)
            // Nothing to revoke, nothing in flight: released at once (checked above); a
            // leaving revoke's end announces it later.
            case 4:
                model.check(guardian.lookUp(at: now), after: "\(step) lookUp", guardian: guardian, at: now)
            case 5..<10:
                guard let deadline = guardian.nextDeadline else { break }
                now = max(now, deadline)
                let wasMaster = model.masterLease
                let actions = guardian.deadlinePassed(at: now)
                model.check(actions, after: "\(step) deadlinePassed", guardian: guardian, at: now)
                if let next = guardian.nextDeadline, next <= now {
                    model.violations.append("\(step): next deadline not after the deadline passed")
                }
                if guardian.configuration.unreachable == .release, let lease = wasMaster,
                    let ours = model.deadline(of: lease), now >= ours,
                    !actions.contains(where: { if case .revokeMastership = $0 { true } else { false } })
                {
                    model.violations.append("\(step): our deadline passed as master without revokeMastership")
                }
            case 10:
                now = now + .milliseconds(UInt64(random.below(300)))
                // The loop wakes at each deadline on the way.
                while let deadline = guardian.nextDeadline, deadline <= now {
                    model.check(
                        guardian.deadlinePassed(at: deadline), after: "\(step) advance", guardian: guardian,
                        at: deadline)
                }
                model.check(guardian.deadlinePassed(at: now), after: "\(step) advance", guardian: guardian, at: now)
            case 11:
                // A late answer to an earlier request: nothing happens.
                guard let id = model.stale.isEmpty ? nil : model.stale[random.below(model.stale.count)] else { break }
                let late = guardian.received(status: 200, body: Array(#"{"succeeded":true}"#.utf8), for: id, at: now)
                if !late.isEmpty { model.violations.append("\(step): a late answer to \(id) did \(late)") }
            default:
                guard let request = model.inFlight else { break }
                // Answers take a little time; never past the request's own timeout (that is silence).
                let delay = MonotonicDuration.milliseconds(UInt64(random.below(100)))
                let at = now + delay
                // The loop would have woken first for a deadline before the answer.
                if let next = guardian.nextDeadline, at >= next { break }
                now = at
                let outcomes: [Outcome] = [
                    .ok, .ok, .ok, .ok, .ok, .heldByPeer, .heldByAnEarlierLeaseOfOurs, .heldByOurLease, .vanished,
                    .leaseGone, .leaseNotFound, .invalidToken, .serverError, .failure, .failure,
                ]
                let outcome = outcomes[random.below(outcomes.count)]
                let sentAt = model.sentAt ?? now
                model.settle()
                let actions: [EtcdLeaseGuard.Action]
                var acquiredWith: Int64?
                if case (let status, let body)? = etcd.answer(to: request.call, outcome) {
                    switch (request.call, outcome) {
                    case (.grant, .ok), (.grant, .heldByPeer), (.grant, .heldByAnEarlierLeaseOfOurs),
                        (.grant, .heldByOurLease), (.grant, .vanished), (.grant, .leaseGone), (.grant, .leaseNotFound):
                        model.granted[etcd.nextLease] = sentAt
                        model.confirmed[etcd.nextLease] = sentAt
                    case (.keepAlive(let lease), .ok), (.keepAlive(let lease), .heldByPeer),
                        (.keepAlive(let lease), .heldByAnEarlierLeaseOfOurs), (.keepAlive(let lease), .heldByOurLease),
                        (.keepAlive(let lease), .vanished):
                        model.confirmed[lease] = max(model.confirmed[lease] ?? sentAt, sentAt)
                    case (.acquire(_, _, let lease), .ok), (.acquire(_, _, let lease), .heldByOurLease),
                        (.acquire(_, _, let lease), .leaseGone):
                        // The transaction answered succeeded, or the key bound to this very lease.
                        acquiredWith = lease
                    default:
                        break
                    }
                    actions = guardian.received(status: status, body: Array(body.utf8), for: request.id, at: now)
                } else {
                    actions = guardian.failed(requestID: request.id, reason: "Connection refused", at: now)
                }
                model.check(
                    actions, after: "\(step) answer \(request.call.name) \(outcome)", guardian: guardian, at: now,
                    acquiredWith: acquiredWith)
            }
        }
        #expect(model.violations.isEmpty, "seed \(seed): \(model.violations.prefix(5))")
        #expect(model.grants >= 1, "seed \(seed): never master")
        #expect(model.losses >= 1, "seed \(seed): mastership never taken back")
        #expect(model.releases >= 1, "seed \(seed): never released")
    }
}
