import Logging
import Testing

@testable import CARPDaemon

struct UCarpLogHandlerTests {
    @Test func tagsLevelsAsUcarpDoes() {
        #expect(UCarpLogHandler.syslogPriority(.debug).1 == "[DEBUG]")
        #expect(UCarpLogHandler.syslogPriority(.info).1 == "[INFO]")
        #expect(UCarpLogHandler.syslogPriority(.warning).1 == "[WARNING]")
        #expect(UCarpLogHandler.syslogPriority(.error).1 == "[ERROR]")
    }

    @Test func timestampsHaveMicroseconds() {
        // 2026-11-23T15:42:17.822777
        let stamp = UCarpLogHandler.timestamp()
        #expect(stamp.count == 26)
        #expect(stamp.contains(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/))
    }
}
