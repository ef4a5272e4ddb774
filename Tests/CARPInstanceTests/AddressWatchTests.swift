import CARPCore
import Testing

@testable import CARPInstance

/// The address watch on its own: what rtnetlink says becomes a loss to repair only while master,
/// and an address back before the repair forgets it.
@Suite struct AddressWatchTests {
    static let index: UInt32 = 2
    static let vip = IPv4Address(192, 0, 2, 100)
    static let other = IPv4Address(192, 0, 2, 101)
    static let vip6: IPv6Address = {
        guard let address = IPv6Address("2001:db8::100") else { preconditionFailure("a literal address") }
        return address
    }()
    static let watched: Set<IPAddress> = [.ipv4(vip), .ipv6(vip6)]

    @Test func aRemovalWhileMasterIsPendingAndRepairReturnsItAndClears() throws {
        var watch = AddressWatch(interfaceIndex: Self.index)
        watch.heard(
            [.addressRemoved(interfaceIndex: Self.index, address: Self.vip)], watching: Self.watched, master: true)
        #expect(watch.pending == .addressRemoved)
        #expect(watch.vanished == [.ipv4(Self.vip)])
        let repair = watch.repair()
        let repaired = try #require(repair)
        #expect(repaired.loss == .addressRemoved)
        #expect(repaired.vanished == [.ipv4(Self.vip)])
        #expect(watch.pending == nil)
        #expect(watch.vanished.isEmpty)
        #expect(watch.repair() == nil)
    }

    @Test func aRemovalWhileNotMasterIsNoLoss() {
        var watch = AddressWatch(interfaceIndex: Self.index)
        watch.heard(
            [.ipv6AddressRemoved(interfaceIndex: Self.index, address: Self.vip6)], watching: Self.watched, master: false
        )
        #expect(watch.pending == nil)
        #expect(watch.vanished.isEmpty)
    }

    @Test func everyAddressBackBeforeTheRepairForgetsTheLoss() {
        var watch = AddressWatch(interfaceIndex: Self.index)
        watch.heard(
            [
                .addressRemoved(interfaceIndex: Self.index, address: Self.vip),
                .ipv6AddressRemoved(interfaceIndex: Self.index, address: Self.vip6),
            ], watching: Self.watched, master: true)
        watch.heard(
            [.addressAdded(interfaceIndex: Self.index, address: Self.vip)], watching: Self.watched, master: true)
        #expect(watch.pending == .addressRemoved, "one is still gone")
        #expect(watch.vanished == [.ipv6(Self.vip6)])
        watch.heard(
            [.ipv6AddressAdded(interfaceIndex: Self.index, address: Self.vip6)], watching: Self.watched, master: true)
        #expect(watch.pending == nil)
        #expect(watch.repair() == nil)
    }

    @Test func theLinkComingBackUpWhileMasterIsALossOnlyAfterItWasDown() throws {
        var watch = AddressWatch(interfaceIndex: Self.index)
        watch.heard([.link(interfaceIndex: Self.index, running: true)], watching: Self.watched, master: true)
        #expect(watch.pending == nil, "the first news of a running link is no come-back")
        watch.heard([.link(interfaceIndex: Self.index, running: false)], watching: Self.watched, master: true)
        #expect(watch.linkRunning == false)
        #expect(watch.pending == nil)
        watch.heard([.link(interfaceIndex: Self.index, running: true)], watching: Self.watched, master: true)
        #expect(watch.pending == .linkUp)
        let repaired = watch.repair()
        #expect(repaired?.loss == .linkUp)
        // Down and up again as backup: nothing to repair.
        watch.heard(
            [.link(interfaceIndex: Self.index, running: false), .link(interfaceIndex: Self.index, running: true)],
            watching: Self.watched, master: false)
        #expect(watch.pending == nil)
        #expect(watch.linkRunning == true)
    }

    @Test func anotherInterfaceOrAnUnwatchedAddressIsIgnored() {
        var watch = AddressWatch(interfaceIndex: Self.index)
        watch.heard(
            [
                .addressRemoved(interfaceIndex: 3, address: Self.vip),
                .ipv6AddressRemoved(interfaceIndex: 3, address: Self.vip6),
                .addressRemoved(interfaceIndex: Self.index, address: Self.other),
                .link(interfaceIndex: 3, running: false), .link(interfaceIndex: 3, running: true),
            ], watching: Self.watched, master: true)
        #expect(watch.pending == nil)
        #expect(watch.vanished.isEmpty)
        #expect(watch.linkRunning == nil)
    }

    @Test func lostNewsIsALossToRepair() throws {
        var watch = AddressWatch(interfaceIndex: Self.index)
        watch.newsLost()
        #expect(watch.pending == .newsLost)
        let repair = watch.repair()
        let repaired = try #require(repair)
        #expect(repaired.loss == .newsLost)
        #expect(repaired.vanished.isEmpty)
        // An address back does not forget lost news (a removal may be among them).
        watch.newsLost()
        watch.heard(
            [.addressAdded(interfaceIndex: Self.index, address: Self.vip)], watching: Self.watched, master: true)
        #expect(watch.pending == .newsLost)
    }

    @Test func forgetDropsTheLossOfTheLastRole() {
        var watch = AddressWatch(interfaceIndex: Self.index)
        watch.heard(
            [.addressRemoved(interfaceIndex: Self.index, address: Self.vip)], watching: Self.watched, master: true)
        watch.forget()
        #expect(watch.pending == nil)
        #expect(watch.vanished.isEmpty)
        #expect(watch.repair() == nil)
    }
}
