import CARPCore
import Logging
import UCarpConfiguration

/// When the `--metrics-file` is rewritten.
///
/// It is written at once when what alerts watch changes (the ``Headline``), and at least every
/// ``refreshInterval`` for the counters, so that its age (node_exporter's
/// `node_textfile_mtime_seconds`) tells whether the daemon still runs. At exit it is written
/// once more (stopped) rather than removed: a stopped instance stays visible as stopped.
/// The first failure of a run of them is logged, and the recovery.
struct MetricsSchedule: Equatable {
    /// What the file is written at once for when it changes.
    struct Headline: Equatable {
        var role: CARPStateMachine.Role
        var transitions: UInt64
        var advskew: UInt8
        var healthy: Bool?
        var addressRestores: UInt64
    }

    enum Action: Equatable {
        /// Replace the file with what the instance shows now.
        case write
        case log(Logger.Level, String)
    }

    /// The longest the file goes without being rewritten.
    static let refreshInterval = MonotonicDuration.seconds(10)

    /// The file, for the log lines.
    let path: String
    /// The next periodic write; nil before the first, and after the last.
    private(set) var due: MonotonicInstant?
    /// What the last write showed of what is written at once when it changes.
    private(set) var written: Headline?
    /// Whether the last write failed (its error was logged; the next ones are not).
    private(set) var failing = false

    init(path: String) {
        self.path = path
    }

    /// A write if `headline` differs from the last one written (or none was yet).
    mutating func changed(_ headline: Headline, at now: MonotonicInstant) -> [Action] {
        guard written != headline else { return [] }
        return write(headline, at: now)
    }

    /// The periodic write, when it is due.
    mutating func timePassed(_ headline: Headline, at now: MonotonicInstant) -> [Action] {
        guard let due, now >= due else { return [] }
        return write(headline, at: now)
    }

    /// The last write, at exit.
    mutating func stopped() -> [Action] {
        due = nil
        return [.write]
    }

    /// The outcome of a ``Action/write``: nil when the file was replaced.
    mutating func written(failure: DaemonError?) -> [Action] {
        switch (failure, failing) {
        case (let failure?, false):
            failing = true
            return [.log(.error, "Unable to write the metrics file \(path): \(failure.description)")]
        case (nil, true):
            failing = false
            return [.log(.info, "The metrics file \(path) is written again")]
        case (_?, true), (nil, false):
            return []
        }
    }

    private mutating func write(_ headline: Headline, at now: MonotonicInstant) -> [Action] {
        written = headline
        due = now + Self.refreshInterval
        return [.write]
    }
}
