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

    @Test func aConfigurationFileHoldingAPasswordThatOthersMayReadIsWarnedAbout() throws {
        let files = [
            "/etc/ucarp/vip-001.conf": ConfigurationOptionsTests.redHatExample,
            "/etc/ucarp/vip-002.conf":
                "ID=2\nSOURCE_ADDRESS=192.0.2.11\nVIP_ADDRESS=192.0.2.102\nPASSFILE=/etc/ucarp/pass\n",
        ]
        func warnings(_ path: String, modes: [String: UInt32]) throws -> [StartupWarning] {
            let environment = UCarpCommandLine.Environment(
                read: { _ throws(SettingsError) in Array("secret\n".utf8) },
                readIfPresent: { path throws(SettingsError) in files[path].map { Array($0.utf8) } },
                permissions: { modes[$0] })
            guard
                case .run(_, let warnings) = try UCarpCommandLine.parse(["--config=\(path)"], environment: environment)
            else { return [] }
            return warnings
        }
        let readable = try warnings("/etc/ucarp/vip-001.conf", modes: ["/etc/ucarp/vip-001.conf": 0o100644])
        #expect(
            readable.contains(
                .secretReadable(
                    what: "configuration file (it holds PASSWORD=)", path: "/etc/ucarp/vip-001.conf", mode: 0o644)))
        #expect(
            readable.map(\.description).contains(
                "configuration file (it holds PASSWORD=) /etc/ucarp/vip-001.conf is readable by group or others "
                    + "(mode 0644): chmod 600 it"))
        let private600 = try warnings("/etc/ucarp/vip-001.conf", modes: ["/etc/ucarp/vip-001.conf": 0o100600])
        #expect(!private600.contains { if case .secretReadable = $0 { true } else { false } })
        // A file without PASSWORD= may be read by all: its passfile is what is checked.
        let noPassword = try warnings(
            "/etc/ucarp/vip-002.conf", modes: ["/etc/ucarp/vip-002.conf": 0o100644, "/etc/ucarp/pass": 0o100600])
        #expect(noPassword.filter { if case .secretReadable = $0 { true } else { false } } == [])
        #expect(!noPassword.contains { if case .passfileReadable = $0 { true } else { false } })
    }

    @Test func anEtcdPassfileOrKeyOthersMayReadIsWarnedAbout() throws {
        let environment = UCarpCommandLine.Environment(
            read: { _ throws(SettingsError) in Array("secret\n".utf8) },
            permissions: { $0 == "/etc/etcd/client.key" ? 0o100640 : 0o100604 })
        let arguments =
            Self.base + [
                "-p", "pw", "-u", "/up", "-d", "/down", "--etcd=https://10.0.0.1:2379", "--etcd-user=carp",
                "--etcd-passfile=/etc/ucarp/etcd.pass", "--etcd-cert=/etc/etcd/client.pem",
                "--etcd-key=/etc/etcd/client.key",
            ]
        guard case .run(_, let warnings) = try UCarpCommandLine.parse(arguments, environment: environment) else {
            Issue.record("not a run command")
            return
        }
        #expect(
            warnings == [
                .secretReadable(what: "--etcd-passfile", path: "/etc/ucarp/etcd.pass", mode: 0o604),
                .secretReadable(what: "--etcd-key", path: "/etc/etcd/client.key", mode: 0o640),
            ])
    }
}
