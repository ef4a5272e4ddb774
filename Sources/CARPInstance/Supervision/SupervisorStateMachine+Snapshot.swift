import CARPCore

extension SupervisorStateMachine {
    /// What a supervisor hands the binary it re-executes: the worker it watches and what it
    /// knows of it. An explicit, versioned text encoding, one `key=value` a line after a
    /// `swiftcarp-supervisor VERSION` line, like ``InstanceSnapshot``'s; a successor that does not
    /// know the version refuses it (and the supervisor falls back to the old binary).
    package struct Snapshot: Equatable, TextSnapshot {
        /// The version this build writes and reads.
        package static let version = 1
        package static let header = "swiftcarp-supervisor"
        package static let subject = "the supervisor's state handed over"

        /// The worker's pid: still this process's child after `execve`.
        package var worker: Int32
        /// What the worker reported last.
        package var role: ReportedState
        package var children: [Int32]
        /// The deaths within the policy's window, on the monotonic clock (the same across `execve`).
        package var deaths: [MonotonicInstant]
        package var shutdown: Bool
        /// The start of a report not read whole yet.
        package var pending: [UInt8]

        package init(
            worker: Int32, role: ReportedState, children: [Int32], deaths: [MonotonicInstant], shutdown: Bool,
            pending: [UInt8]
        ) {
            self.worker = worker
            self.role = role
            self.children = children
            self.deaths = deaths
            self.shutdown = shutdown
            self.pending = pending
        }

        /// Why a snapshot cannot be read.
        package typealias DecodingError = SnapshotDecodingError<Snapshot>

        package var encoded: String {
            let lines = [
                "\(Self.header) \(Self.version)",
                "worker=\(worker)",
                "role=\(role.rawValue)",
                "children=\(children.map(String.init).joined(separator: ","))",
                "deaths=\(deaths.map { String($0.nanoseconds) }.joined(separator: ","))",
                "shutdown=\(shutdown)",
                "pending=\(pending.map { String($0, radix: 16) }.joined(separator: ","))",
            ]
            return lines.map { $0 + "\n" }.joined()
        }

        package init(decoding text: String) throws(DecodingError) {
            let values = try Self.values(decoding: text)
            func value(_ key: String) throws(DecodingError) -> String {
                guard let value = values[key] else { throw .missing(key) }
                return value
            }
            /// A comma-separated list, each item read by `parse`.
            func list<Item>(_ key: String, _ parse: (Substring) -> Item?) throws(DecodingError) -> [Item] {
                let text = try value(key)
                var items: [Item] = []
                for word in text.split(separator: ",") {
                    guard let item = parse(word) else { throw .badValue(key: key, value: text) }
                    items.append(item)
                }
                return items
            }
            let workerText = try value("worker")
            guard let worker = Int32(workerText), worker > 0 else { throw .badValue(key: "worker", value: workerText) }
            let roleText = try value("role")
            guard let role = ReportedState(rawValue: roleText) else { throw .badValue(key: "role", value: roleText) }
            self.worker = worker
            self.role = role
            children = try list("children") { word in Int32(word).flatMap { $0 > 0 ? $0 : nil } }
            deaths = try list("deaths") { word in UInt64(word).map(MonotonicInstant.init(nanoseconds:)) }
            switch try value("shutdown") {
            case "true": shutdown = true
            case "false": shutdown = false
            case let other: throw .badValue(key: "shutdown", value: other)
            }
            pending = try list("pending") { word in UInt8(word, radix: 16) }
        }
    }
}
