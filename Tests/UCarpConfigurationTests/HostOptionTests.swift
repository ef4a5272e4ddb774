import Testing

@testable import UCarpConfiguration

/// `--host-state`, `--group` (`HOST_STATE=`, `GROUP=`), and the host's commands `--status`
/// and `--maintenance`.
@Suite struct HostOptionTests {
    static let required = ["-s", "192.0.2.11", "-v", "7", "-p", "secret", "-a", "192.0.2.100"]

    func settings(_ extra: [String], files: [String: String] = [:]) throws(SettingsError) -> Settings {
        do {
            return try runSettings(Self.required + extra, files: files)
        } catch let error as SettingsError {
            throw error
        } catch {
            throw .syntax("\(error)")
        }
    }

    func command(_ arguments: [String]) throws(SettingsError) -> UCarpCommandLine.Command {
        try UCarpCommandLine.parse(
            arguments, environment: .init(read: { _ throws(SettingsError) in [] }, currentDirectory: "/srv"))
    }

    @Test func theDefaultsThenTheCommandLineOrTheFiles() throws {
        let plain = try settings([])
        #expect(plain.hostState == "/var/lib/ucarp")
        #expect(!plain.hostStateGiven)
        #expect(plain.hostGroup == nil)
        let given = try settings(["--host-state=/run/host-a", "--group=router"])
        #expect(given.hostState == "/run/host-a")
        #expect(given.hostStateGiven)
        #expect(given.hostGroup == "router")
        let files = ["/etc/ucarp/vip-007.conf": "HOST_STATE=/srv/state\nGROUP=lan-wan.1\n"]
        let filed = try settings(["--config=/etc/ucarp/vip-007.conf"], files: files)
        #expect(filed.hostState == "/srv/state")
        #expect(filed.hostGroup == "lan-wan.1")
    }

    @Test(arguments: ["", ".hidden", "a/b", "sp ace", String(repeating: "x", count: 65), "é"])
    func badGroupNamesAreRefusedWithAMessage(name: String) {
        do {
            _ = try settings(["--group=\(name)"])
            Issue.record("accepted --group=\(name)")
        } catch {
            #expect(error.description.contains("--group"), "\(error.description)")
        }
    }

    @Test func statusAndMaintenanceNeedNoInstanceOptions() throws {
        #expect(try command(["--status"]) == .host(.status(hostState: "/var/lib/ucarp", group: nil, json: false)))
        #expect(
            try command(["--status", "--json", "--host-state=state", "--group=router"])
                == .host(.status(hostState: "/srv/state", group: "router", json: true)))
        #expect(try command(["--maintenance"]) == .host(.maintenance(hostState: "/var/lib/ucarp", group: nil, on: nil)))
        #expect(
            try command(["--maintenance=on", "--group=router"])
                == .host(.maintenance(hostState: "/var/lib/ucarp", group: "router", on: true)))
        #expect(
            try command(["--maintenance=off"])
                == .host(.maintenance(hostState: "/var/lib/ucarp", group: nil, on: false)))
    }

    @Test(arguments: [
        (["--maintenance=maybe"], "--maintenance='maybe'"),
        (["--status", "--vhid=3"], "--status takes only"),
        (["--maintenance=on", "--json"], "--maintenance takes only"),
        (["--status", "--maintenance"], "--status takes only"),
        (required + ["--json"], "--json goes with --status only"),
    ])
    func hostCommandsRefuseWhatTheyDoNotTake(arguments: [String], message: String) {
        do {
            _ = try command(arguments)
            Issue.record("accepted \(arguments)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    func command(_ arguments: [String], files: [String: String]) throws(SettingsError) -> UCarpCommandLine.Command {
        try UCarpCommandLine.parse(
            arguments,
            environment: .init(
                read: { _ throws(SettingsError) in [] },
                readIfPresent: { path throws(SettingsError) in files[path].map { Array($0.utf8) } },
                currentDirectory: "/srv"))
    }

    @Test func statusAndMaintenanceLookWhereTheConfigurationFilesPutTheInstance() throws {
        let files = [
            "/etc/ucarp/vip-common.conf": "HOST_STATE=/srv/common\nGROUP=lan\n",
            "/etc/ucarp/vip-007.conf": "ID=007\nHOST_STATE=/srv/host-a\n",
            "/etc/ucarp/vip-008.conf": "OPTIONS=\"--host-state=relative --group=wan\"\n",
        ]
        #expect(
            try command(["--status", "--config=/etc/ucarp/vip-007.conf"], files: files)
                == .host(.status(hostState: "/srv/host-a", group: "lan", json: false)))
        #expect(
            try command(["--maintenance=on", "--config=/etc/ucarp/vip-008.conf"], files: files)
                == .host(.maintenance(hostState: "/srv/relative", group: "wan", on: true)))
        // Given beside --config, as for an instance, the command line wins.
        #expect(
            try command(
                ["--status", "--json", "--config=/etc/ucarp/vip-007.conf", "--host-state=/tmp/x", "--group=b"],
                files: files)
                == .host(.status(hostState: "/tmp/x", group: "b", json: true)))
        // The common file alone (its own name given) applies too.
        #expect(
            try command(["--maintenance", "--config=/etc/ucarp/vip-common.conf"], files: files)
                == .host(.maintenance(hostState: "/srv/common", group: "lan", on: nil)))
    }

    @Test func aBadHostStateInTheFilesIsNamedWithItsLine() {
        let files = ["/etc/ucarp/vip-007.conf": "ID=7\nGROUP=a/b\n"]
        do {
            _ = try command(["--status", "--config=/etc/ucarp/vip-007.conf"], files: files)
            Issue.record("accepted GROUP=a/b")
        } catch {
            #expect(error.description.contains("/etc/ucarp/vip-007.conf:2"), "\(error.description)")
            #expect(error.description.contains("--group"), "\(error.description)")
        }
        do {
            _ = try command(["--status", "--config=/etc/ucarp/missing.conf"], files: files)
            Issue.record("accepted a missing file")
        } catch {
            #expect(error.description.contains("/etc/ucarp/missing.conf"), "\(error.description)")
        }
    }
}
