import CARPCore
import EtcdGuard
import Logging
import UCarpConfiguration

/// A reload that changes the etcd settings (``EtcdMove``): begun by the shell once the new
/// configuration passed its checks, answered with ``Action/etcdMoveSettled(refusal:)``.
extension Instance {
    /// What a reload to `new` needs before the re-execution.
    package enum EtcdMovePlan: Equatable {
        /// The etcd settings are the same: nothing.
        case unchanged
        /// Begun: wait for ``Action/etcdMoveSettled(refusal:)``.
        case begun
    }

    /// The longest a move may take: the new lease's TTL, at most this.
    package static let etcdMoveLimit = MonotonicDuration.seconds(20)

    /// Whether the endpoints, the key, or `--etcd` itself differ between `old` and `new`.
    package static func etcdMoves(from old: Settings, to new: Settings) -> Bool {
        old.etcd?.endpoints != new.etcd?.endpoints || old.etcdKey != new.etcdKey
    }

    /// Begins what a reload to `new` needs for etcd (`hostName` for the key's new value).
    package mutating func beginEtcdMove(
        to new: Settings, hostName: String, at now: MonotonicInstant
    ) -> (EtcdMovePlan, [Action]) {
        guard Self.etcdMoves(from: settings, to: new), etcdMove == nil else { return (.unchanged, []) }
        let holding = machine.role == .master && (etcd?.granted ?? true)
        guard holding else {
            etcdMove = EtcdMove(attempt: nil, stage: .ready, forMaster: false)
            let line = "etcd: reloading onto new etcd settings: this host holds no lease, nothing to hand over"
            return (.begun, [.log(.info, line)] + settle(nil))
        }
        guard let etcdSettings = new.etcd, let key = new.etcdKey else {
            // --etcd removed: nothing to take; the lease is renewed until the re-execution,
            // then lapses (a failed execution carries on with it).
            etcdMove = EtcdMove(attempt: nil, stage: .ready, forMaster: true)
            let lease = etcd?.heldLease.map { "lease \($0)" } ?? "no lease"
            let line = "etcd: reloading without --etcd: \(lease) held, to lapse once the new process runs"
            return (.begun, [.log(.info, line)] + settle(nil))
        }
        let ttl = MonotonicDuration.seconds(UInt64(max(etcdSettings.ttl, 1)))
        let move = EtcdLeaseMove(
            configuration: .init(
                key: key, value: EtcdHolder(sourceAddress: new.sourceAddress, hostName: hostName).value,
                ttl: etcdSettings.ttl,
                credentials: etcdSettings.user.flatMap { user in
                    etcdSettings.password.map { .init(user: user, password: $0) }
                },
                endpointCount: etcdSettings.endpoints.count, currentLease: etcd?.heldLease,
                bound: min(ttl, Self.etcdMoveLimit)),
            at: now)
        etcdMove = EtcdMove(attempt: move, stage: .taking, forMaster: true)
        let line =
            "etcd: reloading onto \(etcdSettings.endpoints.joined(separator: ",")): taking key \(key) there first"
        return (.begun, [.log(.info, line)] + withMove(at: now) { $0.start(at: now) })
    }

    /// The reload did not go ahead after its move had settled (another refusal, or `execve`
    /// returned): a new lease is revoked, and the master carries on under the old settings
    /// with the old lease, which the old guard renewed throughout (see ``EtcdMove``).
    package mutating func etcdMoveFailed(_ why: String, at now: MonotonicInstant) -> [Action] {
        guard etcdMove != nil else { return [] }
        etcdMove?.settled = true
        let kept = etcd?.heldLease.map { "; carrying on with lease \($0)" } ?? ""
        return [.log(.info, "etcd: the reload did not go ahead (\(why)): the move is undone\(kept)")]
            + windUp(why, at: now)
    }

    /// Why a reload to `new`, checked again just before the re-execution, cannot go ahead for
    /// etcd: its settings move the key but no move is ready (called off since it settled: the
    /// new lease lost, the instance gone from MASTER). The old guard's state handed to the new
    /// settings would claim a key that no lease of ours holds there.
    package func etcdMoveRefusal(to new: Settings) -> ReloadCheck.Refusal? {
        guard Self.etcdMoves(from: settings, to: new), !etcdMoveReady else { return nil }
        return .busy("the reload's etcd move was called off")
    }

    /// The successor's etcd state when a move is ready; `old` otherwise.
    func etcdSuccessorState(_ old: InstanceSnapshot.Etcd?) -> InstanceSnapshot.Etcd? {
        guard let move = etcdMove, move.stage == .ready else { return old }
        return move.successorState(keeping: old)
    }

    /// How long a reload whose move is ready waits out a passing refusal (a child to collect,
    /// the address held for a new master) before the move is undone (``etcdMoveFailed(_:at:)``),
    /// both leases renewed meanwhile.
    package static let etcdReadyRetryLimit = MonotonicDuration.seconds(5)

    /// Whether the final check's `refusal` is waited out (the reload kept pending) rather than
    /// undoing a move ready since `readySince`: undoing it costs nothing but the new lease
    /// (the old one still holds), yet the client's next try would move the key all over
    /// again, so a passing refusal is retried for a while.
    package func etcdMoveWaitsOut(
        _ refusal: ReloadCheck.Refusal, readySince: MonotonicInstant?, at now: MonotonicInstant
    ) -> Bool {
        guard refusal.isTransient, etcdMoveReady, let readySince else { return false }
        return now.duration(since: readySince) < Self.etcdReadyRetryLimit
    }

    /// Whether a move is ready: the old guard's own state no longer matters to the reload.
    package var etcdMoveReady: Bool { etcdMove?.stage == .ready }

    // MARK: Events (from the instance's own)

    /// An answer to one of the move's requests; false if `id` is not the move's.
    mutating func etcdMoveAnswered(
        status: Int, body: [UInt8], for id: UInt64, at now: MonotonicInstant
    ) -> [Action]? {
        guard EtcdLeaseMove.owns(id) else { return nil }
        return withMove(at: now) { $0.received(status: status, body: body, for: id, at: now) }
    }

    mutating func etcdMoveFailedRequest(requestID id: UInt64, reason: String, at now: MonotonicInstant) -> [Action]? {
        guard EtcdLeaseMove.owns(id) else { return nil }
        return withMove(at: now) { $0.failed(requestID: id, reason: reason, at: now) }
    }

    /// The move's timers; a master's move called off once it is no longer master.
    mutating func etcdMoveTimePassed(at now: MonotonicInstant) -> [Action] {
        guard let move = etcdMove else { return [] }
        var actions: [Action] = []
        if move.forMaster, !move.settled || move.stage == .ready,
            phase != .running || machine.role != .master || etcd.map({ !$0.granted }) == true
        {
            let why = phase == .running ? "the instance left MASTER during the etcd move" : "the instance is leaving"
            etcdMove?.settled = true
            actions += (move.settled ? [] : [.etcdMoveSettled(refusal: "busy: \(why); try again")])
            actions += windUp(why, at: now)
        }
        if let deadline = etcdMove?.attempt?.nextDeadline, now >= deadline {
            actions += withMove(at: now) { $0.deadlinePassed(at: now) }
        }
        return actions
    }

    /// The move's next deadline.
    var etcdMoveDeadline: MonotonicInstant? { etcdMove?.attempt?.nextDeadline }

    // MARK: Internals

    private mutating func withMove(
        at now: MonotonicInstant, _ body: (inout EtcdLeaseMove) -> [EtcdLeaseMove.Action]
    ) -> [Action] {
        guard var move = etcdMove, var attempt = move.attempt else { return [] }
        let moveActions = body(&attempt)
        move.attempt = attempt
        etcdMove = move
        var actions: [Action] = []
        for action in moveActions {
            switch action {
            case .send(let request): actions.append(.etcdMoveRequest(request))
            case .cancel(let id): actions.append(.etcdCancel(requestID: id))
            case .log(let level, let message): actions.append(.log(Self.loggerLevel(level), message))
            case .ended(let outcome): actions += moveEnded(outcome, at: now)
            }
        }
        return actions
    }

    private mutating func moveEnded(_ outcome: EtcdLeaseMove.Outcome, at now: MonotonicInstant) -> [Action] {
        guard let move = etcdMove else { return [] }
        switch (outcome, move.stage) {
        case (.moved(let lease), .taking):
            // The old lease is not revoked: renewed until the re-execution, then it lapses.
            etcdMove?.stage = .ready
            let old = etcd?.heldLease.map { "lease \($0)" } ?? "no lease"
            return [
                .log(.info, "etcd: moved to lease \(lease.id); the old \(old) lapses once the new process runs")
            ] + settle(nil)
        case (.kept, .taking):
            etcdMove?.stage = .ready
            return settle(nil)
        case (.refused(let line), .taking):
            etcdMove?.stage = .windingUp
            return [.log(.warning, "Reload refused: \(line)")] + settle(line) + forgetIfDone()
        case (.refused(let line), .ready):
            // The new lease lost before the successor took it on.
            return etcdMoveFailed(line, at: now) + (move.settled ? [] : settle(line))
        case (.refused, .windingUp):
            return forgetIfDone()
        case (.moved, _), (.kept, _):
            return []
        }
    }

    private mutating func windUp(_ why: String, at now: MonotonicInstant) -> [Action] {
        etcdMove?.stage = .windingUp
        return withMove(at: now) { $0.abandon(why, at: now) } + forgetIfDone()
    }

    private mutating func forgetIfDone() -> [Action] {
        if let move = etcdMove, move.stage == .windingUp, move.attempt?.nextDeadline == nil,
            move.attempt?.quiet ?? true
        {
            etcdMove = nil
        }
        return []
    }

    private mutating func settle(_ refusal: String?) -> [Action] {
        guard etcdMove?.settled == false else { return [] }
        etcdMove?.settled = true
        return [.etcdMoveSettled(refusal: refusal)]
    }
}
