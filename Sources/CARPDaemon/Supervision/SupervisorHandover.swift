import CARPInstance
import Glibc
import SystemPackage

/// What a re-executing ``Supervisor`` hands the binary on disk, by descriptors that survive
/// `execve`, named by a hidden last argument (`--swiftcarp-supervise=STATE,REPORTS,PIDFILE,PROGRAM`):
/// its state (a ``SupervisorStateMachine/Snapshot`` in a memfd), the read end of the worker's
/// pipe, the pid file open and locked (-1 without `--pidfile`), and the old program held open,
/// to fall back to (with `--swiftcarp-supervise-fallback=REASON` after it) when the new one
/// cannot carry on.
///
/// The worker stays the process's child across `execve`: one that dies meanwhile is reaped by
/// the new image (``SupervisorStateMachine/resumed(at:)``), its SIGCHLD pending in the mask
/// that `execve` keeps, like every signal the supervisor blocks for its signalfd.
package struct SupervisorHandover: ReexecutionHandover {
    package typealias Snapshot = SupervisorStateMachine.Snapshot
    static let prefix = "--swiftcarp-supervise="
    static let fallbackPrefix = "--swiftcarp-supervise-fallback="
    package static let fallingBackAs = " as the supervisor"

    package let state: FileDescriptor
    let reports: FileDescriptor
    let pidFile: FileDescriptor?
    package let oldProgram: FileDescriptor
    /// Set in the old binary taken back: why the new one could not carry on.
    package let fallbackReason: String?

    init(
        state: FileDescriptor, reports: FileDescriptor, pidFile: FileDescriptor?, oldProgram: FileDescriptor,
        fallbackReason: String? = nil
    ) {
        self.state = state
        self.reports = reports
        self.pidFile = pidFile
        self.oldProgram = oldProgram
        self.fallbackReason = fallbackReason
    }

    /// The hidden arguments that name the descriptors (and the reason of a fallback).
    package var arguments: [[UInt8]] {
        let numbers = [state, reports, pidFile ?? FileDescriptor(rawValue: -1), oldProgram]
            .map { "\($0.rawValue)" }.joined(separator: ",")
        return [Array((Self.prefix + numbers).utf8)]
            + (fallbackReason.map { [Array((Self.fallbackPrefix + $0).utf8)] } ?? [])
    }

    /// The command line without the hidden arguments, and the hand-over they name, if any.
    package static func take(from arguments: [[UInt8]]) -> (arguments: [[UInt8]], handover: SupervisorHandover?) {
        var arguments = arguments
        var reason: String?
        if let last = arguments.last, last.starts(with: Array(fallbackPrefix.utf8)) {
            reason = String(decoding: last.dropFirst(fallbackPrefix.utf8.count), as: UTF8.self)
            arguments.removeLast()
        }
        guard let last = arguments.last, last.starts(with: Array(prefix.utf8)) else { return (arguments, nil) }
        let numbers = String(decoding: last.dropFirst(prefix.utf8.count), as: UTF8.self)
            .split(separator: ",").compactMap { CInt($0) }
        guard numbers.count == 4, numbers[0] > 2, numbers[1] > 2, numbers[2] == -1 || numbers[2] > 2, numbers[3] > 2
        else { return (arguments, nil) }
        arguments.removeLast()
        let descriptors = numbers.map(FileDescriptor.init(rawValue:))
        return (
            arguments,
            SupervisorHandover(
                state: descriptors[0], reports: descriptors[1], pidFile: numbers[2] == -1 ? nil : descriptors[2],
                oldProgram: descriptors[3], fallbackReason: reason)
        )
    }

    /// The same hand-over for the old binary taken back (``fallBack(program:arguments:reason:)``:
    /// should that fail too, the worker, its supervisor gone, hears of it on its pipe).
    package func fallingBack(because reason: String) -> SupervisorHandover {
        SupervisorHandover(
            state: state, reports: reports, pidFile: pidFile, oldProgram: oldProgram, fallbackReason: reason)
    }
}
