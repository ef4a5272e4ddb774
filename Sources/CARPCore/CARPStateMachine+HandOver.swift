extension CARPStateMachine {
    /// A leaving master that still holds the address: make before break.
    ///
    /// On a planned departure (a step-down, `--shutdown`, a failed health check) the master
    /// sends its leaving advertisement and changes role at once, but keeps the address, and so
    /// runs no down script yet, until the new master has announced it: until that master's
    /// second advertisement (its first goes out as it takes over; by the second its up script
    /// has run and its gratuitous ARP, sent when that script is done, has gone out), or for at
    /// most `Configuration.handOverWait` when no new master shows up (no backup, or one too
    /// slow). Both hosts answer meanwhile, and the clients move with the gratuitous ARP: none
    /// of their requests falls in a gap. Then ``Action/releaseAddress(reason:)`` runs the down
    /// script. A crash, a carrier loss or a preferred master (which holds the address already)
    /// releases at once.
    ///
    /// It is the machine's, not a state's, because it outlives the role change it began with:
    /// BACKUP or FAULT may follow each other while the address is still held.
    public struct AddressRelease: Equatable, Sendable {
        /// Why the master left: the down script's `CARP_REASON`.
        public var reason: TransitionReason
        /// When the address goes at the latest.
        public var deadline: MonotonicInstant
        /// Advertisements heard from the new master so far.
        public var advertisementsHeard: Int
    }

    /// The new master's advertisements heard before the address goes.
    static let advertisementsBeforeRelease = 2

    /// Whether leaving MASTER for `reason` keeps the address until a new master announces it.
    func handsOver(from: Role, to role: Role, reason: TransitionReason) -> Bool {
        guard from == .master, role != .master, configuration.handOverWait != nil else { return false }
        switch reason {
        case .stepDown, .shutdown, .healthCheckFailed, .demoted:
            return true
        case .startup, .masterSilent, .preemption, .masterWillTimeOut, .preferredMasterAdvertised, .carrierLost,
            .healthCheckPassed, .leaseLost, .leaseExpired, .keyTaken:
            return false
        }
    }

    /// An advertisement from another host while we still hold the address: the second from
    /// a master that is not leaving too releases it.
    public mutating func heardWhileReleasing(_ advert: ReceivedAdvertisement) -> [Action] {
        guard var release = addressRelease else { return [] }
        guard !advert.isLeaving else { return [] }
        release.advertisementsHeard += 1
        guard release.advertisementsHeard >= Self.advertisementsBeforeRelease else {
            addressRelease = release
            return []
        }
        return releaseAddress()
    }

    /// The address goes now (the down script runs), if it is still held.
    public mutating func releaseAddress() -> [Action] {
        guard let release = addressRelease else { return [] }
        addressRelease = nil
        return [.releaseAddress(reason: release.reason)]
    }
}
