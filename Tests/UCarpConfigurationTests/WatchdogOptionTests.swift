import Testing

@testable import UCarpConfiguration

/// `--watchdog`: a supervising parent in the foreground too (issue 27, the campaign's finding 3).
@Suite struct WatchdogOptionTests {
    static let required = ["-s", "192.0.2.11", "-v", "7", "-p", "secret", "-a", "192.0.2.100"]

    @Test func theForegroundIsTheInstanceAloneUnlessAskedFor() throws {
        let plain = try runSettings(Self.required)
        #expect(!plain.watchdog && !plain.supervised)
        let watched = try runSettings(Self.required + ["--watchdog"])
        #expect(watched.watchdog && watched.supervised && !watched.daemonize)
    }

    @Test func daemonizeIsSupervisedWithOrWithoutIt() throws {
        #expect(try runSettings(Self.required + ["-B"]).supervised)
        #expect(try runSettings(Self.required + ["-B", "--watchdog"]).supervised)
    }

    @Test func aConfigurationFileAsksForItInOptions() throws {
        let files = ["/etc/ucarp/vip-007.conf": "OPTIONS=\"--watchdog\"\n"]
        #expect(try runSettings(Self.required + ["--config=/etc/ucarp/vip-007.conf"], files: files).watchdog)
    }
}

/// `--no-sentinel`: a foreground instance forks no sentinel (issue 27).
@Suite struct SentinelOptionTests {
    @Test func aForegroundInstanceHasASentinelUnlessSupervisedOrAskedNotTo() throws {
        let required = WatchdogOptionTests.required
        #expect(try runSettings(required).sentinel)
        #expect(try !runSettings(required + ["--watchdog"]).sentinel)
        #expect(try !runSettings(required + ["-B"]).sentinel)
        let alone = try runSettings(required + ["--no-sentinel"])
        #expect(alone.noSentinel && !alone.sentinel)
    }

    @Test func aConfigurationFileAsksForNoneInOptions() throws {
        let files = ["/etc/ucarp/vip-007.conf": "OPTIONS=\"--no-sentinel\"\n"]
        #expect(
            try !runSettings(WatchdogOptionTests.required + ["--config=/etc/ucarp/vip-007.conf"], files: files).sentinel
        )
    }
}
