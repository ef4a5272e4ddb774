import CARPCore
import Testing

@testable import UCarpConfiguration

@Suite struct UCarpCommandLineTests {
    static let password = "Zebra-Secret-99"
    static let required = ["-s", "192.0.2.11", "-v", "1", "-p", password, "-a", "192.0.2.100"]

    /// Passfiles by path; any other path is unreadable.
    static let passfiles: [String: [UInt8]] = [
        "/etc/ucarp/no-newline": Array("filepass".utf8),
        "/etc/ucarp/two-lines": Array("first\nsecond\n".utf8),
        "/etc/ucarp/empty": [],
        "/etc/ucarp/blank-line": Array("\nlater".utf8),
        "/etc/ucarp/too-long": Array("01234567890123456789\n".utf8),
        "/etc/ucarp/longest": Array("0123456789012345678\n".utf8),
        "/etc/ucarp/with-nul": Array("abc".utf8) + [0] + Array("def\n".utf8),
    ]

    static func readPassfile(_ path: String) throws(SettingsError) -> [UInt8] {
        guard let contents = passfiles[path] else {
            throw .passfileUnreadable(path: path, reason: "Permission denied")
        }
        return contents
    }

    func command(_ arguments: [String]) throws(SettingsError) -> UCarpCommandLine.Command {
        try UCarpCommandLine.parse(arguments, readPassfile: Self.readPassfile)
    }

    func settings(_ arguments: [String]) throws -> Settings {
        guard case .run(let settings, _) = try command(arguments) else {
            Issue.record("expected settings to run with")
            throw SettingsError.syntax("not a run command")
        }
        return settings
    }

    /// The error `arguments` are rejected with; records an issue if they are accepted.
    func rejection(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) -> SettingsError? {
        do {
            let accepted = try command(arguments)
            Issue.record("accepted: \(accepted)", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(
                !error.description.contains(Self.password), "the password leaked into: \(error.description)",
                sourceLocation: sourceLocation)
            return error
        }
    }

    // MARK: Accepted command lines

    @Test func minimalCommandLineGetsUcarpsDefaults() throws {
        let settings = try settings(Self.required)
        #expect(settings.interface == nil)
        #expect(settings.sourceAddress == .ipv4(IPv4Address(192, 0, 2, 11)))
        #expect(settings.vhid == 1)
        #expect(settings.password == Array(Self.password.utf8))
        #expect(settings.virtualAddresses == [.ipv4(IPv4Address(192, 0, 2, 100))])
        #expect(settings.virtualAddressArgument == "192.0.2.100")
        #expect(settings.group == .ipv4(IPv4Address(224, 0, 0, 18)))
        #expect(settings.advbase == 1)
        #expect(settings.advskew == 0)
        #expect(settings.deadRatio == 3)
        #expect(settings.facility == .daemon)
        #expect(!settings.preempt && !settings.neutral && !settings.debug && !settings.shutdown)
        #expect(!settings.daemonize && !settings.ignoreInterfaceState && !settings.noMulticast)
        #expect(settings.upscript == nil && settings.downscript == nil && settings.xparam == nil)
        #expect(settings.passfile == nil && settings.pidFile == nil && settings.stateFile == nil)
        #expect(settings.scriptTimeout == .seconds(60))
    }

    @Test func debianIfUpLine() throws {
        let settings = try settings([
            "-i", "eth0", "-s", "192.0.2.11", "-B", "-z", "-v", "42", "-p", "pw", "-a", "192.0.2.100",
            "-u", "/usr/share/ucarp/vip-up", "-d", "/usr/share/ucarp/vip-down", "-P", "-k", "10", "-b", "2", "-r", "4",
            "-M", "-x", "extra",
        ])
        var expected = Settings(
            interface: "eth0", sourceAddress: IPv4Address(192, 0, 2, 11), vhid: 42, password: Array("pw".utf8),
            virtualAddress: IPv4Address(192, 0, 2, 100))
        expected.daemonize = true
        expected.shutdown = true
        expected.upscript = "/usr/share/ucarp/vip-up"
        expected.downscript = "/usr/share/ucarp/vip-down"
        expected.preempt = true
        expected.advskew = 10
        expected.advbase = 2
        expected.deadRatio = 4
        expected.noMulticast = true
        expected.xparam = "extra"
        #expect(settings == expected)
    }

    @Test func redHatStyleLongOptions() throws {
        let settings = try settings([
            "--interface=eth1", "--srcip=192.0.2.12", "--vhid=001", "--pass=pw", "--addr=192.0.2.200",
            "--shutdown", "--preempt", "--advskew=10", "--upscript=/etc/ucarp/up", "--downscript=/etc/ucarp/down",
            "--neutral", "--debug", "--ignoreifstate", "--nomcast", "--facility=local0", "--daemonize",
            "--deadratio=2", "--advbase=5", "--xparam=x", "--mcastip=239.255.1.2",
        ])
        #expect(settings.interface == "eth1")
        #expect(settings.vhid == 1)  // "001": octal 1
        #expect(settings.virtualAddresses == [.ipv4(IPv4Address(192, 0, 2, 200))])
        #expect(settings.shutdown && settings.preempt && settings.neutral && settings.debug)
        #expect(settings.ignoreInterfaceState && settings.noMulticast && settings.daemonize)
        #expect(settings.advskew == 10 && settings.advbase == 5 && settings.deadRatio == 2)
        #expect(settings.facility?.name == "local0")
        #expect(settings.group == .ipv4(IPv4Address(239, 255, 1, 2)))
        #expect(settings.xparam == "x")
    }

    @Test func mcastAcceptsEverySpelling() throws {
        for spelling in [
            ["--mcast", "239.1.2.3"], ["--mcast=239.1.2.3"], ["--mcastip=239.1.2.3"], ["-m", "239.1.2.3"],
            ["-m239.1.2.3"],
        ] {
            #expect(try settings(Self.required + spelling).group == .ipv4(IPv4Address(239, 1, 2, 3)), "\(spelling)")
        }
    }

    @Test func laterOptionsOverrideEarlierOnes() throws {
        let settings = try settings(
            Self.required + [
                "-v", "2", "--vhid=3", "-p", "second", "-a", "192.0.2.101", "-b", "2", "-b", "3", "-k", "5", "-k", "6",
                "-s", "192.0.2.13", "-i", "eth0", "-i", "eth1", "-f", "local1", "-f", "none", "-u", "/a", "-u", "/b",
            ])
        #expect(settings.vhid == 3)
        #expect(settings.password == Array("second".utf8))
        // --addr is the exception: given again, it adds an address of the vhid (issue 12).
        #expect(settings.virtualAddresses == [.ipv4(IPv4Address(192, 0, 2, 100)), .ipv4(IPv4Address(192, 0, 2, 101))])
        #expect(settings.advbase == 3)
        #expect(settings.advskew == 6)
        #expect(settings.sourceAddress == .ipv4(IPv4Address(192, 0, 2, 13)))
        #expect(settings.interface == "eth1")
        #expect(settings.facility == nil)
        #expect(settings.upscript == "/b")
    }

    @Test func virtualAddressIsKeptAsGivenForTheScripts() throws {
        #expect(try settings(Self.required + ["-a", "10.0.0.1"]).virtualAddressArguments.last == "10.0.0.1")
        #expect(try settings(Self.required + ["-a", "2001:DB8::1"]).virtualAddressArguments.last == "2001:DB8::1")
    }

    @Test func clusteredAndAbbreviatedSpellingsWork() throws {
        let settings = try settings([
            "-Pzs192.0.2.11", "--v=7", "-p", "pw", "--add", "192.0.2.100", "-Bk", "9", "--pre",
        ])
        #expect(settings.preempt && settings.shutdown && settings.daemonize)
        #expect(settings.sourceAddress == .ipv4(IPv4Address(192, 0, 2, 11)))
        #expect(settings.vhid == 7)
        #expect(settings.advskew == 9)
    }

    // MARK: Help and version

    @Test func helpAndVersion() throws {
        #expect(try command([]) == .help)
        #expect(try command(["--help"]) == .help)
        #expect(try command(["-h"]) == .help)
        #expect(try command(["--he"]) == .help)
        #expect(try command(["-v", "0", "-h"]) == .help)  // ucarp shows the usage as soon as it meets -h
        #expect(try command(["--version"]) == .version)
        #expect(try command(["-V"]) == .version)
    }

    // MARK: Rejected command lines

    @Test func strayOperandIsRejected() {
        let error = rejection(Self.required + ["stray"])
        #expect(error == .strayArgument("stray"))
        #expect(error?.description.contains("'stray'") == true)
        #expect(
            rejection(["-s", "192.0.2.11", "extra", "-v", "1", "-p", "pw", "-a", "192.0.2.100"])
                == .strayArgument("extra"))
        #expect(rejection(Self.required + ["--", "-P"]) == .strayArgument("-P"))
    }

    @Test func syntaxErrorsAreReportedInGetoptsWords() {
        #expect(
            rejection(Self.required + ["--pa", "x"])
                == .syntax("option '--pa' is ambiguous; possibilities: '--pass' '--passfile'"))
        #expect(rejection(Self.required + ["--bogus"]) == .syntax("unrecognized option '--bogus'"))
        #expect(rejection(Self.required + ["-q"]) == .syntax("invalid option -- 'q'"))
        #expect(rejection(Self.required + ["-v"]) == .syntax("option requires an argument -- 'v'"))
        #expect(rejection(Self.required + ["--vhid"]) == .syntax("option '--vhid' requires an argument"))
        #expect(rejection(Self.required + ["--preempt=1"]) == .syntax("option '--preempt' doesn't allow an argument"))
    }

    @Test(arguments: ["0", "256", "1000", "99999999999999999999999"])
    func vhidOutOfRangeIsRejected(_ value: String) {
        let error = rejection(Self.required + ["-v", value])
        #expect(error == .outOfRange(option: "--vhid", value: value, range: 1...255))
        #expect(error?.description.contains("'\(value)'") == true)
        #expect(error?.description.contains("1 to 255") == true)
    }

    @Test(arguments: ["abc", "-1", "", "1.5", "+1", " 1", "1 ", "0x", "08", "1a", "0xg"])
    func vhidThatIsNotANumberIsRejected(_ value: String) {
        let error = rejection(Self.required + ["--vhid=\(value)"])
        #expect(error == .notANumber(option: "--vhid", value: value, range: 1...255))
        #expect(error?.description.contains("'\(value)'") == true)
        #expect(error?.description.contains("1 to 255") == true)
    }

    /// `Character.hexDigitValue` knows full-width digits; `strtoul` reads ASCII only.
    @Test(arguments: ["\u{FF11}\u{FF12}", "0x\u{FF26}", "0\u{FF11}", "\u{0663}", "1\u{FF10}", "0x1\u{FF41}"])
    func nonASCIIDigitsAreNotANumber(_ value: String) {
        #expect(
            rejection(Self.required + ["--vhid=\(value)"])
                == .notANumber(option: "--vhid", value: value, range: 1...255))
        #expect(
            rejection(Self.required + ["--advskew", value])
                == .notANumber(option: "--advskew", value: value, range: 0...255)
        )
    }

    @Test func advskewOutOfRangeIsRejected() {
        let tooBig = rejection(Self.required + ["-k", "256"])
        #expect(tooBig == .outOfRange(option: "--advskew", value: "256", range: 0...255))
        #expect(tooBig?.description.contains("'256'") == true)
        #expect(tooBig?.description.contains("0 to 255") == true)
        #expect(
            rejection(Self.required + ["-k", "-1"]) == .notANumber(option: "--advskew", value: "-1", range: 0...255))
        // ucarp would silently make 300 into 44.
        #expect(
            rejection(Self.required + ["-k", "300"]) == .outOfRange(option: "--advskew", value: "300", range: 0...255))
    }

    @Test func advbaseOutOfRangeIsRejected() {
        let error = rejection(Self.required + ["-b", "256"])
        #expect(error == .outOfRange(option: "--advbase", value: "256", range: 0...255))
        #expect(error?.description.contains("0 to 255") == true)
        #expect(
            rejection(Self.required + ["-b", "one"]) == .notANumber(option: "--advbase", value: "one", range: 0...255))
    }

    @Test func advbaseAndAdvskewBothZeroIsRejected() throws {
        #expect(rejection(Self.required + ["-b", "0", "-k", "0"]) == .bothZero)
        #expect(rejection(Self.required + ["-b", "0"]) == .bothZero)
        #expect(SettingsError.bothZero.description.contains("--advbase"))
        let subSecond = try settings(Self.required + ["-b", "0", "-k", "26"])
        #expect(subSecond.advbase == 0)
        #expect(subSecond.advskew == 26)
        #expect(try settings(Self.required + ["-b", "0", "-k", "255", "-b", "0"]).advskew == 255)
    }

    @Test func deadRatioZeroIsRejected() throws {
        let error = rejection(Self.required + ["-r", "0"])
        #expect(error == .outOfRange(option: "--deadratio", value: "0", range: 1...255))
        #expect(error?.description.contains("'0'") == true)
        #expect(error?.description.contains("1 to 255") == true)
        #expect(try settings(Self.required + ["-r", "1"]).deadRatio == 1)
        #expect(try settings(Self.required + ["-r", "255"]).deadRatio == 255)
    }

    @Test func numbersAreReadLikeStrtoulBaseZero() throws {
        #expect(try settings(Self.required + ["-v", "0x10"]).vhid == 16)
        #expect(try settings(Self.required + ["-v", "0X1f"]).vhid == 31)
        #expect(try settings(Self.required + ["-v", "010"]).vhid == 8)
        #expect(try settings(Self.required + ["-v", "0377"]).vhid == 255)
        #expect(try settings(Self.required + ["-v", "0xff"]).vhid == 255)
        #expect(try settings(Self.required + ["-k", "0"]).advskew == 0)
        #expect(try settings(Self.required + ["-k", "00"]).advskew == 0)
        #expect(
            rejection(Self.required + ["-v", "0400"]) == .outOfRange(option: "--vhid", value: "0400", range: 1...255))
        #expect(
            rejection(Self.required + ["-v", "0x100"]) == .outOfRange(option: "--vhid", value: "0x100", range: 1...255))
    }

    @Test func passwordOfTwentyBytesIsRejectedAndNineteenAccepted() throws {
        let twenty = "Zebra-Secret-99-abcd"
        #expect(twenty.utf8.count == 20)
        let error = rejection(Self.required + ["-p", twenty])
        #expect(error == .passwordTooLong(length: 20))
        #expect(error?.description.contains("20") == true)
        #expect(error?.description.contains("19") == true)
        #expect(error?.description.contains(twenty) == false)
        let nineteen = "Zebra-Secret-99-abc"
        #expect(try settings(Self.required + ["-p", nineteen]).password == Array(nineteen.utf8))
        // Bytes, not characters: "é" is two of them.
        #expect(rejection(Self.required + ["-p", String(repeating: "é", count: 10)]) == .passwordTooLong(length: 20))
    }

    @Test func missingRequiredOptionsAreNamed() {
        func without(_ option: String) -> [String] {
            var arguments = Self.required
            let index = arguments.firstIndex(of: option) ?? 0
            arguments.removeSubrange(index...index + 1)
            return arguments
        }
        let cases: [(String, String)] = [("-s", "--srcip"), ("-v", "--vhid"), ("-p", "--pass"), ("-a", "--addr")]
        for (option, named) in cases {
            let error = rejection(without(option))
            guard case .missing(let missing, _) = error else {
                Issue.record("\(option): expected a missing-option error, got \(String(describing: error))")
                continue
            }
            #expect(missing.contains(named))
            #expect(error?.description.contains(named) == true)
        }
        #expect(rejection(Self.required + ["-p", ""]).map { if case .missing = $0 { true } else { false } } == true)
    }

    @Test(arguments: [
        ("-s", "--srcip", "192.0.2"), ("-s", "--srcip", "192.0.2.256"), ("-a", "--addr", "300.1.1.1"),
        ("-a", "--addr", "vip"), ("-a", "--addr", "192.0.2.100/24"), ("-m", "--mcast", "foo"),
        ("-m", "--mcast", "224.0.0.018"), ("-s", "--srcip", "192.0.2.011"), ("-a", "--addr", "192.0.2.\u{FF11}"),
    ])
    func malformedAddressesAreRejected(_ option: String, _ named: String, _ value: String) {
        let error = rejection(Self.required + [option, value])
        #expect(error == .invalidAddress(option: named, value: value))
        #expect(error?.description.contains("'\(value)'") == true)
    }

    @Test func nonMulticastGroupIsRejected() {
        let error = rejection(Self.required + ["--mcast", "192.0.2.1"])
        #expect(error == .notMulticast(value: "192.0.2.1"))
        #expect(error?.description.contains("'192.0.2.1'") == true)
        #expect(error?.description.contains("224.0.0.0 to 239.255.255.255") == true)
        #expect(rejection(Self.required + ["--mcast", "240.0.0.1"]) == .notMulticast(value: "240.0.0.1"))
    }

    @Test func unspecifiedAddressesAreRejected() {
        #expect(rejection(Self.required + ["-s", "0.0.0.0"]) == .unspecifiedAddress(option: "--srcip"))
        #expect(rejection(Self.required + ["-a", "0.0.0.0"]) == .unspecifiedAddress(option: "--addr"))
        #expect(SettingsError.unspecifiedAddress(option: "--srcip").description.contains("0.0.0.0"))
    }

    @Test func facilities() throws {
        #expect(try settings(Self.required + ["-f", "none"]).facility == nil)
        #expect(try settings(Self.required + ["-f", "NONE"]).facility == nil)
        let local3 = try #require(try settings(Self.required + ["--facility=LOCAL3"]).facility)
        #expect(local3.name == "local3")
        #expect(local3.code == 19 << 3)
        #expect(try settings(Self.required + ["-f", "daemon"]).facility == .daemon)
        #expect(try settings(Self.required + ["-f", "auth"]).facility?.code == 4 << 3)
        let error = rejection(Self.required + ["-f", "bogus"])
        #expect(error == .unknownFacility("bogus"))
        #expect(error?.description.contains("'bogus'") == true)
        #expect(error?.description.contains("local7") == true)
    }

    /// `strcasecmp` folds ASCII letters only: the Kelvin sign is not a K.
    @Test func facilityNamesFoldOnlyASCIICase() {
        #expect(rejection(Self.required + ["-f", "\u{212A}ern"]) == .unknownFacility("\u{212A}ern"))
    }

    @Test func emptyInterfaceAndScriptsAreRejected() {
        #expect(rejection(Self.required + ["-i", ""]) == .emptyValue(option: "--interface"))
        #expect(rejection(Self.required + ["-u", ""]) == .emptyValue(option: "--upscript"))
        #expect(rejection(Self.required + ["--downscript="]) == .emptyValue(option: "--downscript"))
    }

    // MARK: Passfile

    @Test func passfileFirstLineIsThePassword() throws {
        let base = ["-s", "192.0.2.11", "-v", "1", "-a", "192.0.2.100"]
        let fromFile = try settings(base + ["-o", "/etc/ucarp/no-newline"])
        #expect(fromFile.password == Array("filepass".utf8))
        #expect(fromFile.passfile == "/etc/ucarp/no-newline")
        #expect(try settings(base + ["--passfile=/etc/ucarp/two-lines"]).password == Array("first".utf8))
        #expect(try settings(base + ["--passfile", "/etc/ucarp/longest"]).password.count == 19)
        #expect(rejection(base + ["-o", "/etc/ucarp/too-long"]) == .passwordTooLong(length: 20))
    }

    /// ucarp holds the line as a C string: a NUL ends the password there.
    @Test func passfileLineEndsAtANul() throws {
        let base = ["-s", "192.0.2.11", "-v", "1", "-a", "192.0.2.100"]
        #expect(try settings(base + ["-o", "/etc/ucarp/with-nul"]).password == Array("abc".utf8))
    }

    @Test func passfileAndPassOverrideEachOtherInOrder() throws {
        let base = ["-s", "192.0.2.11", "-v", "1", "-a", "192.0.2.100"]
        let fileLast = try settings(base + ["-p", "x", "-o", "/etc/ucarp/no-newline"])
        #expect(fileLast.password == Array("filepass".utf8))
        #expect(fileLast.passfile == "/etc/ucarp/no-newline")
        let passLast = try settings(base + ["-o", "/etc/ucarp/no-newline", "-p", "x"])
        #expect(passLast.password == Array("x".utf8))
        #expect(passLast.passfile == nil)
    }

    @Test func emptyPassfileIsRejected() {
        let base = ["-s", "192.0.2.11", "-v", "1", "-a", "192.0.2.100"]
        let error = rejection(base + ["-o", "/etc/ucarp/empty"])
        #expect(error == .passfileEmpty(path: "/etc/ucarp/empty"))
        #expect(error?.description.contains("/etc/ucarp/empty") == true)
        #expect(rejection(base + ["-o", "/etc/ucarp/blank-line"]) == .passfileEmpty(path: "/etc/ucarp/blank-line"))
    }

    @Test func unreadablePassfileIsRejected() {
        let error = rejection(Self.required + ["-o", "/root/secret"])
        #expect(error == .passfileUnreadable(path: "/root/secret", reason: "Permission denied"))
        #expect(error?.description.contains("/root/secret") == true)
        #expect(error?.description.contains("Permission denied") == true)
    }

    @Test func passfileIsReadOnlyWhenGiven() throws {
        var reads: [String] = []
        let command = try UCarpCommandLine.parse(Self.required) { (path: String) throws(SettingsError) -> [UInt8] in
            reads.append(path)
            return []
        }
        #expect(reads == [])
        guard case .run = command else {
            Issue.record("expected settings")
            return
        }
    }

    // MARK: Extensions

    @Test func pidfileAndStatefile() throws {
        let settings = try settings(Self.required + ["--pidfile=/run/ucarp.pid", "--statefile", "/run/ucarp.state"])
        #expect(settings.pidFile == "/run/ucarp.pid")
        #expect(settings.stateFile == "/run/ucarp.state")
        #expect(rejection(Self.required + ["--pidfile="]) == .emptyValue(option: "--pidfile"))
        #expect(rejection(Self.required + ["--statefile="]) == .emptyValue(option: "--statefile"))
    }

    @Test func metricsFileNamesAPromFileAndIsOffByDefault() throws {
        #expect(try settings(Self.required).metricsFile == nil)
        let settings = try settings(Self.required + ["--metrics-file=/var/lib/node_exporter/ucarp-7.prom"])
        #expect(settings.metricsFile == "/var/lib/node_exporter/ucarp-7.prom")
        #expect(rejection(Self.required + ["--metrics-file="]) == .emptyValue(option: "--metrics-file"))
        for path in [
            "/var/lib/node_exporter/ucarp.txt", "/var/lib/node_exporter/", "/var/lib/node_exporter/.prom", ".prom",
            "/var/lib/node_exporter/ucarp.prom/",
        ] {
            let error = rejection(Self.required + ["--metrics-file", path])
            #expect(error == .metricsFileName(path))
            #expect(
                error?.description
                    == "--metrics-file '\(path)' does not end in .prom: node_exporter's textfile collector reads only *.prom files"
            )
            #expect(error?.isCommandLineError == true)
        }
    }

    @Test(arguments: [
        ("2", MonotonicDuration.seconds(2) as MonotonicDuration?), ("0.25", .milliseconds(250)),
        (".5", .milliseconds(500)),
        ("86400", .seconds(86_400)), ("0.000000001", .nanoseconds(1)), ("0", nil), ("0.0", nil),
    ])
    func scriptTimeoutTakesSecondsWithFractions(_ value: String, _ expected: MonotonicDuration?) throws {
        #expect(try settings(Self.required + ["--script-timeout=\(value)"]).scriptTimeout == expected)
    }

    @Test(arguments: [
        "", ".", "1.", "-1", "abc", "1e3", "86401", "86400.1", "1.0000000001", " 1", "1,5", "9999999999", "\u{FF12}",
        "0.\u{FF15}",
    ])
    func scriptTimeoutRejectsWhatIsNotSeconds(_ value: String) {
        let error = rejection(Self.required + ["--script-timeout", value])
        #expect(error == .notASeconds(option: "--script-timeout", value: value, maximum: 86_400))
        #expect(error?.description.contains("'\(value)'") == true)
        #expect(error?.description.contains("0 to 86400") == true)
    }

    @Test func passwordLocationsPointAtEveryPasswordValue() {
        func locations(_ arguments: [String]) -> [[Int]] {
            UCarpCommandLine.passwordLocations(in: arguments).map { [$0.argument, $0.offset] }
        }
        #expect(locations(["-p", "pw"]) == [[1, 0]])
        #expect(locations(["-ppw"]) == [[0, 2]])
        #expect(locations(["-Ppw"]) == [[0, 3]])  // -P, then -p with the value "w"
        #expect(locations(["-zPp", "pw"]) == [[1, 0]])
        #expect(locations(["--pass=pw"]) == [[0, 7]])
        #expect(locations(["--pass", "pw"]) == [[1, 0]])
        #expect(locations(["-v", "1", "-p", "a", "--pass=b", "-pc"]) == [[3, 0], [4, 7], [5, 2]])
        #expect(locations(["-o", "/etc/pw", "-v", "1"]) == [])
        #expect(locations(["--bogus", "-p", "pw"]) == [])
        // Values of other options that happen to equal the password are not touched.
        #expect(locations(["-x", "pw", "-p", "pw"]) == [[3, 0]])
        // Multi-byte characters before the value: the offset is in UTF-8 bytes.
        let arguments = ["-Pp\u{e9}t\u{e9}"]
        #expect(locations(arguments) == [[0, 3]])
        #expect(String(decoding: Array(arguments[0].utf8)[3...], as: UTF8.self) == "\u{e9}t\u{e9}")
    }

    // MARK: Messages

    @Test func noErrorMessageContainsThePassword() {
        let failing: [[String]] = [
            Self.required + ["stray"], Self.required + ["-v", "0"], Self.required + ["-k", "999"],
            Self.required + ["-b", "0", "-k", "0"], Self.required + ["-f", "nope"], Self.required + ["--bogus"],
            Self.required + ["-a", "bad"], Self.required + ["-s", "0.0.0.0"], Self.required + ["-r", "0"],
            Self.required + ["-p", Self.password + "-too-long-for-carp"], Self.required + ["-o", "/nonexistent"],
            Array(Self.required.dropLast(2)),
        ]
        for arguments in failing {
            let error = rejection(arguments)
            #expect(error != nil, "\(arguments)")
            #expect(error?.description.contains("Zebra") == false, "\(arguments)")
        }
    }

    // MARK: --cleanup (the address never outlives its daemon)

    @Test func cleanupTakesTheInstancesOwnOptionsAndItsStateFile() throws {
        let command = try command(Self.required + ["-d", "/etc/down", "--statefile=/run/ucarp/001/state", "--cleanup"])
        guard case .cleanUp(let settings) = command else {
            Issue.record("expected a clean-up, got \(command)")
            return
        }
        #expect(settings.downscript == "/etc/down")
        #expect(settings.stateFile == "/run/ucarp/001/state")
    }

    @Test func cleanupWithoutAStateFileIsRefused() {
        #expect(rejection(Self.required + ["--cleanup"]) == .cleanupWithoutStateFile)
        #expect(rejection(Self.required + ["--cleanup"])?.description.contains("--statefile") == true)
    }

    @Test func cleanupStillChecksTheSettings() {
        #expect(rejection(["-s", "192.0.2.11", "--statefile=/s", "--cleanup"]) != nil)
    }
}
