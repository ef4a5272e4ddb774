import Testing

@testable import UCarpConfiguration

/// `ucarp --reload`: which options it takes, and how it names an instance.
@Suite struct ReloadTargetTests {
    static var environment: UCarpCommandLine.Environment {
        .init(read: { _ throws(SettingsError) in [] }, currentDirectory: "/etc/ucarp")
    }

    func target(_ arguments: [String]) throws(SettingsError) -> ReloadTarget {
        guard case .reload(let target) = try UCarpCommandLine.parse(arguments, environment: Self.environment) else {
            Issue.record("\(arguments) is not a reload")
            return ReloadTarget()
        }
        return target
    }

    func usage(_ arguments: [String]) -> String? {
        do {
            _ = try UCarpCommandLine.parse(arguments, environment: Self.environment)
            Issue.record("\(arguments) accepted")
            return nil
        } catch {
            guard case .reloadUsage(let problem) = error else {
                Issue.record("\(arguments): \(error), not a usage error")
                return nil
            }
            return problem
        }
    }

    @Test func eachIdentifyingOptionNamesAnInstanceByItsAbsolutePath() throws {
        #expect(try target(["--reload", "--config=vip-001.conf"]) == ReloadTarget(config: "/etc/ucarp/vip-001.conf"))
        #expect(try target(["--pidfile", "/run/ucarp/1.pid", "--reload"]) == ReloadTarget(pidFile: "/run/ucarp/1.pid"))
        #expect(
            try target(["--reload", "--statefile=/run/s", "--pidfile=/run/p"])
                == ReloadTarget(pidFile: "/run/p", stateFile: "/run/s"))
        #expect(try target(["--reload", "--all"]) == ReloadTarget(all: true))
    }

    @Test func anythingElseWithReloadIsAUsageError() {
        #expect(usage(["--reload"]) == "--reload needs the instance's --config, --pidfile or --statefile, or --all")
        #expect(usage(["--reload", "--config=/c", "--vhid=3"]) == "--reload takes no --vhid")
        #expect(usage(["--reload", "-z", "--all"]) == "--reload takes no --shutdown")
        #expect(usage(["--all"]) == "--all goes with --reload only")
        #expect(
            usage(["--reload", "--all", "--config=/c"])
                == "--reload --all names every instance: it takes no --config, --pidfile or --statefile")
        #expect(usage(["--reload", "--config="]) == "--config must not be empty")
        #expect(
            SettingsError.reloadUsage("--reload takes no --vhid").description.hasPrefix(
                "--reload takes no --vhid; usage: ucarp --reload [--config=FILE]"))
    }

    @Test func anInstanceMatchesWhenEveryPathGivenIsItsOwn() {
        let instance = InstanceIdentity(config: "/etc/ucarp/vip-001.conf", pidFile: "/run/p", stateFile: nil)
        #expect(ReloadTarget(config: "/etc/ucarp/vip-001.conf").matches(instance))
        #expect(ReloadTarget(config: "/etc/ucarp/vip-001.conf", pidFile: "/run/p").matches(instance))
        #expect(!ReloadTarget(config: "/etc/ucarp/vip-001.conf", pidFile: "/run/q").matches(instance))
        #expect(!ReloadTarget(stateFile: "/run/s").matches(instance))
        #expect(ReloadTarget(all: true).matches(instance))
    }

    @Test func theIdentityGoesOverTheSocketAndBack() {
        let identity = InstanceIdentity(config: "/etc/ucarp/vip 1.conf", pidFile: nil, stateFile: "/run/s")
        #expect(identity.lines == "config=/etc/ucarp/vip 1.conf\nstatefile=/run/s\n")
        #expect(InstanceIdentity(lines: identity.lines + "pid=12\nversion=0.1.0\n") == identity)
    }

    @Test func anInstanceKnowsItsOwnIdentityFromItsArguments() throws {
        let arguments = ["--config", "vip-001.conf", "--statefile=/run/s"]
        var settings = Settings(
            interface: "eth0", sourceAddress: .ipv4(.init(192, 0, 2, 1)), vhid: 1, password: [],
            virtualAddresses: [.ipv4(.init(192, 0, 2, 100))])
        settings.stateFile = "/run/s"
        #expect(
            InstanceIdentity.of(arguments: arguments, settings: settings, currentDirectory: "/etc/ucarp")
                == InstanceIdentity(config: "/etc/ucarp/vip-001.conf", pidFile: nil, stateFile: "/run/s"))
    }
}
