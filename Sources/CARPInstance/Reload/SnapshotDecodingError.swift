/// A state handed across `execve` (`ucarp --reload`) as versioned text: a `header VERSION`
/// line, then one `key=value` a line.
package protocol TextSnapshot {
    /// The first word of the first line (`swiftcarp-state`).
    static var header: String { get }
    /// The version this build writes and reads.
    static var version: Int { get }
    /// What the messages call the state (`the state handed over`).
    static var subject: String { get }
    /// Reads the text that ``encoded`` wrote.
    init(decoding text: String) throws(SnapshotDecodingError<Self>)
    /// The text handed across: the header line, then the values.
    var encoded: String { get }
}

/// Why a ``TextSnapshot`` cannot be read: the message names the state (`Snapshot`'s
/// ``TextSnapshot/subject``) and what is wrong with it.
package enum SnapshotDecodingError<Snapshot: TextSnapshot>: Error, Equatable, CustomStringConvertible {
    case notASnapshot
    case unknownVersion(String)
    case missing(String)
    case badValue(key: String, value: String)

    package var description: String {
        switch self {
        case .notASnapshot:
            "\(Snapshot.subject) is not a SwiftCARP state (no \(Snapshot.header) line)"
        case .unknownVersion(let version):
            "\(Snapshot.subject) is of version \(version); this binary reads version \(Snapshot.version)"
        case .missing(let key): "\(Snapshot.subject) has no \(key)"
        case .badValue(let key, let value): "\(Snapshot.subject) has a bad \(key): '\(value)'"
        }
    }
}

extension TextSnapshot {
    /// The `key=value` lines of `text` after its header line, checked to name this version.
    static func values(decoding text: String) throws(SnapshotDecodingError<Self>) -> [String: String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)[...]
        guard let first = lines.popFirst(), first.hasPrefix(header + " ") else { throw .notASnapshot }
        let version = first.dropFirst(header.count + 1)
        guard version == "\(Self.version)" else { throw .unknownVersion(String(version)) }
        var values: [String: String] = [:]
        for line in lines {
            guard let equals = line.firstIndex(of: "=") else { throw .badValue(key: "line", value: String(line)) }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }
}
