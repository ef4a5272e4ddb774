import Testing

@testable import CARPCore

/// What each state carries: the timers live in the state they belong to.
@Suite struct CARPStateMachineStateTests {
    typealias Backup = CARPStateMachine.Backup
    typealias Master = CARPStateMachine.Master

    @Test func aNewMachineIsInitialWithItsCarrier() {
        var machine = CARPStateMachine(configuration: configuration())
        #expect(machine.state == .initial(.up))
        _ = machine.carrierLost(at: t0)
        #expect(machine.state == .initial(.down))
        #expect(machine.carrierDown)
    }

    @Test func aBackupTimesTheMasterFromItsStart() {
        let machine = backup()
        #expect(machine.state == .backup(Backup(timer: .masterDown(t0 + .seconds(3)), holdUntil: nil)))
    }

    @Test func aBackupWaitingForItsFirstHealthResultRunsNoTimer() {
        var checked = configuration()
        checked.healthChecked = true
        var machine = backup(checked)
        #expect(machine.state == .backup(Backup(timer: .unarmed, holdUntil: nil)))
        _ = machine.healthChanged(healthy: true, at: t0 + .seconds(1))
        #expect(machine.state == .backup(Backup(timer: .masterDown(t0 + .seconds(4)), holdUntil: nil)))
    }

    @Test func aMasterCarriesItsNextAdvertAndTheDelayedARPCountdown() throws {
        var (machine, since) = try master()
        #expect(
            machine.state
                == .master(
                    Master(
                        advertiseAt: since + .seconds(1), announcements: .withAdvertisement(countdown: 2, thenMore: 0)))
        )
        _ = machine.deadlinePassed(at: since + .seconds(1))
        #expect(
            machine.state
                == .master(
                    Master(
                        advertiseAt: since + .seconds(2), announcements: .withAdvertisement(countdown: 1, thenMore: 0)))
        )
        _ = machine.deadlinePassed(at: since + .seconds(2))
        #expect(machine.state == .master(Master(advertiseAt: since + .seconds(3), announcements: .none)))
    }

    @Test func aSteppedDownBackupKeepsItsHoldThroughACarrierLoss() throws {
        var (machine, since) = try master()
        _ = machine.stepDown(at: since)
        let hold = since + .seconds(3)
        #expect(machine.state == .backup(Backup(timer: .masterDown(hold + .seconds(3)), holdUntil: hold)))
        _ = machine.carrierLost(at: since + .seconds(1))
        #expect(machine.state == .backup(Backup(timer: .noCarrier, holdUntil: hold)))
        #expect(machine.nextDeadline == nil)
        _ = machine.carrierRestored(at: since + .seconds(5))
        #expect(machine.state == .backup(Backup(timer: .masterDown(since + .seconds(8)), holdUntil: hold)))
    }

    @Test func aMasterLosingItsCarrierIsADeafBackup() throws {
        var (machine, since) = try master()
        _ = machine.carrierLost(at: since)
        #expect(machine.state == .backup(Backup(timer: .noCarrier, holdUntil: nil)))
    }

    @Test func faultKeepsTheCarrierStateAndHandsItToTheBackupAfterIt() {
        var checked = configuration()
        checked.healthChecked = true
        var machine = backup(checked)
        _ = machine.healthChanged(healthy: true, at: t0)
        _ = machine.carrierLost(at: t0 + .seconds(1))
        _ = machine.healthChanged(healthy: false, at: t0 + .seconds(2))
        #expect(machine.state == .fault(.down))
        _ = machine.healthChanged(healthy: true, at: t0 + .seconds(3))
        #expect(machine.state == .backup(Backup(timer: .noCarrier, holdUntil: nil)))
        _ = machine.carrierRestored(at: t0 + .seconds(4))
        #expect(machine.state == .backup(Backup(timer: .masterDown(t0 + .seconds(7)), holdUntil: nil)))
    }

    @Test func theBackupLeftByAShutdownTimesNothing() throws {
        var (machine, since) = try master()
        _ = machine.shutdown(at: since)
        #expect(machine.state == .backup(Backup(timer: .unarmed, holdUntil: nil)))
    }

    /// ucarp's `sc_delayed_arp` is not reset when a master leaves: a master that leaves with
    /// its delayed ARP due at the next advertisement sends that ARP with the first
    /// advertisement of its next term, right after the take-over's own ARP.
    @Test func aDelayedARPStillDueWhenLeavingGoesOutWithTheNextTermsFirstAdvert() throws {
        var (machine, since) = try master()
        _ = machine.deadlinePassed(at: since + .seconds(1))  // the delayed ARP is due with the next one
        _ = machine.stepDown(at: since + .milliseconds(1500))
        let resume = try #require(machine.nextDeadline)
        #expect(
            machine.deadlinePassed(at: resume) == [
                .changeState(from: .backup, to: .master, reason: .masterSilent, runScript: true),
                .announceAddresses,
                .sendAdvertisement(advbase: 1, advskew: 0, counter: ownCounter(after: 3)),
                .announceAddresses,
            ])
        // Then the usual delayed ARP, with the third advertisement of the term.
        #expect(withoutLogs(machine.deadlinePassed(at: resume + .seconds(1))).count == 1)
        #expect(withoutLogs(machine.deadlinePassed(at: resume + .seconds(2))).last == .announceAddresses)
    }

    @Test func aTermThatSentItsDelayedARPLeavesNoneBehind() throws {
        var (machine, since) = try master()
        _ = machine.deadlinePassed(at: since + .seconds(1))
        _ = machine.deadlinePassed(at: since + .seconds(2))  // the delayed ARP
        _ = machine.stepDown(at: since + .milliseconds(2500))
        let resume = try #require(machine.nextDeadline)
        #expect(withoutLogs(machine.deadlinePassed(at: resume)).count == 3)
    }
}
