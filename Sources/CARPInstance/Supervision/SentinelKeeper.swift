import CARPCore

/// What a foreground daemon decides about its sentinel (``SentinelStateMachine``) beyond what
/// it tells it: a fresh one after a reload (the settings may have changed), and one that died
/// or stopped reading replaced, until replacements keep dying young.
///
/// The daemon carries out the decision: it starts the fresh sentinel, tells it the role and
/// the scripts' pids, then retires the old one (``Retirement``).
package struct SentinelKeeper {
    /// Why the sentinel is to be replaced.
    package enum Loss: Equatable, Sendable {
        /// The daemon re-executed itself (`ucarp --reload`): the old sentinel holds the
        /// settings of before, which may name other scripts, another state file, another
        /// `--xparam`.
        case reloaded
        /// Its pipe has no reader any more: the sentinel ended (killed by hand, a crash).
        case ended
        /// A write to its pipe would block: the sentinel reads no more (stopped, stuck).
        case stuck
    }

    /// How the old sentinel goes.
    package enum Retirement: Equatable, Sendable {
        /// Told LEAVING, then its pipe closed: it exits quietly, after the fresh one is told.
        case leaving
        /// SIGKILL, before its pipe is closed: one that did not hear everything must never
        /// act on the pipe's end (a stopped sentinel would otherwise wake to EOF without
        /// LEAVING and release the address of a daemon alive).
        case killed
    }

    package enum Decision: Equatable, Sendable {
        /// Start a fresh sentinel, and retire the old one so; `warning` for the log.
        case replace(Retirement, warning: String?)
        /// No fresh sentinel: the old one killed, the daemon goes on without (as ucarp's).
        case giveUp(warning: String)
    }

    /// A sentinel that ends sooner than this after its start died young: it may not be able
    /// to start at all (its command line no longer reads), so these are not replaced forever.
    package static let youngAgeSeconds: UInt64 = 5
    /// Sentinels dead young in a row after which no fresh one is started.
    package static let youngDeathsAllowed = 3

    private var startedAt: MonotonicInstant?
    private var youngDeaths = 0

    package init() {}

    /// A sentinel started at `now` (the first one, or a replacement).
    package mutating func started(at now: MonotonicInstant) {
        startedAt = now
    }

    /// The sentinel `pid` is lost for `loss` at `now`: replace it or give up.
    package mutating func lost(_ loss: Loss, pid: Int32?, at now: MonotonicInstant) -> Decision {
        let name = pid.map { "The sentinel (pid \($0))" } ?? "The sentinel"
        switch loss {
        case .reloaded:
            return .replace(.leaving, warning: nil)
        case .ended, .stuck:
            let young = startedAt.map { now.duration(since: $0) < .seconds(Self.youngAgeSeconds) } ?? false
            youngDeaths = young ? youngDeaths + 1 : 0
            let what = loss == .ended ? "ended" : "does not read its pipe: killed"
            if youngDeaths >= Self.youngDeathsAllowed {
                return .giveUp(
                    warning:
                        "\(name) \(what); \(youngDeaths) sentinels in a row ended within \(Self.youngAgeSeconds) s of their start: no fresh one, a SIGKILL of this process would leave the address"
                )
            }
            return .replace(.killed, warning: "\(name) \(what): a fresh one is started")
        }
    }
}
