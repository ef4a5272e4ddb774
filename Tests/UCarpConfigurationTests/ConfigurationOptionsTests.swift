import CARPCore
import Testing

@testable import UCarpConfiguration

/// `--config`: the files, merged and turned into settings, with the command line winning.
struct ConfigurationOptionsTests {
    /// An in-memory /etc/ucarp.
    final class Files {
        var contents: [String: String] = [:]
        var source: UCarpCommandLine.Environment {
            UCarpCommandLine.Environment(
                read: { [unowned self] path throws(SettingsError) in
                    guard let text = self.contents[path] else {
                        throw .passfileUnreadable(path: path, reason: "No such file or directory")
                    }
                    return Array(text.utf8)
                },
                readIfPresent: { [unowned self] path throws(SettingsError) in
                    self.contents[path].map { Array($0.utf8) }
                })
        }
    }

    static let redHatExample = """
        # Virtual IP configuration file for UCARP
        ID="001"
        VIP_ADDRESS="184.12.13.154"
        PASSWORD="love"
        BIND_INTERFACE="eth1"
        SOURCE_ADDRESS="184.12.13.180"
        OPTIONS="--shutdown --preempt --advskew=10"
        """

    func settings(_ arguments: [String], _ files: Files) throws -> Settings {
        try run(arguments, files).settings
    }

    func warnings(_ arguments: [String], _ files: Files) throws -> [StartupWarning] {
        try run(arguments, files).warnings
    }

    func run(_ arguments: [String], _ files: Files) throws -> (settings: Settings, warnings: [StartupWarning]) {
        guard case .run(let settings, let warnings) = try UCarpCommandLine.parse(arguments, environment: files.source)
        else {
            Issue.record("not a run command")
            throw SettingsError.bothZero
        }
        return (settings, warnings)
    }

    func rejection(_ arguments: [String], _ files: Files) -> SettingsError? {
        do {
            _ = try UCarpCommandLine.parse(arguments, environment: files.source)
            return nil
        } catch {
            return error
        }
    }

    @Test func theRedHatExampleWorksUnchanged() throws {
        let files = Files()
        files.contents["/etc/ucarp/vip-001.conf"] = Self.redHatExample
        let settings = try settings(["--config=/etc/ucarp/vip-001.conf"], files)
        #expect(settings.vhid == 1)
        #expect(settings.virtualAddresses == [.ipv4(IPv4Address(184, 12, 13, 154))])
        #expect(settings.password == Array("love".utf8))
        #expect(settings.interface == "eth1")
        #expect(settings.sourceAddress == .ipv4(IPv4Address(184, 12, 13, 180)))
        #expect(settings.shutdown && settings.preempt)
        #expect(settings.advskew == 10)
        // Nothing to say about the file; ucarp's own warnings about the scripts remain.
        #expect(try warnings(["--config=/etc/ucarp/vip-001.conf"], files) == [.noUpscript, .noDownscript])
    }

    @Test func theCommonFileIsReadFirstAndOverriddenVariableByVariable() throws {
        let files = Files()
        files.contents["/etc/ucarp/vip-common.conf"] = """
            PASSWORD="common"
            BIND_INTERFACE="eth0"
            SOURCE_ADDRESS=""
            OPTIONS="--neutral --advbase=2"
            UPSCRIPT=/usr/libexec/ucarp/vip-up
            DOWNSCRIPT=/usr/libexec/ucarp/vip-down
            """
        files.contents["/etc/ucarp/vip-007.conf"] = """
            VIP_ADDRESS=192.0.2.100
            SOURCE_ADDRESS=192.0.2.11
            OPTIONS="--preempt"
            """
        let settings = try settings(["--config", "/etc/ucarp/vip-007.conf"], files)
        #expect(settings.vhid == 7)  // from the file name
        #expect(settings.password == Array("common".utf8))
        #expect(settings.interface == "eth0")
        #expect(settings.upscript == "/usr/libexec/ucarp/vip-up")
        #expect(settings.downscript == "/usr/libexec/ucarp/vip-down")
        // OPTIONS is one variable: the instance's replaces the common one, as in a shell.
        #expect(settings.preempt)
        #expect(!settings.neutral)
        #expect(settings.advbase == 1)
    }

    @Test func commandLineOptionsBesideConfigWin() throws {
        let files = Files()
        files.contents["/etc/ucarp/vip-001.conf"] = Self.redHatExample
        let settings = try settings(["--advskew=50", "--config=/etc/ucarp/vip-001.conf", "-i", "eth9"], files)
        #expect(settings.advskew == 50)
        #expect(settings.interface == "eth9")
    }

    @Test func idIsDecimalAndAZeroPaddedOneThatOctalReadsDifferentlyIsWarnedAbout() throws {
        let files = Files()
        files.contents["/etc/ucarp/vip-010.conf"] =
            "ID=010\nVIP_ADDRESS=192.0.2.100\nSOURCE_ADDRESS=192.0.2.11\nPASSWORD=x\n"
        let (settings, warnings) = try run(["--config=/etc/ucarp/vip-010.conf"], files)
        #expect(settings.vhid == 10)
        #expect(warnings.count == 3)
        #expect(
            warnings.first?.description.contains("/etc/ucarp/vip-010.conf:1: ID 010 is read as the decimal vhid 10")
                == true)
        #expect(warnings.first?.description.contains("octal 8") == true)
    }

    @Test func aFullWidthIDIsNotANumber() {
        let files = Files()
        files.contents["/etc/ucarp/vip-001.conf"] = Self.redHatExample.replacingFirst(
            "ID=\"001\"", with: "ID=\"\u{FF11}\u{FF12}\"")
        #expect(
            rejection(["--config=/etc/ucarp/vip-001.conf"], files)?.description
                == "/etc/ucarp/vip-001.conf:2: invalid --vhid '\u{FF11}\u{FF12}': expected a whole number from 1 to 255"
        )
    }

    @Test func vhidFromTheFileName() {
        #expect(ConfigurationOptions.vhidFromFileName("vip-001.conf") == "1")
        #expect(ConfigurationOptions.vhidFromFileName("vip-255.conf") == "255")
        #expect(ConfigurationOptions.vhidFromFileName("vip-abc.conf") == nil)
        #expect(ConfigurationOptions.vhidFromFileName("dns.conf") == nil)
        #expect(ConfigurationOptions.vhidFromFileName("vip-\u{FF11}\u{FF12}.conf") == nil)
    }

    @Test func passfileWinsOverPassword() throws {
        let files = Files()
        files.contents["/etc/ucarp/secret"] = "fromfile\n"
        files.contents["/etc/ucarp/vip-001.conf"] = Self.redHatExample + "\nPASSFILE=/etc/ucarp/secret\n"
        let settings = try settings(["--config=/etc/ucarp/vip-001.conf"], files)
        #expect(settings.password == Array("fromfile".utf8))
        #expect(settings.passfile == "/etc/ucarp/secret")
    }

    @Test func defaultScriptsBesideTheFilesAreUsedWhenNoneIsNamed() throws {
        let files = Files()
        files.contents["/etc/ucarp/vip-001.conf"] = Self.redHatExample
        files.contents["/etc/ucarp/vip-up"] = "#!/bin/sh\n"
        files.contents["/etc/ucarp/vip-down"] = "#!/bin/sh\n"
        let settings = try settings(["--config=/etc/ucarp/vip-001.conf"], files)
        #expect(settings.upscript == "/etc/ucarp/vip-up")
        #expect(settings.downscript == "/etc/ucarp/vip-down")
        let none = Files()
        none.contents["/etc/ucarp/vip-001.conf"] = Self.redHatExample
        #expect(try self.settings(["--config=/etc/ucarp/vip-001.conf"], none).upscript == nil)
    }

    @Test func optionsAreSplitLikeAShellWould() throws {
        let files = Files()
        files.contents["/etc/ucarp/vip-001.conf"] =
            Self.redHatExample + "\nOPTIONS=\"--xparam='two words' --advbase 3\"\n"
        let settings = try settings(["--config=/etc/ucarp/vip-001.conf"], files)
        #expect(settings.xparam == "two words")
        #expect(settings.advbase == 3)
    }

    @Test func unknownVariablesAreWarnings() throws {
        let files = Files()
        files.contents["/etc/ucarp/vip-001.conf"] = Self.redHatExample + "\nNETMASK=24\n"
        let warnings = try warnings(["--config=/etc/ucarp/vip-001.conf"], files)
        #expect(
            warnings.map(\.description) == [
                "/etc/ucarp/vip-001.conf:8: unknown variable NETMASK (ignored)",
                "Warning: no script called when going up", "Warning: no script called when going down",
            ])
    }

    @Test func badValuesNameTheFileAndLine() {
        let files = Files()
        files.contents["/etc/ucarp/vip-001.conf"] = Self.redHatExample.replacingFirst("ID=\"001\"", with: "ID=\"300\"")
        #expect(
            rejection(["--config=/etc/ucarp/vip-001.conf"], files)?.description
                == "/etc/ucarp/vip-001.conf:2: --vhid '300' is out of range: allowed are 1 to 255")
        files.contents["/etc/ucarp/vip-001.conf"] =
            Self.redHatExample + "\nOPTIONS=\"--bogus\"\n"
        #expect(
            rejection(["--config=/etc/ucarp/vip-001.conf"], files)?.description
                == "/etc/ucarp/vip-001.conf:8: unrecognized option '--bogus'")
        files.contents["/etc/ucarp/vip-001.conf"] = Self.redHatExample + "\nOPTIONS=\"--config=/x\"\n"
        #expect(
            rejection(["--config=/etc/ucarp/vip-001.conf"], files)?.description.contains("cannot hold --config") == true
        )
        files.contents["/etc/ucarp/vip-001.conf"] = Self.redHatExample + "\nOPTIONS=\"--cleanup\"\n"
        #expect(
            rejection(["--config=/etc/ucarp/vip-001.conf"], files)?.description.contains("cannot hold --cleanup")
                == true
        )
        files.contents["/etc/ucarp/vip-001.conf"] = Self.redHatExample + "\nOPTIONS=\"--xparam='open\"\n"
        #expect(
            rejection(["--config=/etc/ucarp/vip-001.conf"], files)?.description
                == "/etc/ucarp/vip-001.conf:8: OPTIONS: unterminated single quote")
    }

    @Test func metricsFileIsAVariableAndTheCommandLineWins() throws {
        let files = Files()
        files.contents["/etc/ucarp/vip-001.conf"] = Self.redHatExample + "\nMETRICS_FILE=/run/textfile/vip-001.prom\n"
        #expect(try settings(["--config=/etc/ucarp/vip-001.conf"], files).metricsFile == "/run/textfile/vip-001.prom")
        #expect(
            !(try warnings(["--config=/etc/ucarp/vip-001.conf"], files)).contains(
                .unknownVariable(name: "METRICS_FILE", origin: "/etc/ucarp/vip-001.conf:8")))
        #expect(
            try settings(["--config=/etc/ucarp/vip-001.conf", "--metrics-file=/run/other.prom"], files).metricsFile
                == "/run/other.prom")
        files.contents["/etc/ucarp/vip-001.conf"] = Self.redHatExample + "\nMETRICS_FILE=/run/vip-001.txt\n"
        #expect(
            rejection(["--config=/etc/ucarp/vip-001.conf"], files)
                == .inConfiguration(origin: "/etc/ucarp/vip-001.conf:8", .metricsFileName("/run/vip-001.txt")))
    }

    @Test func aRelativeConfigPathGivesAbsoluteDefaultScripts() throws {
        let files = Files()
        files.contents["/srv/ucarp/vip-001.conf"] = Self.redHatExample
        files.contents["/srv/ucarp/vip-up"] = "#!/bin/sh\n"
        var source = files.source
        source.currentDirectory = "/srv"
        guard
            case .run(let settings, _) = try UCarpCommandLine.parse(
                ["--config=ucarp/vip-001.conf"], environment: source)
        else {
            Issue.record("not a run command")
            return
        }
        #expect(settings.upscript == "/srv/ucarp/vip-up")
    }

    @Test func aFileAtTheRootReadsTheRootsCommonFile() throws {
        let files = Files()
        files.contents["/vip-001.conf"] = Self.redHatExample.replacingFirst("PASSWORD=\"love\"", with: "")
        files.contents["/vip-common.conf"] = "PASSWORD=fromcommon\n"
        #expect(try settings(["--config=/vip-001.conf"], files).password == Array("fromcommon".utf8))
    }

    @Test func optionsLineContinuationsDisappear() throws {
        #expect(try ShellLexer.words("--pre\\\nempt \"--xparam=a\\\nb\"") == ["--preempt", "--xparam=ab"])
    }

    @Test func aMissingFileIsAnError() {
        #expect(
            rejection(["--config=/etc/ucarp/vip-009.conf"], Files())
                == .configurationUnreadable(path: "/etc/ucarp/vip-009.conf", reason: "No such file or directory"))
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: replacement)
        return copy
    }
}
