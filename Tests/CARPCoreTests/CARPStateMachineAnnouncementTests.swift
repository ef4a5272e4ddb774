import TestSupport
import Testing

@testable import CARPCore

/// `--garp-repeat`, `--garp-interval` and `--garp-refresh`: how a master announces the address,
/// on virtual time. The default schedule is ucarp's (see `CARPStateMachineTests`).
@Suite struct CARPStateMachineAnnouncementTests {
    typealias Schedule = CARPStateMachine.AnnouncementSchedule

    func announcing(_ schedule: Schedule) -> CARPStateMachine.Configuration {
        var configuration = configuration()
        configuration.announcements = schedule
        return configuration
    }

    /// The ARPs among `actions`.
    func arps(_ actions: [Action]) -> Int { actions.filter { $0 == .announceAddresses }.count }

    @Test func theDefaultScheduleIsUcarpsTwoAnnouncementsTiedToTheAdvertisements() {
        #expect(configuration().announcements == Schedule(count: 2, spacing: .advertisements(2), refresh: nil))
    }

    @Test func moreRepeatsFollowEverySecondAdvertisement() throws {
        var (machine, since) = try master(announcing(Schedule(count: 4, spacing: .advertisements(2))))
        var sent: [Int] = []
        for second in 1...10 {
            let actions = machine.deadlinePassed(at: since + .seconds(UInt64(second)))
            #expect(actions.first == .sendAdvertisement(advbase: 1, advskew: 0, counter: ownCounter(after: second)))
            if arps(actions) > 0 { sent.append(second) }
        }
        // The take-over's own ARP, then three more, each two advertisements after the last.
        #expect(sent == [2, 4, 6])
    }

    @Test func aSingleAnnouncementIsTheTakeOversOwn() throws {
        var (machine, since) = try master(announcing(Schedule(count: 1, spacing: .advertisements(2))))
        for second in 1...6 {
            #expect(arps(machine.deadlinePassed(at: since + .seconds(UInt64(second)))) == 0)
        }
    }

    @Test func anIntervalTimesTheRepeatsOnTheirOwnTimer() throws {
        var machine = backup(announcing(Schedule(count: 3, spacing: .interval(.milliseconds(300)))))
        let since = t0 + .seconds(3)
        #expect(
            machine.deadlinePassed(at: since) == [
                .changeState(from: .backup, to: .master, reason: .masterSilent, runScript: true),
                .announceAddresses,
                .sendAdvertisement(advbase: 1, advskew: 0, counter: 1000),
            ])
        #expect(machine.nextDeadline == since + .milliseconds(300))
        expectDeadlineIsExact(machine)
        #expect(machine.deadlinePassed(at: since + .milliseconds(300)) == [.announceAddresses])
        // A late wake-up times the next one from when this one went out.
        #expect(machine.deadlinePassed(at: since + .milliseconds(700)) == [.announceAddresses])
        #expect(machine.nextDeadline == since + .seconds(1))
        // The series is complete: the advertisements go on alone.
        for second in 1...4 {
            #expect(
                machine.deadlinePassed(at: since + .seconds(UInt64(second))) == [
                    .sendAdvertisement(advbase: 1, advskew: 0, counter: ownCounter(after: second))
                ])
        }
    }

    @Test func aZeroIntervalSendsTheWholeSeriesAtOnce() {
        var machine = backup(announcing(Schedule(count: 3, spacing: .interval(.nanoseconds(0)))))
        let actions = machine.deadlinePassed(at: t0 + .seconds(3))
        #expect(
            withoutLogs(actions) == [
                .changeState(from: .backup, to: .master, reason: .masterSilent, runScript: true),
                .announceAddresses,
                .sendAdvertisement(advbase: 1, advskew: 0, counter: 1000),
                .announceAddresses,
                .announceAddresses,
            ])
        #expect(machine.nextDeadline == t0 + .seconds(4))
    }

    @Test func aRefreshAnnouncesWhileMasterAndStopsWithTheRole() throws {
        var (machine, since) = try master(
            announcing(Schedule(count: 1, spacing: .advertisements(2), refresh: .milliseconds(2500))))
        var announced: [MonotonicInstant] = []
        while let deadline = machine.nextDeadline, deadline <= since + .seconds(8) {
            if arps(machine.deadlinePassed(at: deadline)) > 0 { announced.append(deadline) }
        }
        #expect(announced == [since + .milliseconds(2500), since + .seconds(5), since + .milliseconds(7500)])
        _ = machine.stepDown(at: since + .seconds(9))
        #expect(
            machine.state == .backup(.init(timer: .masterDown(since + .seconds(15)), holdUntil: since + .seconds(12))))
    }

    @Test func aRefreshDueWithAnAdvertisementGoesOutWithIt() throws {
        var (machine, since) = try master(
            announcing(Schedule(count: 1, spacing: .advertisements(2), refresh: .seconds(2))))
        #expect(withoutLogs(machine.deadlinePassed(at: since + .seconds(1))).count == 1)
        #expect(
            machine.deadlinePassed(at: since + .seconds(2)) == [
                .sendAdvertisement(advbase: 1, advskew: 0, counter: ownCounter(after: 2)), .announceAddresses,
            ])
    }

    @Test func reassertingStartsANewSeriesAndKeepsTheRefresh() throws {
        let schedule = Schedule(count: 3, spacing: .interval(.milliseconds(200)), refresh: .seconds(10))
        var (machine, since) = try master(announcing(schedule))
        _ = machine.deadlinePassed(at: since + .milliseconds(200))
        _ = machine.deadlinePassed(at: since + .milliseconds(400))
        let now = since + .milliseconds(500)
        #expect(withoutLogs(machine.received(advert(advskew: 100), at: now)) == [.announceAddresses])
        guard case .master(let master) = machine.state else {
            Issue.record("not master")
            return
        }
        #expect(master.announcements == .at(now + .milliseconds(200), thenMore: 1))
        #expect(master.refreshAt == since + .seconds(10))
        #expect(master.advertiseAt == since + .seconds(1))
    }

    @Test func aSeriesOnItsOwnTimerLeavesNothingForTheNextTerm() throws {
        var (machine, since) = try master(announcing(Schedule(count: 2, spacing: .interval(.seconds(5)))))
        _ = machine.stepDown(at: since + .milliseconds(500))
        let resume = try #require(machine.nextDeadline)
        // The take-over's ARP and advertisement only, and the series' second ARP 5 s later.
        #expect(withoutLogs(machine.deadlinePassed(at: resume)).count == 3)
        #expect(machine.nextDeadline == resume + .seconds(1))
    }

    /// A fixed-seed walk of take-overs, adverts heard (preferred and not), step-downs, carrier
    /// flaps and deadlines, with a series on its own timer: only a master announces, the
    /// deadline is exact, and a term that is never reasserted sends exactly its series (and
    /// its refreshes), however it is cut short.
    @Test(arguments: [
        Schedule(count: 3, spacing: .interval(.milliseconds(300))),
        Schedule(count: 5, spacing: .interval(.milliseconds(700)), refresh: .milliseconds(2500)),
        Schedule(count: 4, spacing: .interval(.nanoseconds(0)), refresh: .seconds(1)),
    ])
    func randomWalkSendsEachTermItsSeries(schedule: Schedule) {
        var random = SplitMix(state: UInt64(schedule.count) << 8 | 0x5EED)
        var machine = CARPStateMachine(configuration: announcing(schedule))
        var now = t0
        _ = machine.start(at: now)
        guard case .interval(let interval) = schedule.spacing else {
            Issue.record("the walk is for a series on its own timer")
            return
        }
        var term: (start: MonotonicInstant, arps: Int, reasserted: Bool)?
        var terms = 0
        var checkedTerms = 0

        /// What a term that began at `start` and ends at `end` must have sent.
        func expected(from start: MonotonicInstant, to end: MonotonicInstant) -> ClosedRange<Int> {
            let elapsed = end.duration(since: start).nanoseconds
            let series =
                interval.nanoseconds == 0
                ? schedule.count : min(schedule.count, 1 + Int(elapsed / interval.nanoseconds))
            let refreshes = schedule.refresh.map { Int(elapsed / $0.nanoseconds) } ?? 0
            // A late wake-up may push a series or refresh announcement past the term's end.
            return max(series - 1, 1) + max(refreshes - 1, 0)...series + refreshes
        }

        func check(_ actions: [Action], _ note: String) {
            for action in actions {
                switch action {
                case .changeState(let from, let to, _, _):
                    if from == .master, let ended = term {
                        if !ended.reasserted {
                            #expect(expected(from: ended.start, to: now).contains(ended.arps), "\(note): \(ended)")
                            checkedTerms += 1
                        }
                        term = nil
                    }
                    if to == .master {
                        term = (now, 0, false)
                        terms += 1
                    }
                case .announceAddresses:
                    #expect(machine.role == .master || term != nil, "\(note)")
                    term?.arps += 1
                default:
                    break
                }
            }
            if machine.role != .master { #expect(term == nil, "\(note)") }
            expectDeadlineIsExact(machine)
        }

        for step in 0..<2_000 {
            let eventTime = now + .nanoseconds(UInt64(random.below(1_500_000_000)))
            while let deadline = machine.nextDeadline, deadline <= eventTime {
                now = deadline
                check(machine.deadlinePassed(at: deadline), "step \(step) deadline")
            }
            now = eventTime
            switch random.below(20) {
            case 0..<10:
                // 192.0.2.1 wins the tie with us; a skew of 200 loses to ours.
                let preferred = random.below(4) != 0
                let heard = preferred ? advert(from: IPv4Address(192, 0, 2, 1)) : advert(advskew: 200)
                let actions = machine.received(heard, at: now)
                if machine.role == .master, withoutLogs(actions).first == .announceAddresses {
                    term?.reasserted = true
                }
                check(actions, "step \(step) advert")
            case 10..<13:
                check(machine.stepDown(at: now), "step \(step) stepDown")
            case 13..<15:
                check(machine.carrierLost(at: now), "step \(step) carrierLost")
            default:
                check(machine.carrierRestored(at: now), "step \(step) carrierRestored")
            }
        }
        #expect(terms >= 20 && checkedTerms >= 10, "the walk is not vacuous: \(terms) terms, \(checkedTerms) checked")
    }
}
