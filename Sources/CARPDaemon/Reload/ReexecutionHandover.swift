import CARPInstance
import SystemPackage

/// What a re-executed process finds its predecessor's hand-over by, a worker's
/// (``ResumeHandover``) or a supervisor's (``SupervisorHandover``) alike: the state, a
/// ``TextSnapshot`` in a memfd, and the old program held open, to fall back to with the reason
/// when the new binary cannot carry on.
package protocol ReexecutionHandover {
    associatedtype Snapshot: TextSnapshot
    /// The memfd holding the state.
    var state: FileDescriptor { get }
    /// The old program, held open across the execution.
    var oldProgram: FileDescriptor { get }
    /// Set in the old binary taken back: why the new one could not carry on.
    var fallbackReason: String? { get }
    /// The hidden arguments that name the descriptors (and the reason of a fallback).
    var arguments: [[UInt8]] { get }
    /// What the old binary carries on as, in a failure's message (` as the supervisor`, or nothing).
    static var fallingBackAs: String { get }
    /// The same hand-over for the old binary taken back because of `reason`.
    func fallingBack(because reason: String) -> Self
}

/// Far more than a snapshot's few lines; a larger one is refused.
let handedStateLimit = 1 << 16

extension ReexecutionHandover {
    /// Reads the predecessor's state.
    package func snapshot() throws(ReloadFailure) -> Snapshot {
        let bytes: [UInt8]
        do throws(DaemonError) {
            bytes = try System.readWhole(state, limit: handedStateLimit, subject: Snapshot.subject)
        } catch {
            throw ReloadFailure(error.description)
        }
        do throws(SnapshotDecodingError<Snapshot>) {
            return try Snapshot(decoding: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw ReloadFailure(error.description)
        }
    }

    /// The new binary cannot carry on: runs the old one again with the same state and the
    /// reason, so that it carries on and says why. Returns only if that failed too.
    package func fallBack(program: [UInt8], arguments: [[UInt8]], reason: String) -> ReloadFailure {
        guard fallbackReason == nil else {
            return ReloadFailure("the old binary could not carry on\(Self.fallingBackAs) either: \(reason)")
        }
        let argv = [program] + arguments + fallingBack(because: reason).arguments
        let errno = System.execute(.descriptor(oldProgram), argv: argv)
        return ReloadFailure("\(reason); falling back to the old binary failed: \(errno.description)")
    }
}
