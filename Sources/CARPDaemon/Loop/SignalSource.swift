import CARPInstance
import Glibc
import SystemPackage

/// Signals delivered as readable data on a `signalfd`, so the poll loop sees them like
/// packets and no handler ever runs in signal context.
final class SignalSource {
    let descriptor: FileDescriptor

    /// Blocks `signals` and opens a signalfd for them. Scripts are spawned with every signal
    /// unblocked again.
    init(signals: [CInt]) throws(DaemonError) {
        descriptor = try System.signalDescriptor(for: signals)
    }

    deinit {
        System.release(descriptor)
    }

    /// Every signal pending now.
    func pending() -> [CInt] {
        var signals: [CInt] = []
        // A read of our own signalfd fails only on a bug (EBADF, EINVAL): the batch then ends
        // as if none were left, and the next poll reports the descriptor again.
        while let signal = try? System.nextSignal(from: descriptor) {
            signals.append(signal)
        }
        return signals
    }
}
