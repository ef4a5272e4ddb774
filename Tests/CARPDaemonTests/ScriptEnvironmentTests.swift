import Testing

@testable import CARPDaemon

/// The daemon's environment, as its children inherit it, without its secrets.
struct ScriptEnvironmentTests {
    static func entries(_ texts: [String]) -> [[UInt8]] { texts.map { Array($0.utf8) } }

    @Test func theHooksPasswordVariableIsWithheldWhateverItsValue() {
        let names = ScriptEnvironment.namesToWithhold(
            in: Self.entries(["PATH=/usr/bin", "IF_UCARP_PASSWORD=other", "IF_UCARP_VID=3"]), secrets: [])
        #expect(names == [Array("IF_UCARP_PASSWORD".utf8)])
    }

    @Test func aVariableHoldingAPasswordIsWithheldByteForByte() {
        let latin1: [UInt8] = [0xFF, 0xFE, 0x41]
        let names = ScriptEnvironment.namesToWithhold(
            in: Self.entries(["SECRET=hunter2", "LONGER=hunter22", "EMPTY=", "DB_PASSWORD=mine"])
                + [Array("RAW=".utf8) + latin1],
            secrets: [Array("hunter2".utf8), latin1, []])
        #expect(names == [Array("SECRET".utf8), Array("RAW".utf8)])
    }
    // Removing them from the process (unsetenv) is tested end to end: a test that set variables
    // here would race the other suites that spawn children from environ.
}
