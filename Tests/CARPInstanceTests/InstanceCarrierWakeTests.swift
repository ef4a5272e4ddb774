import CARPCore
import Testing

@testable import CARPInstance

/// The carrier's own wake-up (``Instance/carrierCheckSlack``): an idle backup wakes once per
/// advertisement of its master, and the carrier is still read about every second.
struct InstanceCarrierWakeTests {
    /// Runs the loop as the shell does for `seconds`: a wake-up at the instance's
    /// ``Instance/wakeUpDeadline`` or
    /// at the master's next advert (which arrives `lateness` after each whole second, or never
    /// with `advertising` false), whichever comes first; the link read and time passed at each.
    /// Returns the instants of the wake-ups.
    static func wakeUps(
        of driver: inout InstanceDriver, seconds: UInt64, lateness: MonotonicDuration, advertising: Bool = true
    ) -> [MonotonicInstant] {
        var wakes: [MonotonicInstant] = []
        var nextAdvert = t0 + .seconds(1) + lateness
        let end = t0 + .seconds(seconds)
        while true {
            let deadline = driver.instance.wakeUpDeadline
            let advertFirst = advertising && deadline.map { nextAdvert <= $0 } ?? advertising
            guard let now = advertFirst ? nextAdvert : deadline, now <= end else { return wakes }
            wakes.append(now)
            _ = driver.link(.running, at: now)
            if advertFirst {
                _ = driver.advert(at: now)
                nextAdvert = nextAdvert + .seconds(1)
            }
            _ = driver.time(now)
        }
    }

    @Test func anIdleBackupWakesOncePerAdvertOfItsMaster() {
        var driver = InstanceDriver()
        _ = driver.start()
        driver.finishScripts(at: t0)
        // The advert comes 0.1 ms after the second since the last reading of the carrier.
        let wakes = Self.wakeUps(of: &driver, seconds: 11, lateness: .nanoseconds(100_000))
        #expect(driver.instance.machine.role == .backup)
        #expect(wakes.count == 10)
        #expect(wakes == (1...10).map { t0 + .seconds($0) + .nanoseconds(100_000) })
    }

    @Test func aBackupWhoseMasterIsLateStillReadsTheCarrierWithinTheSlack() {
        var driver = InstanceDriver()
        _ = driver.start()
        driver.finishScripts(at: t0)
        // Adverts 80 ms late: the carrier's own wake-up comes first, 1.05 s after each reading.
        let wakes = Self.wakeUps(of: &driver, seconds: 3, lateness: .milliseconds(80))
        let gaps = zip(wakes.dropFirst(), wakes).map { $0.duration(since: $1) }
        #expect(wakes.first == t0 + .milliseconds(1050))
        #expect(gaps.allSatisfy { $0 <= Instance.carrierCheckInterval + Instance.carrierCheckSlack })
    }

    @Test func withoutAdvertsTheCarrierIsReadEverySecondAndASlack() {
        var driver = InstanceDriver()
        _ = driver.start()
        driver.finishScripts(at: t0)
        let wakes = Self.wakeUps(of: &driver, seconds: 3, lateness: .nanoseconds(0), advertising: false)
        #expect(Array(wakes.prefix(2)) == [t0 + .milliseconds(1050), t0 + .milliseconds(2100)])
    }
}
