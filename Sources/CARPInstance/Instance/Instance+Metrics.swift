import CARPCore
import Logging
import UCarpConfiguration

/// `--metrics-file`: when the file is rewritten, and what it shows.
///
/// It is written at once when what alerts watch changes (the state, the skew advertised, the
/// health verdict, a restored address), and at least every ``MetricsSchedule/refreshInterval`` for the
/// counters, so that its age (node_exporter's `node_textfile_mtime_seconds`) tells whether
/// the daemon still runs. At exit it is written once more with `ucarp_up` 0 and the state 0,
/// rather than removed: a stopped instance stays visible as stopped, and the "no master for
/// a vhid" alert counts it as what it is, not as a series gone missing.
extension Instance {
    typealias Headline = MetricsSchedule.Headline

    /// The `iname` label: `--name`, by default `vhid<N>` (the notify script's name too).
    var metricsInstanceName: String { settings.instanceName }

    /// The wall-clock time at `now`, in seconds since the epoch, from the shell's last reading
    /// (``wallClockRead(secondsSinceEpoch:at:)``); nil before the first.
    func wallClock(at now: MonotonicInstant) -> Double? {
        guard let wallClock else { return nil }
        let offset = Double(now.nanoseconds) - Double(wallClock.at.nanoseconds)
        return wallClock.secondsSinceEpoch + offset / 1e9
    }

    /// What the file shows now: stopped once the instance has finished.
    package var metricsSnapshot: MetricsSnapshot {
        MetricsSnapshot(
            version: version, instanceName: metricsInstanceName, interface: interfaceName, vhid: settings.vhid,
            virtualAddress: settings.virtualAddressList, running: phase != .finished, role: reportedRole,
            statistics: statistics, lastTransition: lastTransitionTime, advbase: settings.advbase,
            advskew: machine.effectiveSkew,
            healthCheck: health.map { _ in
                .init(
                    healthy: machine.healthy, passed: statistics.healthChecksPassed,
                    failed: statistics.healthChecksFailed)
            },
            etcd: etcd.map { .init(holdsKey: $0.granted, leaseLosses: UInt64($0.losses)) },
            demotion: machine.demotion, demotionCauses: group.ownCauses)
    }

    var metricsHeadline: Headline {
        Headline(
            role: reportedRole, transitions: statistics.transitions, advskew: machine.effectiveSkew,
            healthy: machine.healthy, addressRestores: statistics.addressRestores)
    }

    /// A write if what alerts watch has changed since the last one (or there was none yet);
    /// nothing without `--metrics-file`.
    mutating func writeMetrics(at now: MonotonicInstant) -> [Action] {
        // First, and cheap: without a metrics file nothing is read (this runs for every advert).
        guard metrics != nil else { return [] }
        let headline = metricsHeadline
        return carryOut(metrics?.changed(headline, at: now) ?? [])
    }

    /// The file's last version, at exit (once ``phase`` is finished).
    mutating func writeStoppedMetrics() -> [Action] {
        carryOut(metrics?.stopped() ?? [])
    }

    /// The periodic write, when it is due.
    mutating func refreshMetrics(at now: MonotonicInstant) -> [Action] {
        guard let due = metrics?.due, now >= due else { return [] }
        let headline = metricsHeadline
        return carryOut(metrics?.timePassed(headline, at: now) ?? [])
    }

    func carryOut(_ metricsActions: [MetricsSchedule.Action]) -> [Action] {
        metricsActions.map {
            switch $0 {
            case .write: .writeMetrics
            case .log(let level, let message): .log(level, message)
            }
        }
    }
}

extension Instance {
    /// The shell read the wall clock (`CLOCK_REALTIME`) at `now`: the metrics' timestamps
    /// are derived from it. The instance never reads a clock itself.
    package mutating func wallClockRead(secondsSinceEpoch: Double, at now: MonotonicInstant) {
        wallClock = (secondsSinceEpoch, now)
    }

    /// The outcome of a ``Action/writeMetrics``: nil when the file was replaced, else the
    /// system's reason. The first failure of a run of them is logged, and the recovery.
    package mutating func metricsWritten(failure: DaemonError?, at now: MonotonicInstant) -> [Action] {
        carryOut(metrics?.written(failure: failure) ?? [])
    }
}
