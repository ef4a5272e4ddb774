import CARPCore
import Testing

@testable import UCarpConfiguration

/// `--auth` and `AUTH=`: ucarp's wire by default, strict authentication when asked; and
/// `--auth-state` / `AUTH_STATE=`, where the strict counter's epoch is kept.
@Suite struct AuthOptionTests {
    static let required = ["-s", "192.0.2.11", "-v", "7", "-p", "secret", "-a", "192.0.2.100"]

    func settings(_ extra: [String], files: [String: String] = [:]) throws -> Settings {
        try runSettings(Self.required + extra, files: files)
    }

    @Test func ucarpByDefaultStrictFromTheCommandLineOrTheFile() throws {
        #expect(try settings([]).authentication == .ucarp)
        #expect(try settings(["--auth=ucarp"]).authentication == .ucarp)
        #expect(try settings(["--auth=strict"]).authentication == .strict)
        #expect(try settings(["--auth", "strict"]).authentication == .strict)
        let files = ["/etc/ucarp/vip-007.conf": "AUTH=strict\nAUTH_STATE=/var/lib/ucarp/007.epoch\n"]
        let fromFile = try settings(["--config=/etc/ucarp/vip-007.conf"], files: files)
        #expect(fromFile.authentication == .strict)
        #expect(fromFile.authStatePath == "/var/lib/ucarp/007.epoch")
        // The command line comes after the files.
        #expect(
            try settings(["--config=/etc/ucarp/vip-007.conf", "--auth=ucarp"], files: files).authentication == .ucarp)
    }

    @Test func theEpochIsKeptWhereAskedElseBesideTheStateFileAndOnlyInStrictMode() throws {
        #expect(try settings(["--auth=strict"]).authStatePath == nil)
        #expect(
            try settings(["--auth=strict", "--statefile=/run/ucarp/7/state"]).authStatePath
                == "/run/ucarp/7/state.epoch")
        #expect(
            try settings(["--auth=strict", "--statefile=/run/ucarp/7/state", "--auth-state=/var/lib/ucarp/7"])
                .authStatePath == "/var/lib/ucarp/7")
        #expect(try settings(["--statefile=/run/ucarp/7/state", "--auth-state=/var/lib/ucarp/7"]).authStatePath == nil)
    }

    @Test(arguments: ["", "Strict", "hmac", "strict ", "none"])
    func anUnknownModeIsRefusedNamingIt(value: String) {
        do {
            _ = try UCarpCommandLine.parse(Self.required + ["--auth=\(value)"]) { _ throws(SettingsError) in [] }
            Issue.record("accepted --auth=\(value)")
        } catch {
            #expect(error.description.contains("--auth '\(value)'"), "\(error.description)")
            #expect(error.description.contains("ucarp") && error.description.contains("strict"), "\(error.description)")
            #expect(error.isCommandLineError)
        }
    }

    @Test func anUnknownModeInAFileNamesTheFileAndLine() {
        let files = ["/etc/ucarp/vip-007.conf": "ID=7\nAUTH=sha256\n"]
        do {
            _ = try settings(["--config=/etc/ucarp/vip-007.conf"], files: files)
            Issue.record("accepted AUTH=sha256")
        } catch {
            let message = String(describing: error)
            #expect(message.contains("/etc/ucarp/vip-007.conf:2"), "\(message)")
            #expect(message.contains("--auth 'sha256'"), "\(message)")
        }
    }

    @Test func anEmptyAuthStateIsRefused() {
        #expect(throws: SettingsError.self) { try settings(["--auth=strict", "--auth-state="]) }
    }
}
