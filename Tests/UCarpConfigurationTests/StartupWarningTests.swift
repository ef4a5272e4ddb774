import CARPCore
import Testing

@testable import UCarpConfiguration

/// The warnings the configuration stage hands to main with the settings, in the order logged.
struct StartupWarningTests {
    static let base = ["-s", "192.0.2.11", "-v", "1", "-a", "192.0.2.100"]

    func warnings(_ arguments: [String], mode: UInt32? = nil) throws -> [StartupWarning] {
        let environment = UCarpCommandLine.Environment(
            read: { _ throws(SettingsError) in Array("secret\n".utf8) }, permissions: { _ in mode })
        guard case .run(_, let warnings) = try UCarpCommandLine.parse(arguments, environment: environment) else {
            Issue.record("not a run command")
            return []
        }
        return warnings
    }

    @Test func noScriptsGetUcarpsTwoWarnings() throws {
        #expect(
            try warnings(Self.base + ["-p", "pw"]).map(\.description) == [
                "Warning: no script called when going up", "Warning: no script called when going down",
            ])
        #expect(try warnings(Self.base + ["-p", "pw", "-u", "/up"]) == [.noDownscript])
        #expect(try warnings(Self.base + ["-p", "pw", "-d", "/down"]) == [.noUpscript])
        #expect(try warnings(Self.base + ["-p", "pw", "-u", "/up", "-d", "/down"]) == [])
    }

    @Test func aPassfileOthersMayReadIsWarnedAboutFirst() throws {
        let scripts = ["-u", "/up", "-d", "/down"]
        let readable = try warnings(Self.base + scripts + ["-o", "/etc/ucarp/pass"], mode: 0o100644)
        #expect(readable == [.passfileReadable(path: "/etc/ucarp/pass", mode: 0o644)])
        #expect(
            readable.first?.description
                == "passfile /etc/ucarp/pass is readable by group or others (mode 0644): chmod 600 it")
        #expect(
            try warnings(Self.base + ["-o", "/etc/ucarp/pass"], mode: 0o100640).first?.description.contains("0640")
                == true)
        #expect(
            try warnings(Self.base + ["-o", "/etc/ucarp/pass"], mode: 0o100604).first
                == .passfileReadable(path: "/etc/ucarp/pass", mode: 0o604))
        #expect(try warnings(Self.base + scripts + ["-o", "/etc/ucarp/pass"], mode: 0o100600) == [])
        // The password given on the command line has no file to look at.
        #expect(try warnings(Self.base + scripts + ["-o", "/etc/ucarp/pass", "-p", "pw"], mode: 0o100644) == [])
    }

    @Test func unknownVariablesComeBeforeTheScriptWarnings() throws {
        let environment = UCarpCommandLine.Environment(
            read: { path throws(SettingsError) in throw .passfileUnreadable(path: path, reason: "none") },
            readIfPresent: { path throws(SettingsError) in
                path == "/etc/ucarp/vip-001.conf"
                    ? Array((ConfigurationOptionsTests.redHatExample + "\nNETMASK=24\n").utf8) : nil
            })
        guard
            case .run(_, let warnings) = try UCarpCommandLine.parse(
                ["--config=/etc/ucarp/vip-001.conf"], environment: environment)
        else {
            Issue.record("not a run command")
            return
        }
        #expect(
            warnings == [
                .unknownVariable(name: "NETMASK", origin: "/etc/ucarp/vip-001.conf:8"), .noUpscript, .noDownscript,
            ])
    }
}
