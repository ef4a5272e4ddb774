import CARPCore
import EtcdGuard
import Testing

@Suite struct EtcdHolderTests {
    static let alpha = IPAddress.ipv4(IPv4Address(192, 0, 2, 11))

    @Test func theValueNamesTheSourceAddressThenTheHostName() {
        #expect(EtcdHolder(sourceAddress: Self.alpha, hostName: "alpha").value == "192.0.2.11 alpha")
        #expect(EtcdHolder(sourceAddress: Self.alpha, hostName: "").value == "192.0.2.11")
    }

    @Test func aValueReadBackIsTheHolderThatWroteIt() throws {
        let v6 = try IPAddress(parsing: "2001:db8::11")
        for holder in [
            EtcdHolder(sourceAddress: Self.alpha, hostName: "alpha"),
            EtcdHolder(sourceAddress: Self.alpha, hostName: ""),
            EtcdHolder(sourceAddress: v6, hostName: "node 7.example"),
        ] {
            #expect(EtcdHolder(value: holder.value) == holder)
        }
    }

    @Test func aValueThatDoesNotStartWithAnAddressIsNoHolderOfOurs() {
        #expect(EtcdHolder(value: "") == nil)
        #expect(EtcdHolder(value: "alpha 192.0.2.11") == nil)
        #expect(EtcdKeyHolder(value: "locked-by-someone", lease: 7).holder == nil)
        #expect(EtcdKeyHolder(value: "192.0.2.11 alpha", lease: 7).holder?.sourceAddress == Self.alpha)
    }
}
