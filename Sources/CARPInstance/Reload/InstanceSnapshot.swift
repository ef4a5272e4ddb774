import CARPCore

/// What a process hands its successor when it re-executes itself (`ucarp --reload`), as an
/// explicit, versioned text encoding: one `key=value` a line after a `swiftcarp-state VERSION`
/// line. Instants are `CLOCK_MONOTONIC` nanoseconds, the same clock after `execve`.
///
/// A successor that does not know the version refuses the snapshot with a message naming
/// both versions (and the daemon falls back to the old binary).
package struct InstanceSnapshot: Equatable {
    /// The version this build writes and reads.
    package static let version = 1

    package var machine: CARPStateMachine.Snapshot
    /// Whether the process had detached (`--daemonize`): the successor must not fork again.
    package var daemonized: Bool

    package init(machine: CARPStateMachine.Snapshot, daemonized: Bool = false) {
        self.machine = machine
        self.daemonized = daemonized
    }

    /// Why a snapshot cannot be read; the message names what is wrong.
    package enum DecodingError: Error, Equatable, CustomStringConvertible {
        case notASnapshot
        case unknownVersion(String)
        case missing(String)
        case badValue(key: String, value: String)

        package var description: String {
            switch self {
            case .notASnapshot: "the state handed over is not a SwiftCARP state (no swiftcarp-state line)"
            case .unknownVersion(let version):
                "the state handed over is of version \(version); this binary reads version \(InstanceSnapshot.version)"
            case .missing(let key): "the state handed over has no \(key)"
            case .badValue(let key, let value): "the state handed over has a bad \(key): '\(value)'"
            }
        }
    }

    // MARK: Encoding

    package var encoded: String {
        var lines = ["swiftcarp-state \(Self.version)"]
        switch machine.role {
        case .master(let advertiseAt):
            lines += ["role=master", "advertise-at=\(advertiseAt.nanoseconds)"]
        case .backup(let timer, let holdUntil):
            lines.append("role=backup")
            switch timer {
            case .masterDown(let deadline): lines.append("master-down-at=\(deadline.nanoseconds)")
            case .unarmed: lines.append("timer=unarmed")
            case .noCarrier: lines.append("timer=no-carrier")
            }
            if let holdUntil { lines.append("hold-until=\(holdUntil.nanoseconds)") }
        case .fault(let carrier):
            lines += ["role=fault", "carrier=\(carrier == .up ? "up" : "down")"]
        }
        if let counter = machine.counter { lines.append("counter=\(counter)") }
        if let healthy = machine.healthy { lines.append("healthy=\(healthy)") }
        if let preemptsFrom = machine.preemptsFrom { lines.append("preempts-from=\(preemptsFrom.nanoseconds)") }
        lines.append("daemonized=\(daemonized)")
        return lines.map { $0 + "\n" }.joined()
    }

    package init(decoding text: String) throws(DecodingError) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)[...]
        guard let header = lines.popFirst(), header.hasPrefix("swiftcarp-state ") else { throw .notASnapshot }
        let version = header.dropFirst("swiftcarp-state ".count)
        guard version == "\(Self.version)" else { throw .unknownVersion(String(version)) }
        var values: [String: String] = [:]
        for line in lines {
            guard let equals = line.firstIndex(of: "=") else { throw .badValue(key: "line", value: String(line)) }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        func instant(_ key: String) throws(DecodingError) -> MonotonicInstant? {
            guard let value = values[key] else { return nil }
            guard let nanoseconds = UInt64(value) else { throw .badValue(key: key, value: value) }
            return MonotonicInstant(nanoseconds: nanoseconds)
        }
        func flag(_ key: String) throws(DecodingError) -> Bool? {
            switch values[key] {
            case nil: return nil
            case "true": return true
            case "false": return false
            case let value?: throw .badValue(key: key, value: value)
            }
        }
        let role: CARPStateMachine.Snapshot.Role
        switch values["role"] {
        case nil: throw .missing("role")
        case "master":
            guard let advertiseAt = try instant("advertise-at") else { throw .missing("advertise-at") }
            role = .master(advertiseAt: advertiseAt)
        case "backup":
            let timer: CARPStateMachine.Backup.Timer
            if let deadline = try instant("master-down-at") {
                timer = .masterDown(deadline)
            } else {
                switch values["timer"] {
                case "unarmed": timer = .unarmed
                case "no-carrier": timer = .noCarrier
                case nil: throw .missing("master-down-at")
                case let value?: throw .badValue(key: "timer", value: value)
                }
            }
            role = .backup(timer, holdUntil: try instant("hold-until"))
        case "fault":
            switch values["carrier"] {
            case "up": role = .fault(.up)
            case "down": role = .fault(.down)
            case nil: throw .missing("carrier")
            case let value?: throw .badValue(key: "carrier", value: value)
            }
        case let value?: throw .badValue(key: "role", value: value)
        }
        var counter: UInt64?
        if let value = values["counter"] {
            guard let parsed = UInt64(value) else { throw .badValue(key: "counter", value: value) }
            counter = parsed
        }
        machine = .init(
            role: role, counter: counter, healthy: try flag("healthy"), preemptsFrom: try instant("preempts-from"))
        daemonized = try flag("daemonized") ?? false
    }
}
