import CSystemShims
import Glibc

/// Signals delivered as readable data on a `signalfd`, so the poll loop sees them like
/// packets and no handler ever runs in signal context.
final class SignalSource {
    let descriptor: CInt

    /// Blocks `signals` and opens a signalfd for them. Scripts are spawned with every signal
    /// unblocked again.
    init(signals: [CInt]) throws(DaemonError) {
        descriptor = signals.withUnsafeBufferPointer { swiftcarp_signalfd($0.baseAddress, CInt($0.count)) }
        guard descriptor >= 0 else { throw DaemonError.lastError("signalfd", "\(signals)") }
    }

    deinit {
        close(descriptor)
    }

    /// Every signal pending now.
    func pending() -> [CInt] {
        var signals: [CInt] = []
        while true {
            let signal = swiftcarp_read_signal(descriptor)
            guard signal > 0 else { break }
            signals.append(signal)
        }
        return signals
    }
}
