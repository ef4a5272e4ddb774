import CARPInstance
import Glibc
import SystemPackage
import UCarpConfiguration

/// What a re-executing daemon hands its successor, by descriptors that survive `execve`,
/// named by a hidden last argument (`--swiftcarp-resume=STATE,LISTENER,CLIENT,PROGRAM`):
/// the state (an ``InstanceSnapshot`` in a memfd), the control socket's listener, the
/// `--reload` client's connection (the answer comes from the successor, so that exit 0 means
/// the new binary runs), the old program held open (to fall back to, with
/// `--swiftcarp-fallback=REASON` after it, when the new one cannot carry on), and with
/// `--daemonize` the pipe to the ``Supervisor`` (-1 without).
package struct ResumeHandover: ReexecutionHandover {
    package typealias Snapshot = InstanceSnapshot
    static let resumePrefix = "--swiftcarp-resume="
    static let fallbackPrefix = "--swiftcarp-fallback="
    package static let fallingBackAs = ""

    package let state: FileDescriptor
    let listener: FileDescriptor
    let client: FileDescriptor
    package let oldProgram: FileDescriptor
    /// A `--daemonize` worker's pipe to its supervisor, which stays as it is.
    package let supervisor: FileDescriptor?
    /// Set in the old binary taken back: why the new one could not carry on.
    package let fallbackReason: String?

    /// The hidden arguments that name the descriptors (and the reason of a fallback).
    package var arguments: [[UInt8]] {
        let numbers = [state, listener, client, oldProgram, supervisor ?? FileDescriptor(rawValue: -1)]
            .map { "\($0.rawValue)" }.joined(separator: ",")
        return [Array((Self.resumePrefix + numbers).utf8)]
            + (fallbackReason.map { [Array((Self.fallbackPrefix + $0).utf8)] } ?? [])
    }

    init(
        state: FileDescriptor, listener: FileDescriptor, client: FileDescriptor, oldProgram: FileDescriptor,
        supervisor: FileDescriptor?, fallbackReason: String? = nil
    ) {
        self.supervisor = supervisor
        self.state = state
        self.listener = listener
        self.client = client
        self.oldProgram = oldProgram
        self.fallbackReason = fallbackReason
    }

    /// The command line without the hidden arguments, and the hand-over they name, if any.
    package static func take(from arguments: [[UInt8]]) -> (arguments: [[UInt8]], handover: ResumeHandover?) {
        var arguments = arguments
        var reason: String?
        if let last = arguments.last, last.starts(with: Array(fallbackPrefix.utf8)) {
            reason = String(decoding: last.dropFirst(fallbackPrefix.utf8.count), as: UTF8.self)
            arguments.removeLast()
        }
        guard let last = arguments.last, last.starts(with: Array(resumePrefix.utf8)) else {
            return (arguments, nil)
        }
        let numbers = String(decoding: last.dropFirst(resumePrefix.utf8.count), as: UTF8.self)
            .split(separator: ",").compactMap { CInt($0) }
        guard numbers.count == 5, numbers.prefix(4).allSatisfy({ $0 > 2 }), numbers[4] == -1 || numbers[4] > 2 else {
            return (arguments, nil)
        }
        arguments.removeLast()
        let descriptors = numbers.map(FileDescriptor.init(rawValue:))
        return (
            arguments,
            ResumeHandover(
                state: descriptors[0], listener: descriptors[1], client: descriptors[2],
                oldProgram: descriptors[3], supervisor: numbers[4] == -1 ? nil : descriptors[4],
                fallbackReason: reason)
        )
    }

    /// The same hand-over for the old binary taken back (``fallBack(program:arguments:reason:)``:
    /// it carries on and tells the client; should that fail too, the caller answers the client
    /// and leaves).
    package func fallingBack(because reason: String) -> ResumeHandover {
        ResumeHandover(
            state: state, listener: listener, client: client, oldProgram: oldProgram, supervisor: supervisor,
            fallbackReason: reason)
    }

    /// Tells the `--reload` client (exit 1 there) and forgets the descriptors.
    package func fail(_ failure: ReloadFailure) {
        ControlSocket.answer(client, "failed: \(failure.message)\n")
    }
}

/// Why a reload failed, as the `--reload` client shows it.
package struct ReloadFailure: Error, CustomStringConvertible {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// What the daemon needs to re-execute itself on `ucarp --reload`.
package struct ReloadContext {
    /// argv[0] as given.
    package var program: [UInt8]
    /// The arguments as given at start-up (without the hidden ones), read again at each reload.
    package var arguments: [[UInt8]]
    /// The binary on disk, resolved at start-up (`/proc/self/exe`): a package upgrade puts
    /// the new one there.
    package var executable: String?
    package var identity: InstanceIdentity
    /// The directory the instance started in (`--daemonize` moves to / afterwards): relative
    /// paths of the arguments are read from there again.
    package var startDirectory: String?
    /// Set when this process carries on from a predecessor.
    package var resume: (handover: ResumeHandover, snapshot: InstanceSnapshot)?

    package init(
        program: [UInt8], arguments: [[UInt8]], identity: InstanceIdentity, startDirectory: String?,
        resume: (handover: ResumeHandover, snapshot: InstanceSnapshot)?
    ) {
        self.startDirectory = startDirectory
        self.program = program
        self.arguments = arguments
        self.identity = identity
        self.resume = resume
        executable = Self.ownExecutable()
    }

    /// The same instance started afresh (a `--daemonize` worker started again): nothing to
    /// resume from.
    init(fresh context: ReloadContext) {
        self = context
        resume = nil
    }

    /// `readlink /proc/self/exe`; nil without /proc.
    static func ownExecutable() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let path = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // The old binary taken back after a failed reload runs a file replaced on disk since:
        // the next reload executes the path, where the new one is.
        let deleted = " (deleted)"
        return path.hasSuffix(deleted) ? String(path.dropLast(deleted.count)) : path
    }
}
