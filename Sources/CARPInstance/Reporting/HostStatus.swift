/// `ucarp --status`: every record of the host-state directory, as a table for people or as
/// JSON for tools (written by hand: the daemon has no Foundation).
package struct HostStatus: Equatable, Sendable {
    /// A record and whether its process still runs.
    package struct Entry: Equatable, Sendable {
        package var record: HostRecord
        package var alive: Bool

        package init(record: HostRecord, alive: Bool) {
            self.record = record
            self.alive = alive
        }

        /// The state shown: a dead process's record says DEAD, whatever it last wrote (a
        /// clean exit wrote STOPPED).
        package var shownState: String {
            alive || record.state == .stopped ? record.state.rawValue : "DEAD"
        }
    }

    package var entries: [Entry]
    /// Whether maintenance is on for the whole host.
    package var hostMaintenance: Bool
    /// The groups in maintenance.
    package var groupsInMaintenance: [String]

    package init(entries: [Entry], hostMaintenance: Bool, groupsInMaintenance: [String]) {
        self.entries = entries.sorted {
            ($0.record.interface, $0.record.vhid) < ($1.record.interface, $1.record.vhid)
        }
        self.hostMaintenance = hostMaintenance
        self.groupsInMaintenance = groupsInMaintenance.sorted()
    }

    /// Whether maintenance applies to `entry`: the host's, or its group's.
    package func inMaintenance(_ entry: Entry) -> Bool {
        hostMaintenance || entry.record.group.map { groupsInMaintenance.contains($0) } == true
    }

    /// The table: a line for maintenance, then a header and a line per instance.
    package var table: String {
        var text = "maintenance: \(hostMaintenance ? "on" : "off")"
        if !groupsInMaintenance.isEmpty { text += " (groups on: \(groupsInMaintenance.joined(separator: ", ")))" }
        text += "\n"
        let header = [
            "VHID", "INTERFACE", "STATE", "SINCE", "REASON", "GROUP", "DEMOTION", "PEER", "ADDRESSES", "PID", "ETCD",
        ]
        let rows = entries.map { entry -> [String] in
            let record = entry.record
            var demotion = record.causes.map(\.rawValue).joined(separator: ",")
            if demotion.isEmpty { demotion = "-" }
            if record.counter > 0 { demotion += " (\(record.counter))" }
            return [
                "\(record.vhid)", record.interface, entry.shownState, Self.timestamp(record.since), record.reason,
                record.group ?? "-", demotion, record.peer ?? "-", record.addresses.joined(separator: ","),
                "\(record.pid)", record.etcdKey ?? "-",
            ].map(Self.printable)
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        for row in [header] + rows {
            let cells = row.indices.map { column in
                column == row.count - 1
                    ? row[column] : row[column] + String(repeating: " ", count: widths[column] - row[column].count)
            }
            text += cells.joined(separator: "  ") + "\n"
        }
        return text
    }

    /// `value` with its control characters shown as `?`: one line of the table stays one line.
    static func printable(_ value: String) -> String {
        String(
            String.UnicodeScalarView(
                value.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
    }

    /// The JSON document: `{"maintenance": ..., "instances": [...]}`.
    package var json: String {
        let instances = entries.map { entry -> String in
            let record = entry.record
            let fields: [(String, String)] = [
                ("vhid", "\(record.vhid)"), ("interface", Self.quoted(record.interface)),
                ("addresses", "[" + record.addresses.map(Self.quoted).joined(separator: ",") + "]"),
                ("state", Self.quoted(entry.shownState)), ("alive", "\(entry.alive)"), ("pid", "\(record.pid)"),
                ("since", "\(record.since)"), ("since_utc", Self.quoted(Self.timestamp(record.since))),
                ("reason", Self.quoted(record.reason)), ("group", record.group.map(Self.quoted) ?? "null"),
                ("demotion", "[" + record.causes.map { Self.quoted($0.rawValue) }.joined(separator: ",") + "]"),
                ("counter", "\(record.counter)"), ("maintenance", "\(inMaintenance(entry))"),
                ("peer", record.peer.map(Self.quoted) ?? "null"),
                ("etcd_key", record.etcdKey.map(Self.quoted) ?? "null"),
            ]
            return "{" + fields.map { "\(Self.quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}"
        }
        return "{\"maintenance\":{\"host\":\(hostMaintenance),\"groups\":["
            + groupsInMaintenance.map(Self.quoted).joined(separator: ",") + "]},\"instances\":["
            + instances.joined(separator: ",") + "]}\n"
    }

    /// `value` as a JSON string: quotes, backslashes and every control character escaped
    /// (RFC 8259 section 7); anything else, non-ASCII included, as it is.
    package static func quoted(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`, from the proleptic Gregorian
    /// calendar's arithmetic (no C library here).
    package static func timestamp(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Days since 0000-03-01, so that the leap day ends a year of the 400-year era.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60)):"
            + "\(two(secondOfDay % 60))Z"
    }
}
