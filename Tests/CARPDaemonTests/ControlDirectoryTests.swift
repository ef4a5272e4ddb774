import CARPInstance
import Glibc
import SystemPackage
import Testing

@testable import CARPDaemon

struct ControlDirectoryTests {
    @Test func rootsInstancesKeepTheirDirectoryOthersAreNamedByTheirUser() throws {
        try #require(geteuid() == 0, "the unit tests run as root")
        #expect(ControlDirectory.own == FilePath("/run/ucarp/control"))
        #expect(ControlDirectory.userName(0) == "root")
        // A uid with no password entry (setpriv --reuid, DynamicUser=) is named by its digits.
        #expect(ControlDirectory.userName(64_123) == "64123")
    }

    @Test func rootAndTheDaemonsOwnUserMayAskNobodyElse() {
        #expect(ControlDirectory.mayAsk(0))
        #expect(ControlDirectory.mayAsk(geteuid()))
        #expect(!ControlDirectory.mayAsk(64_124))
    }

    @Test func aMissingCapabilityIsNamedWithWhatItIsFor() {
        let error = DaemonError.missingCapability(capability: "CAP_NET_RAW", action: "capture", interface: "eth0")
        #expect(error.description == "need CAP_NET_RAW to capture on eth0 (run as root or grant it)")
    }
}
