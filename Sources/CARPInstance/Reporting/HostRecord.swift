/// What one instance publishes about itself in the `--host-state` directory, for
/// `ucarp --status` and for the other members of its group.
///
/// The file is `KEY=value` lines; a value keeps every character but the newline and the
/// backslash, which are written `\n` and `\\`. Unknown keys are skipped, so that a newer
/// daemon's record still reads.
package struct HostRecord: Equatable, Sendable {
    package var pid: Int32
    package var vhid: UInt8
    package var interface: String
    /// Every virtual address as given.
    package var addresses: [String]
    package var state: ReportedState
    /// When the state last changed, in seconds since the epoch.
    package var since: Int64
    /// Why (the scripts' `CARP_REASON`).
    package var reason: String
    /// `--group`; nil without one.
    package var group: String?
    /// Our own demotion causes.
    package var causes: [DemotionCause]
    /// The demotion counter we advertise with (ours and our group's).
    package var counter: UInt32
    /// The source address of the last advertisement heard from another host.
    package var peer: String?
    /// With `--etcd`: the key.
    package var etcdKey: String?

    package init(
        pid: Int32, vhid: UInt8, interface: String, addresses: [String], state: ReportedState, since: Int64,
        reason: String, group: String? = nil, causes: [DemotionCause] = [], counter: UInt32 = 0,
        peer: String? = nil, etcdKey: String? = nil
    ) {
        self.pid = pid
        self.vhid = vhid
        self.interface = interface
        self.addresses = addresses
        self.state = state
        self.since = since
        self.reason = reason
        self.group = group
        self.causes = causes
        self.counter = counter
        self.peer = peer
        self.etcdKey = etcdKey
    }

    /// The demotion our own causes add to the group's counter.
    package var demotion: UInt32 {
        HostGroup.demotion(of: causes)
    }

    /// The record's file name in the directory: one per interface and vhid, so that a
    /// restarted instance replaces its record.
    package static func fileName(interface: String, vhid: UInt8) -> String {
        "\(interface).vhid\(vhid)\(fileSuffix)"
    }

    package static let fileSuffix = ".record"

    /// The file's text.
    package var text: String {
        var lines: [(String, String)] = [
            ("PID", "\(pid)"), ("VHID", "\(vhid)"), ("INTERFACE", interface),
            ("ADDRESSES", addresses.joined(separator: " ")), ("STATE", state.rawValue), ("SINCE", "\(since)"),
            ("REASON", reason), ("DEMOTION", causes.map(\.rawValue).joined(separator: " ")),
            ("COUNTER", "\(counter)"),
        ]
        if let group { lines.append(("GROUP", group)) }
        if let peer { lines.append(("PEER", peer)) }
        if let etcdKey { lines.append(("ETCD_KEY", etcdKey)) }
        return lines.map { "\($0.0)=\(Self.escape($0.1))\n" }.joined()
    }

    /// Reads a record's text; nil when a field it needs is missing or malformed.
    package init?(parsing text: String) {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = Self.unescape(line[line.index(after: equals)...])
        }
        guard let pid = fields["PID"].flatMap({ Int32($0) }), pid > 0,
            let vhid = fields["VHID"].flatMap({ UInt8($0) }),
            let interface = fields["INTERFACE"], !interface.isEmpty,
            let state = fields["STATE"].flatMap({ ReportedState(rawValue: $0) }),
            let since = fields["SINCE"].flatMap({ Int64($0) })
        else { return nil }
        var causes: [DemotionCause] = []
        for word in (fields["DEMOTION"] ?? "").split(separator: " ") {
            guard let cause = DemotionCause(rawValue: String(word)) else { return nil }
            causes.append(cause)
        }
        self.init(
            pid: pid, vhid: vhid, interface: interface,
            addresses: (fields["ADDRESSES"] ?? "").split(separator: " ").map(String.init), state: state,
            since: since, reason: fields["REASON"] ?? "", group: fields["GROUP"], causes: causes,
            counter: fields["COUNTER"].flatMap { UInt32($0) } ?? 0, peer: fields["PEER"],
            etcdKey: fields["ETCD_KEY"])
    }

    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static func unescape(_ value: Substring) -> String {
        var result = ""
        var escaping = false
        for character in value {
            if escaping {
                result.append(character == "n" ? "\n" : character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}
