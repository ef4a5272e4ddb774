import CARPCore
import Logging
import Testing

@testable import CARPInstance
@testable import UCarpConfiguration

/// A vhid with several addresses (issue 12): the scripts once per address in the order given,
/// one announcement for them all, the address watch over each IPv4 address, USR1 showing them.
@Suite struct InstanceSeveralAddressesTests {
    static let first = IPv4Address(192, 0, 2, 101)
    static let second = IPv4Address(192, 0, 2, 100)
    static let ipv6 = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100)

    func severalAddresses(_ settings: inout Settings) {
        settings.virtualAddresses = [.ipv4(Self.first), .ipv6(Self.ipv6), .ipv4(Self.second)]
        settings.virtualAddressArguments = ["192.0.2.101", "2001:DB8::100", "192.0.2.100"]
    }

    /// Lets every script spawned by `actions`, and those queued behind them, finish at `now`:
    /// the commands run, in order, and every action carried out meanwhile.
    func finishScripts(
        _ driver: inout InstanceDriver, _ actions: [Action], at now: MonotonicInstant
    ) -> (commands: [Child.Command], actions: [Action]) {
        var pending = actions.spawned
        var commands: [Child.Command] = []
        var done: [Action] = []
        while !pending.isEmpty {
            let (id, command) = pending.removeFirst()
            commands.append(command)
            let more = driver.exited(id, .exited(0), at: now)
            done += more
            pending += more.spawned
        }
        return (commands, done)
    }

    func variable(_ name: String, of command: Child.Command) -> String? {
        command.environment.first { $0.name == name }?.value
    }

    @Test func theDownScriptRunsOncePerAddressInTheOrderGiven() {
        var driver = InstanceDriver(testSettings(severalAddresses))
        let (commands, _) = finishScripts(&driver, driver.start(), at: t0)
        #expect(commands.map(\.path) == ["/etc/down", "/etc/down", "/etc/down"])
        #expect(
            commands.map(\.arguments) == [
                ["eth0", "192.0.2.101"], ["eth0", "2001:DB8::100"], ["eth0", "192.0.2.100"],
            ])
        #expect(
            commands.map { variable("CARP_VIRTUAL_ADDRESS", of: $0) } == [
                "192.0.2.101", "2001:DB8::100", "192.0.2.100",
            ])
        for command in commands {
            #expect(variable("CARP_VIRTUAL_ADDRESSES", of: command) == "192.0.2.101 2001:DB8::100 192.0.2.100")
        }
    }

    @Test func theAnnouncementWaitsForEveryUpScript() {
        var driver = InstanceDriver(testSettings(severalAddresses))
        _ = finishScripts(&driver, driver.start(), at: t0)
        var now = t0
        var takeover: [Action] = []
        while driver.instance.machine.role != .master, let deadline = driver.instance.nextDeadline {
            now = deadline
            takeover = driver.link(.running, at: now) + driver.time(now)
        }
        #expect(!takeover.contains(.announceAddresses), "announced before the addresses are there")
        #expect(takeover.spawned.count == 1, "one script at a time")
        let (commands, finished) = finishScripts(&driver, takeover, at: now)
        #expect(commands.map(\.path) == ["/etc/up", "/etc/up", "/etc/up"])
        #expect(commands.map { $0.arguments[1] } == ["192.0.2.101", "2001:DB8::100", "192.0.2.100"])
        #expect(commands.map { variable("CARP_STATE", of: $0) } == ["MASTER", "MASTER", "MASTER"])
        // One announcement covers every address; the shell sends an ARP or NA for each.
        #expect(finished.filter { $0 == .announceAddresses }.count == 1)
        #expect(finished.last == .announceAddresses)
    }

    @Test func usr1ShowsTheAddressesWhenThereAreSeveral() {
        var several = InstanceDriver(testSettings(severalAddresses))
        _ = several.start()
        #expect(
            several.signal(.user1, at: t0).messages.prefix(2) == [
                "BACKUP on eth0 id 1", "Virtual addresses: 192.0.2.101 2001:DB8::100 192.0.2.100",
            ])
        var one = InstanceDriver()
        _ = one.start()
        let lines = one.signal(.user1, at: t0).messages
        #expect(lines.count == 2)
        #expect(lines.first == "BACKUP on eth0 id 1")
    }

    @Test func anyIPv4AddressVanishingWhileMasterIsPutBack() {
        var driver = InstanceDriver(testSettings(severalAddresses))
        let now = driver.becomeMaster()
        // The up scripts behind the first finish too.
        driver.finishScripts(at: now)
        let index = InstanceDriver.interfaceIndex
        let lost = driver.routes([.addressRemoved(interfaceIndex: index, address: Self.second)], at: now)
        #expect(
            lost.messages.first
                == "Virtual address 192.0.2.100 vanished from [eth0] while MASTER: "
                + "running the up script and announcing it again (address-lost)")
        #expect(lost.spawnedPaths == ["/etc/up"])
    }

    @Test func anAddressBackBeforeTheRepairNeedsNone() {
        var driver = InstanceDriver(testSettings(severalAddresses))
        let master = driver.becomeMaster(keepScriptRunning: true)
        let index = InstanceDriver.interfaceIndex
        // While the up scripts run, both go and only one comes back: a repair is still due.
        _ = driver.routes(
            [
                .addressRemoved(interfaceIndex: index, address: Self.first),
                .addressRemoved(interfaceIndex: index, address: Self.second),
                .addressAdded(interfaceIndex: index, address: Self.first),
            ], at: master)
        #expect(driver.instance.addressWatch?.pending == .addressRemoved)
        _ = driver.routes([.addressAdded(interfaceIndex: index, address: Self.second)], at: master)
        #expect(driver.instance.addressWatch?.pending == nil)
    }

    @Test func anIPv6AddressVanishingWhileMasterIsPutBackToo() {
        var driver = InstanceDriver(testSettings(severalAddresses))
        let now = driver.becomeMaster()
        driver.finishScripts(at: now)
        let index = InstanceDriver.interfaceIndex
        let lost = driver.routes([.ipv6AddressRemoved(interfaceIndex: index, address: Self.ipv6)], at: now)
        #expect(
            lost.messages.first?.hasPrefix("Virtual address 2001:DB8::100 vanished from [eth0] while MASTER") == true)
        #expect(lost.spawnedPaths == ["/etc/up"])
        #expect(driver.instance.statistics.addressRestores == 1)
    }

    @Test func anotherAddressOnTheInterfaceIsNotWatched() {
        var driver = InstanceDriver(testSettings(severalAddresses))
        let master = driver.becomeMaster(keepScriptRunning: true)
        let index = InstanceDriver.interfaceIndex
        _ = driver.routes([.addressRemoved(interfaceIndex: index, address: IPv4Address(192, 0, 2, 102))], at: master)
        #expect(driver.instance.addressWatch?.pending == nil)
    }

    @Test func oneAddressKeepsUcarpsArgumentsAndVariables() {
        var driver = InstanceDriver()
        let (commands, _) = finishScripts(&driver, driver.start(), at: t0)
        #expect(commands.map(\.arguments) == [["eth0", "192.0.2.100"]])
        #expect(commands.first.flatMap { variable("CARP_VIRTUAL_ADDRESS", of: $0) } == "192.0.2.100")
        #expect(commands.first.flatMap { variable("CARP_VIRTUAL_ADDRESSES", of: $0) } == "192.0.2.100")
    }
}
