import CARPCore
import Testing

@testable import UCarpConfiguration

/// `--preempt-delay` and `PREEMPT_DELAY=`: how long after start-up `--preempt` waits.
@Suite struct PreemptDelayOptionTests {
    static let required = ["-s", "192.0.2.11", "-v", "7", "-p", "secret", "-a", "192.0.2.100", "--preempt"]

    func settings(_ extra: [String], files: [String: String] = [:]) throws -> Settings {
        try runSettings(Self.required + extra, files: files)
    }

    @Test func noneByDefaultThenSecondsFromTheCommandLineOrTheFile() throws {
        #expect(try settings([]).preemptDelay == nil)
        #expect(try settings(["--preempt-delay=90"]).preemptDelay == .seconds(90))
        #expect(try settings(["--preempt-delay=2.5"]).preemptDelay == .milliseconds(2500))
        let files = ["/etc/ucarp/vip-007.conf": "PREEMPT_DELAY=300\n"]
        #expect(try settings(["--config=/etc/ucarp/vip-007.conf"], files: files).preemptDelay == .seconds(300))
    }

    @Test(arguments: ["-1", "3601", "5m", ""])
    func badValuesAreRefusedWithAMessage(value: String) {
        do {
            _ = try UCarpCommandLine.parse(Self.required + ["--preempt-delay=\(value)"]) { _ throws(SettingsError) in []
            }
            Issue.record("accepted --preempt-delay=\(value)")
        } catch {
            #expect(error.description.contains("--preempt-delay"), "\(error.description)")
            #expect(error.description.contains("3600"), "\(error.description)")
        }
    }
}
