/// The group's share of the election: this instance's own demotion causes, the demotion
/// counters the other members of its `--group` publish in `--host-state`, and the counter
/// they add up to, which the election adds to the advertised skew
/// (``CARPStateMachine/demotionChanged(to:at:)``).
///
/// Plain values only, so that a reload can hand it on. Without `--group` the instance is a
/// group of one: its own causes count only when one of them is maintenance, the one cause that
/// is not already a state of the election.
package struct HostGroup: Equatable, Sendable {
    /// Another member's record, as read from the host-state directory.
    package struct Member: Equatable, Sendable {
        /// The record's name in the directory, which names the member.
        package var name: String
        /// What its own causes add up to.
        package var demotion: UInt32
        /// Whether its process still runs: a dead member stops counting.
        package var alive: Bool

        package init(name: String, demotion: UInt32, alive: Bool) {
            self.name = name
            self.demotion = demotion
            self.alive = alive
        }
    }

    /// `--group`'s name; nil without one.
    package let name: String?
    /// Our own causes, sorted.
    package private(set) var ownCauses: [DemotionCause] = []
    /// The other members of the group (alive or not) as last read.
    package private(set) var members: [Member] = []

    package init(name: String?) {
        self.name = name
    }

    /// What our own causes add up to, which our record publishes.
    package var ownDemotion: UInt32 {
        Self.demotion(of: ownCauses)
    }

    /// The counter the election adds to the skew: our own demotion and every live member's.
    /// A group of one counts maintenance alone (the other causes already keep it out).
    package var counter: UInt32 {
        guard name != nil else { return ownCauses.contains(.maintenance) ? DemotionCause.factor : 0 }
        return members.filter(\.alive).reduce(ownDemotion) { sum, member in
            sum.addingReportingOverflow(member.demotion).overflow ? .max : sum + member.demotion
        }
    }

    /// The members that demote the group now, by name, for the logs and `--status`.
    package var demotingMembers: [String] {
        members.filter { $0.alive && $0.demotion > 0 }.map(\.name)
    }

    /// Our causes are these now; true when the counter changed.
    package mutating func ownCausesAre(_ causes: Set<DemotionCause>) -> Bool {
        let before = counter
        ownCauses = causes.sorted()
        return counter != before
    }

    /// The other members are these now; true when the counter changed.
    package mutating func membersAre(_ members: [Member]) -> Bool {
        let before = counter
        self.members = members.sorted { $0.name < $1.name }
        return counter != before
    }

    /// `causes` as a counter: ``DemotionCause/factor`` each, clamped to ``UInt32/max``.
    package static func demotion(of causes: [DemotionCause]) -> UInt32 {
        UInt32(min(causes.count, Int(UInt32.max / DemotionCause.factor))) * DemotionCause.factor
    }
}
