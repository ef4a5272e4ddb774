/// Why an instance demotes itself and its group: each cause adds to the group's demotion
/// counter, as each BSD cause (`carpdemote`) raises its interface group's.
package enum DemotionCause: String, CaseIterable, Comparable, Sendable {
    /// The interface has no carrier, or is gone.
    case carrierLost = "carrier-lost"
    /// The health check failed (FAULT).
    case checkFailed = "check-failed"
    /// SIGUSR2's hold after a step-down.
    case stepDown = "step-down"
    /// Advertisements cannot be sent (ucarp's three write errors).
    case sendError = "send-error"
    /// `ucarp --maintenance=on`, for the host or for our group.
    case maintenance

    package static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.order < rhs.order
    }

    private var order: Int {
        Self.allCases.firstIndex(of: self) ?? 0
    }

    /// What one cause adds to the counter: FreeBSD's `net.inet.carp.ifdown_demotion_factor`
    /// and `senderr_demotion_factor` default to 240 (`CARP_MAXSKEW`), so that one cause alone
    /// takes the skew to its clamp.
    package static let factor: UInt32 = 240
}
