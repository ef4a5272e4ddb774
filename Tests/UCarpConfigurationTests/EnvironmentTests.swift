import CARPCore
import Testing

@testable import UCarpConfiguration

/// What the configuration stage asks of the system: interfaces, and where relative paths start.
struct EnvironmentTests {
    static let required = ["-s", "192.0.2.11", "-v", "1", "-p", "pw", "-a", "192.0.2.100"]

    func environment(in directory: String?, interfaces: [String] = ["eth0"], files: [String: String] = [:])
        -> UCarpCommandLine.Environment
    {
        UCarpCommandLine.Environment(
            read: { path throws(SettingsError) in throw .passfileUnreadable(path: path, reason: "none") },
            readIfPresent: { path throws(SettingsError) in files[path].map { Array($0.utf8) } },
            interfaceExists: { interfaces.contains($0) }, currentDirectory: directory)
    }

    func settings(_ arguments: [String], _ environment: UCarpCommandLine.Environment) throws -> Settings {
        guard case .run(let settings, _) = try UCarpCommandLine.parse(arguments, environment: environment) else {
            Issue.record("not a run command")
            throw SettingsError.bothZero
        }
        return settings
    }

    @Test func pidAndStateFilesAreMadeAbsoluteAgainstTheStartingDirectory() throws {
        let relative = Self.required + ["--pidfile=run/ucarp.pid", "--statefile", "ucarp.state"]
        let fromSrv = try settings(relative, environment(in: "/srv"))
        #expect(fromSrv.pidFile == "/srv/run/ucarp.pid")
        #expect(fromSrv.stateFile == "/srv/ucarp.state")
        let fromRoot = try settings(relative, environment(in: "/"))
        #expect(fromRoot.pidFile == "/run/ucarp.pid")
        #expect(fromRoot.stateFile == "/ucarp.state")
        let absolute = try settings(
            Self.required + ["--pidfile=/run/a.pid", "--statefile=/run/a.state"], environment(in: "/srv"))
        #expect(absolute.pidFile == "/run/a.pid")
        #expect(absolute.stateFile == "/run/a.state")
        // Without a current directory (getcwd failed) they stay as given.
        #expect(try settings(relative, environment(in: nil)).pidFile == "run/ucarp.pid")
    }

    @Test func theMetricsFileIsMadeAbsoluteAgainstTheStartingDirectory() throws {
        let relative = Self.required + ["--metrics-file=textfile/ucarp.prom"]
        #expect(try settings(relative, environment(in: "/srv")).metricsFile == "/srv/textfile/ucarp.prom")
        #expect(try settings(relative, environment(in: nil)).metricsFile == "textfile/ucarp.prom")
    }

    /// ucarp(8): scripts are run as given; with --daemonize they must be absolute.
    @Test func scriptsStayAsGiven() throws {
        let settings = try settings(Self.required + ["-u", "up.sh", "-d", "./down.sh"], environment(in: "/srv"))
        #expect(settings.upscript == "up.sh")
        #expect(settings.downscript == "./down.sh")
    }

    @Test func aRelativeConfigIsReadAndNamedByItsAbsolutePath() throws {
        let example = ConfigurationOptionsTests.redHatExample.replacingFirst("eth1", with: "eth0")
        let files = ["/srv/ucarp/vip-001.conf": example + "\nID=0\n"]
        #expect(
            throws: SettingsError.inConfiguration(
                origin: "/srv/ucarp/vip-001.conf:8",
                .outOfRange(option: "--vhid", value: "0", range: 1...255))
        ) {
            try settings(["--config=ucarp/vip-001.conf"], environment(in: "/srv", files: files))
        }
        let fromRoot = ["/vip-001.conf": example]
        #expect(try settings(["--config=vip-001.conf"], environment(in: "/", files: fromRoot)).vhid == 1)
    }

    @Test func anInterfaceThatDoesNotExistIsRefusedAfterEverythingElse() throws {
        #expect(try settings(Self.required + ["-i", "eth0"], environment(in: "/")).interface == "eth0")
        #expect(throws: SettingsError.noSuchInterface("nosuch0")) {
            try settings(Self.required + ["-i", "nosuch0"], environment(in: "/"))
        }
        #expect(SettingsError.noSuchInterface("nosuch0").isCommandLineError == false)
        // A bad value is the first thing to fix.
        #expect(throws: SettingsError.outOfRange(option: "--vhid", value: "0", range: 1...255)) {
            try settings(Self.required + ["-i", "nosuch0", "-v", "0"], environment(in: "/"))
        }
        // Without -i the daemon picks the device: nothing to check here.
        #expect(try settings(Self.required, environment(in: "/", interfaces: [])).interface == nil)
    }
}
