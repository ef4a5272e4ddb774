import CARPCore
import Testing

@testable import UCarpConfiguration

/// `--peer`: the other hosts' unicast addresses, each once.
struct PeerOptionTests {
    let peer = IPv4Address(192, 0, 2, 12)
    let stranger = IPv4Address(192, 0, 2, 13)

    func parse(_ arguments: [String]) throws -> Settings {
        let command = try UCarpCommandLine.parse(arguments) { path throws(SettingsError) in
            throw .passfileUnreadable(path: path, reason: "none")
        }
        guard case .run(let settings, _) = command else { throw SettingsError.bothZero }
        return settings
    }

    static let base = ["-s", "192.0.2.11", "-v", "9", "-p", "pw", "-a", "192.0.2.100"]

    @Test func peersAreRepeatableAndDeduplicated() throws {
        let settings = try parse(Self.base + ["--peer=192.0.2.12", "--peer", "192.0.2.13", "--pe=192.0.2.12"])
        #expect(settings.peers == [.ipv4(peer), .ipv4(stranger)])
    }

    @Test func badPeersAreRefused() {
        #expect(throws: SettingsError.peerNotUnicast(value: "224.0.0.18")) {
            try parse(Self.base + ["--peer=224.0.0.18"])
        }
        #expect(throws: SettingsError.peerIsSelf(value: "192.0.2.11")) { try parse(Self.base + ["--peer=192.0.2.11"]) }
        #expect(throws: SettingsError.invalidAddress(option: "--peer", value: "peer-host")) {
            try parse(Self.base + ["--peer=peer-host"])
        }
    }
}
