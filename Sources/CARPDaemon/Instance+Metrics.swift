import CARPCore

/// `--metrics-file`: when the file is rewritten, and what it shows.
///
/// It is written at once when what alerts watch changes (the state, the skew advertised, the
/// health verdict, a restored address), and at least every ``metricsRefreshInterval`` for the
/// counters, so that its age (node_exporter's `node_textfile_mtime_seconds`) tells whether
/// the daemon still runs. At exit it is written once more with `ucarp_up` 0 and the state 0,
/// rather than removed: a stopped instance stays visible as stopped, and the "no master for
/// a vhid" alert counts it as what it is, not as a series gone missing.
extension Instance {
    /// The longest the file goes without being rewritten.
    static let metricsRefreshInterval = MonotonicDuration.seconds(10)

    struct MetricsSchedule: Equatable {
        /// The next periodic write; nil before the first.
        var due: MonotonicInstant?
        /// What the last write showed of what is written at once when it changes.
        var written: Headline?
        /// Whether the last write failed (its error was logged; the next ones are not).
        var failing = false
    }

    /// What the file is written at once for when it changes.
    struct Headline: Equatable {
        var role: CARPStateMachine.Role
        var transitions: UInt64
        var advskew: UInt8
        var healthy: Bool?
        var addressRestores: UInt64
    }

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
    var metricsSnapshot: MetricsSnapshot {
        MetricsSnapshot(
            version: version, instanceName: metricsInstanceName, interface: interfaceName, vhid: settings.vhid,
            virtualAddress: settings.virtualAddressList, running: phase != .finished, role: machine.role,
            statistics: statistics, lastTransition: lastTransitionTime, advbase: settings.advbase,
            advskew: machine.effectiveSkew,
            healthCheck: health.map { _ in
                .init(
                    healthy: machine.healthy, passed: statistics.healthChecksPassed,
                    failed: statistics.healthChecksFailed)
            })
    }

    var metricsHeadline: Headline {
        Headline(
            role: machine.role, transitions: statistics.transitions, advskew: machine.effectiveSkew,
            healthy: machine.healthy, addressRestores: statistics.addressRestores)
    }

    /// A write if what alerts watch has changed since the last one (or there was none yet);
    /// nothing without `--metrics-file`.
    mutating func writeMetrics(at now: MonotonicInstant, evenIfUnchanged: Bool = false) -> [Action] {
        guard var schedule = metrics else { return [] }
        let headline = metricsHeadline
        guard evenIfUnchanged || schedule.written != headline else { return [] }
        schedule.written = headline
        schedule.due = now + Self.metricsRefreshInterval
        metrics = schedule
        return [.writeMetrics]
    }

    /// The file's last version, at exit (once ``phase`` is finished).
    mutating func writeStoppedMetrics() -> [Action] {
        guard metrics != nil else { return [] }
        metrics?.due = nil
        return [.writeMetrics]
    }

    /// The periodic write, when it is due.
    mutating func refreshMetrics(at now: MonotonicInstant) -> [Action] {
        guard let due = metrics?.due, now >= due else { return [] }
        return writeMetrics(at: now, evenIfUnchanged: true)
    }
}

extension Instance {
    /// The shell read the wall clock (`CLOCK_REALTIME`) at `now`: the metrics' timestamps
    /// are derived from it. The instance never reads a clock itself.
    mutating func wallClockRead(secondsSinceEpoch: Double, at now: MonotonicInstant) {
        wallClock = (secondsSinceEpoch, now)
    }

    /// The outcome of a ``Action/writeMetrics``: nil when the file was replaced, else the
    /// system's reason. The first failure of a run of them is logged, and the recovery.
    mutating func metricsWritten(failure: String?, at now: MonotonicInstant) -> [Action] {
        guard let path = settings.metricsFile, var schedule = metrics else { return [] }
        defer { metrics = schedule }
        switch (failure, schedule.failing) {
        case (let failure?, false):
            schedule.failing = true
            return [.log(.error, "Unable to write the metrics file \(path): \(failure)")]
        case (nil, true):
            schedule.failing = false
            return [.log(.info, "The metrics file \(path) is written again")]
        default:
            return []
        }
    }
}
