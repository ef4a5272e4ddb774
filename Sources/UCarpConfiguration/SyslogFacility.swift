/// A syslog facility by name, as `--facility` takes it (`syslog.h`'s `facilitynames`).
public struct SyslogFacility: Equatable, Hashable, Sendable {
    public var name: String
    /// The facility code, already shifted (`LOG_DAEMON` is `3 << 3`).
    public var code: Int32

    public static let daemon = SyslogFacility(name: "daemon", code: 3 << 3)

    public static let all: [SyslogFacility] = {
        let named: [(String, Int32)] = [
            ("kern", 0), ("user", 1), ("mail", 2), ("daemon", 3), ("auth", 4), ("security", 4), ("syslog", 5),
            ("lpr", 6), ("news", 7), ("uucp", 8), ("cron", 9), ("authpriv", 10), ("ftp", 11),
        ]
        return named.map { SyslogFacility(name: $0.0, code: $0.1 << 3) }
            + (0...7).map { SyslogFacility(name: "local\($0)", code: (16 + Int32($0)) << 3) }
    }()

    /// Case-insensitive in ASCII, as ucarp's `strcasecmp` lookup.
    public init?(named name: String) {
        let lowercased = name.asciiLowercased()
        guard let found = Self.all.first(where: { $0.name == lowercased }) else { return nil }
        self = found
    }

    init(name: String, code: Int32) {
        self.name = name
        self.code = code
    }
}
