import CARPCore
import Testing

@testable import UCarpConfiguration

/// `--handover-wait` and `HANDOVER_WAIT=`: how long a master leaving on purpose keeps the
/// address for the new master.
@Suite struct HandOverOptionTests {
    static let required = ["-s", "192.0.2.11", "-v", "7", "-p", "secret", "-a", "192.0.2.100"]

    func settings(_ extra: [String], files: [String: String] = [:]) throws -> Settings {
        try runSettings(Self.required + extra, files: files)
    }

    @Test func byDefaultTwoAdvertisementIntervalsAtLeastASecond() throws {
        #expect(try settings([]).handOverWait == nil)
        #expect(try settings([]).defaultHandOverWait == .seconds(2))
        #expect(try settings(["--advbase=0", "--advskew=26"]).defaultHandOverWait == .seconds(1))
        #expect(try settings(["--advbase=4"]).defaultHandOverWait == .seconds(8))
    }

    @Test func aValueOrZeroForUcarpsOrder() throws {
        #expect(try settings(["--handover-wait=0.5"]).handOverWait == .milliseconds(500))
        #expect(try settings(["--handover-wait=0"]).handOverWait == .nanoseconds(0))
        let files = ["/etc/ucarp/vip-007.conf": "HANDOVER_WAIT=3\n"]
        #expect(try settings(["--config=/etc/ucarp/vip-007.conf"], files: files).handOverWait == .seconds(3))
    }

    @Test(arguments: ["-1", "61", "2s", ""])
    func badValuesAreRefusedWithAMessage(value: String) {
        do {
            _ = try UCarpCommandLine.parse(Self.required + ["--handover-wait=\(value)"]) { _ throws(SettingsError) in []
            }
            Issue.record("accepted --handover-wait=\(value)")
        } catch {
            #expect(error.description.contains("--handover-wait"), "\(error.description)")
        }
    }
}
