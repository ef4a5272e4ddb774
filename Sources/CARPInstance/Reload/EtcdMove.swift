import CARPCore
import EtcdGuard

/// A reload that changes the etcd settings (`--etcd` endpoints, the key, `--etcd` added or
/// removed): what must happen before the re-execution, and the answer it waits for.
///
/// A host that holds no lease (BACKUP, FAULT) hands nothing over: the successor starts a fresh
/// guard under the new settings. A master holding the key moves it make before break: the
/// key taken under the new settings (``EtcdLeaseMove``) while the guard of the old settings
/// goes on renewing, and the successor takes on the new lease. `--etcd` removed: nothing to
/// take, the successor runs without the guard.
///
/// The old lease is never revoked by this process: it is renewed until the re-execution and
/// then lapses (etcd ends it within its TTL). So every check that can refuse the reload, and
/// the `execve` itself, fail while the old lease still holds: the master undoes only the new
/// lease and carries on with the old one, never left without a lease. Holding the key in both
/// clusters until the old lease lapses keeps the no-overlap argument of ucarp(8) RELOAD (the
/// key is ours in each cluster, or free in the old one only once this host no longer counts
/// on it); revoking it first would make a failed `execve` cost the master its role, and
/// revoking it from the new process would need the old endpoints' client (their TLS and
/// credentials) there, for a key that is free within the TTL anyway.
struct EtcdMove {
    enum Stage: Equatable {
        /// The key is taken under the new settings; the old guard renews on.
        case taking
        /// Taken (or nothing to take): the successor's etcd state is ready and the reload may
        /// go ahead; the old guard still renews the old lease until the re-execution.
        case ready
        /// Given up: a new lease is being revoked; nothing more is handed over.
        case windingUp
    }

    /// The attempt at the new endpoints; nil when nothing is taken (no lease held, or `--etcd` removed).
    var attempt: EtcdLeaseMove?
    var stage: Stage
    /// Whether the move holds for a master: it is called off if the instance leaves MASTER.
    let forMaster: Bool
    /// Whether the reload's answer was given (``Instance/Action/etcdMoveSettled(refusal:)``).
    var settled = false

    /// Whether the lease held now is kept (found bound to the key under the new settings).
    var keepsLease: Bool {
        guard case .kept? = attempt?.outcome else { return false }
        return true
    }

    /// The successor's etcd state from the move: the new lease as a granted term, the old
    /// guard's state where the lease is kept, or none (a fresh guard, or no guard).
    func successorState(keeping old: InstanceSnapshot.Etcd?) -> InstanceSnapshot.Etcd? {
        switch attempt?.outcome {
        case .moved?:
            guard let lease = attempt?.heldLease else { return nil }
            return .init(
                guardState: .init(lease: lease, holdsKey: true, isMaster: true, wanting: true), grantedLease: lease.id)
        case .kept(_)?: return old
        case .refused?, nil: return nil
        }
    }
}
