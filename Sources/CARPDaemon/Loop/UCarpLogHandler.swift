import Glibc
import Logging
import SystemPackage

/// Where log lines go; shared by every copy of the handler so daemonizing can turn the
/// terminal off for all of them.
public final class LogOutput: @unchecked Sendable {
    /// Which lines also go to stdout (debug, info) and stderr (warning, error).
    public enum Terminal: Sendable {
        /// Everything, as ucarp when not daemonized.
        case all
        /// Errors only: `--daemonize` before detaching, so start-up failures are still seen.
        case errors
        /// Nothing: detached.
        case none
    }

    public var terminal: Terminal
    /// Whether `openlog` was called; nil facility means `--facility=none`.
    public let syslog: Bool

    /// Opens syslog as ucarp does: ident `ucarp`, `LOG_PID`, the given facility.
    public init(facility: Int32?, terminal: Terminal) {
        self.terminal = terminal
        self.syslog = facility != nil
        if let facility {
            // openlog keeps the pointer: it must live as long as the process.
            openlog(Self.ident, LOG_PID, facility)
        }
    }

    nonisolated(unsafe) private static let ident = UnsafePointer(strdup("ucarp")!)
}

/// A swift-log backend that writes ucarp's lines: `[INFO] ...` to syslog, and
/// `2026-11-23T15:42:17.822777: [WARNING] ...` to the terminal.
public struct UCarpLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let output: LogOutput

    public init(output: LogOutput, level: Logger.Level) {
        self.output = output
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let (priority, tag) = Self.syslogPriority(event.level)
        let line = "\(tag) \(event.message)"
        if output.syslog {
            line.withCString { text in withVaList([text]) { vsyslog(priority, "%s", $0) } }
        }
        switch output.terminal {
        case .none: return
        case .errors: guard priority <= LOG_ERR else { return }
        case .all: break
        }
        let stream: FileDescriptor = priority <= LOG_WARNING ? .standardError : .standardOutput
        // Deliberately best effort: a line the terminal does not take has nowhere else to go.
        try? System.write(
            Array("\(Self.timestamp()): \(line)\n".utf8), to: stream,
            subject: stream == .standardError ? "standard error" : "standard output")
    }

    static func syslogPriority(_ level: Logger.Level) -> (CInt, String) {
        switch level {
        case .trace, .debug: (LOG_DEBUG, "[DEBUG]")
        case .info: (LOG_INFO, "[INFO]")
        case .notice: (LOG_NOTICE, "[NOTICE]")
        case .warning: (LOG_WARNING, "[WARNING]")
        case .error, .critical: (LOG_ERR, "[ERROR]")
        }
    }

    /// Local time with microseconds, ucarp's `%Y-%m-%dT%H:%M:%S.%06ld`.
    static func timestamp() -> String {
        let now = System.clock(CLOCK_REALTIME)
        var seconds = now.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
        let microseconds = String(now.tv_nsec / 1000 + 1_000_000).dropFirst()
        let prefix = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(prefix).\(microseconds)"
    }
}
