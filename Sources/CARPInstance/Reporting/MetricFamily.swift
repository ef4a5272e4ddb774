/// One metric of the Prometheus text exposition format: its name, help, type and samples.
///
/// ``text(of:)`` renders families as node_exporter's textfile collector reads them (format
/// 0.0.4): `# HELP` and `# TYPE` lines, then one line per sample, no timestamps.
struct MetricFamily: Equatable, Sendable {
    enum Kind: String, Sendable {
        case counter
        case gauge
    }

    struct Sample: Equatable, Sendable {
        /// Label names and values, in the order they are written.
        var labels: [(name: String, value: String)]
        var value: Double

        init(_ labels: [(name: String, value: String)], _ value: Double) {
            self.labels = labels
            self.value = value
        }

        static func == (lhs: Sample, rhs: Sample) -> Bool {
            lhs.value == rhs.value && lhs.labels.elementsEqual(rhs.labels) { $0 == $1 }
        }
    }

    /// `ucarp_...`; a counter's name ends in `_total`.
    var name: String
    var help: String
    var kind: Kind
    var samples: [Sample]

    /// The families' text: each family's HELP and TYPE lines, then its samples.
    static func text(of families: [MetricFamily]) -> String {
        var text = ""
        for family in families {
            text += "# HELP \(family.name) \(escapeHelp(family.help))\n"
            text += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            for sample in family.samples {
                text += family.name
                if !sample.labels.isEmpty {
                    text += "{"
                    text += sample.labels.map { "\($0.name)=\"\(escapeLabel($0.value))\"" }.joined(separator: ",")
                    text += "}"
                }
                text += " \(number(sample.value))\n"
            }
        }
        return text
    }

    /// A sample value: whole numbers without a fraction (`12`, not `12.0`), others as Swift
    /// writes them shortest (`1.5`), and Prometheus' spellings of the special values.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// HELP text escapes backslash and newline.
    static func escapeHelp(_ text: String) -> String {
        text.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }

    /// Label values escape backslash, double quote and newline.
    static func escapeLabel(_ text: String) -> String {
        text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }
}
