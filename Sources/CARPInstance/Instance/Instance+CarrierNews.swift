import CARPCore
import UCarpConfiguration

/// The carrier read on news instead of at every wake-up: the shell's rtnetlink socket hears
/// `RTM_NEWLINK` whenever the interface's flags change (the kernel sends it when `IFF_RUNNING`
/// does, at the moment `SIOCGIFFLAGS` would show it), and reads the carrier then; a lost
/// message (`ENOBUFS`) makes it read the carrier once more. ucarp's "at the latest 1.05 s"
/// holds: the reading follows the change instead of waiting for the next second.
extension Instance {
    /// The shell reads the carrier whenever the link's news comes (and when news was lost):
    /// no reading is due at ``carrierCheckInterval`` from now on, so an idle instance wakes
    /// only for its adverts.
    package mutating func carrierNewsWatched() {
        carrierNewsHeard = true
        carrierCheckDue = nil
    }

    /// The next reading of the carrier due ``carrierCheckInterval`` after this one, unless
    /// `--ignoreifstate` or the shell reads it on news.
    mutating func armCarrierCheck(at now: MonotonicInstant) {
        guard !settings.ignoreInterfaceState, !carrierNewsHeard else { return }
        carrierCheckDue = now + Self.carrierCheckInterval
    }
}
