/// Turns a stream of health check results into a verdict, as keepalived's `fall` and `rise`:
/// `fall` failures in a row make a healthy service unhealthy, `rise` passes in a row make it
/// healthy again. The first result decides at once, so start-up is not delayed.
public struct HealthMonitor: Equatable, Sendable {
    public let fall: Int
    public let rise: Int
    public private(set) var healthy: Bool?
    /// Consecutive results contradicting the current verdict.
    public private(set) var streak = 0

    public init(fall: Int, rise: Int) {
        precondition(fall >= 1 && rise >= 1, "fall and rise count at least one result")
        self.fall = fall
        self.rise = rise
    }

    /// Going on from a predecessor's verdict and streak (`ucarp --reload`), with this process's
    /// `fall` and `rise`.
    public init(fall: Int, rise: Int, healthy: Bool?, streak: Int) {
        self.init(fall: fall, rise: rise)
        self.healthy = healthy
        self.streak = healthy == nil ? 0 : max(0, streak)
    }

    /// Records one result; returns the new verdict when it changed.
    public mutating func record(passed: Bool) -> Bool? {
        guard let healthy else {
            self.healthy = passed
            return passed
        }
        guard passed != healthy else {
            streak = 0
            return nil
        }
        streak += 1
        guard streak >= (healthy ? fall : rise) else { return nil }
        streak = 0
        self.healthy = passed
        return passed
    }
}
