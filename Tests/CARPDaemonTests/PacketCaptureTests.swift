import CARPCore
import CARPInstance
import Glibc
import Testing

@testable import CARPDaemon

/// libpcap needs root (or CAP_NET_RAW) to open an interface, as the daemon does.
@Suite(.enabled(if: geteuid() == 0, "capturing needs root"))
struct PacketCaptureTests {
    @Test func aFrameTheInterfaceRefusesThrowsLibpcapsMessage() throws {
        let capture = try PacketCapture(interface: "lo", filter: "ip proto 112")
        // Longer than lo's MTU of 65536.
        let error = #expect(throws: DaemonError.self) {
            try capture.send([UInt8](repeating: 0, count: 70_000))
        }
        #expect(error?.description == "send: Message too long")
    }
}
