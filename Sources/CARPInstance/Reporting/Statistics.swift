import CARPCore

/// Counters of one instance, for the status line (SIGUSR1) and `--metrics-file`.
package struct Statistics: Equatable, Sendable {
    var advertisementsSent: UInt64 = 0
    var advertisementsReceived: UInt64 = 0
    var sendErrors: UInt64 = 0
    var transitions: UInt64 = 0
    var dropped: [DropReason: UInt64] = [:]
    /// The changes of state, by the state changed to (the metrics' alone, as those below).
    var transitionsTo: [CARPStateMachine.Role: UInt64] = [:]
    /// The up script run again while master because the address vanished (`address-lost`).
    var addressRestores: UInt64 = 0
    var healthChecksPassed: UInt64 = 0
    var healthChecksFailed: UInt64 = 0

    init() {}

    mutating func countDrop(_ reason: DropReason) {
        dropped[reason, default: 0] += 1
    }

    /// `sent 12, received 30, send errors 0, transitions 2, dropped: bad-digest 3`.
    var summary: String {
        let drops = DropReason.allCases.compactMap { reason in
            dropped[reason].map { "\(reason.rawValue) \($0)" }
        }
        return "sent \(advertisementsSent), received \(advertisementsReceived), send errors \(sendErrors), "
            + "transitions \(transitions), dropped: \(drops.isEmpty ? "none" : drops.joined(separator: ", "))"
    }
}
