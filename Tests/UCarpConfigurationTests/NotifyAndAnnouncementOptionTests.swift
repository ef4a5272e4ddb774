import CARPCore
import Testing

@testable import UCarpConfiguration

/// `--notify` and `--name` (keepalived's notify script), and the `--garp-*` options, on the
/// command line and in the files.
@Suite struct NotifyAndAnnouncementOptionTests {
    static let required = ["-s", "192.0.2.11", "-v", "7", "-p", "secret", "-a", "192.0.2.100"]

    func settings(_ extra: [String], files: [String: String] = [:]) throws -> Settings {
        try runSettings(Self.required + extra, files: files)
    }

    func rejection(_ extra: [String]) -> String? {
        do {
            _ = try UCarpCommandLine.parse(Self.required + extra) { _ throws(SettingsError) in [] }
            return nil
        } catch {
            return error.description
        }
    }

    @Test func withoutTheOptionsNothingIsNotifiedAndTheARPsAreUcarps() throws {
        let settings = try settings([])
        #expect(settings.notify == nil)
        #expect(settings.instanceName == "vhid7")
        #expect(settings.garpRepeat == 2)
        #expect(settings.garpInterval == nil)
        #expect(settings.garpRefresh == nil)
    }

    @Test func theNotifyCommandIsSplitIntoWordsAsKeepalivedSplitsIt() throws {
        #expect(try settings(["--notify=/usr/local/sbin/notify.sh"]).notify == ["/usr/local/sbin/notify.sh"])
        #expect(
            try settings(["--notify", "/usr/local/sbin/notify.sh 'two words' mail"]).notify == [
                "/usr/local/sbin/notify.sh", "two words", "mail",
            ])
    }

    @Test func theNameReplacesTheVhidInTheNotifyArguments() throws {
        #expect(try settings(["--name=VI_web"]).instanceName == "VI_web")
    }

    @Test func garpOptionsTakeCountsAndDecimalSeconds() throws {
        let settings = try settings(["--garp-repeat=5", "--garp-interval=0.25", "--garp-refresh=30"])
        #expect(settings.garpRepeat == 5)
        #expect(settings.garpInterval == .milliseconds(250))
        #expect(settings.garpRefresh == .seconds(30))
        // An interval of 0 sends the whole series at once; a refresh of 0 is none.
        #expect(try self.settings(["--garp-interval=0"]).garpInterval == .nanoseconds(0))
        #expect(try self.settings(["--garp-refresh=0"]).garpRefresh == nil)
        #expect(try self.settings(["--garp-repeat=0x10"]).garpRepeat == 16)
    }

    @Test(
        arguments: [
            (["--notify="], "--notify must not be empty"),
            (["--notify=''"], "--notify must not be empty"),
            (["--notify='unterminated"], "--notify: "),
            (["--name="], "--name must not be empty"),
            (["--garp-repeat=0"], "--garp-repeat '0' is out of range: allowed are 1 to 255"),
            (["--garp-repeat=256"], "--garp-repeat '256' is out of range: allowed are 1 to 255"),
            (["--garp-repeat=two"], "invalid --garp-repeat 'two': expected a whole number from 1 to 255"),
            (["--garp-interval=-1"], "invalid --garp-interval '-1': expected seconds from 0 to 3600"),
            (["--garp-interval=3601"], "invalid --garp-interval '3601': expected seconds from 0 to 3600"),
            (["--garp-refresh=0.05"], "--garp-refresh '0.05' is too short: 0 (off) or at least 0.1 seconds"),
            (["--garp-refresh=1s"], "invalid --garp-refresh '1s': expected seconds from 0 to 3600"),
        ] as [([String], String)])
    func badValuesAreRefusedWithAMessage(extra: [String], message: String) throws {
        let description = try #require(rejection(extra), "accepted \(extra)")
        #expect(description.hasPrefix(message), "\(extra): \(description)")
    }

    @Test func theFilesHaveAVariableForEachOption() throws {
        let files = [
            "/etc/ucarp/vip-007.conf": """
            NOTIFY="/etc/keepalived/notify.sh site-a"
            NAME=VI_7
            GARP_REPEAT=4
            GARP_INTERVAL=0.5
            GARP_REFRESH=60
            """
        ]
        let settings = try settings(["--config=/etc/ucarp/vip-007.conf"], files: files)
        #expect(settings.notify == ["/etc/keepalived/notify.sh", "site-a"])
        #expect(settings.instanceName == "VI_7")
        #expect(settings.garpRepeat == 4)
        #expect(settings.garpInterval == .milliseconds(500))
        #expect(settings.garpRefresh == .seconds(60))
        // The command line wins, as for every option.
        #expect(
            try self.settings(["--config=/etc/ucarp/vip-007.conf", "--garp-repeat=1"], files: files).garpRepeat == 1)
    }

    @Test func aBadValueInAFileNamesItsLine() {
        let environment = UCarpCommandLine.Environment(
            read: { _ throws(SettingsError) in [] },
            readIfPresent: { path throws(SettingsError) in
                path == "/etc/ucarp/vip-007.conf" ? Array("GARP_REPEAT=1000\n".utf8) : nil
            })
        do {
            _ = try UCarpCommandLine.parse(
                Self.required + ["--config=/etc/ucarp/vip-007.conf"], environment: environment)
            Issue.record("GARP_REPEAT=1000 was accepted")
        } catch {
            #expect(error.description.hasPrefix("/etc/ucarp/vip-007.conf:1: --garp-repeat '1000' is out of range"))
        }
    }
}
