import CARPCore

/// The `replay-` and `dropped` lines: `--auth=ucarp`'s memory of recent adverts (so that a
/// replay captured before the reload is still dropped after it) and the drop counts, which
/// carry on rather than start afresh. Optional within version 1: a predecessor without them
/// hands over an empty memory and no drops, as before.
extension InstanceSnapshot {
    /// `replay-own=C,C,...` (oldest first), `replay-sources=N`, then for each
    /// `replay-source-I=SOURCE LAST-ACCEPTED COUNTER:ADVBASE:ADVSKEW,...`.
    var replayLines: [String] {
        guard let memory = machine.replay else { return [] }
        var lines = [
            "replay-own=\(memory.own.map(String.init).joined(separator: ","))",
            "replay-sources=\(memory.sources.count)",
        ]
        for (index, source) in memory.sources.enumerated() {
            let fingerprints = source.fingerprints.map { "\($0.counter):\($0.advbase):\($0.advskew)" }
            lines.append(
                "replay-source-\(index)=\(source.source) \(source.lastAccepted.nanoseconds) "
                    + fingerprints.joined(separator: ","))
        }
        return lines
    }

    /// `dropped=REASON COUNT,...`, only the reasons counted.
    var dropLines: [String] {
        let counts = DropReason.allCases.compactMap { reason in dropped[reason].map { "\(reason.rawValue) \($0)" } }
        return counts.isEmpty ? [] : ["dropped=\(counts.joined(separator: ","))"]
    }

    static func replay(_ values: [String: String]) throws(DecodingError) -> ReplayFilter.Memory? {
        guard let ownText = values["replay-own"] else { return nil }
        var own: [UInt64] = []
        for field in ownText.split(separator: ",") {
            guard let counter = UInt64(field) else { throw .badValue(key: "replay-own", value: ownText) }
            own.append(counter)
        }
        let countText = values["replay-sources"] ?? "0"
        guard let count = Int(countText), (0...ReplayFilter.sourceMemory).contains(count) else {
            throw .badValue(key: "replay-sources", value: countText)
        }
        var sources: [ReplayFilter.Memory.Source] = []
        for index in 0..<count {
            let key = "replay-source-\(index)"
            guard let value = values[key] else { throw .missing(key) }
            let fields = value.split(separator: " ")
            guard fields.count == 3, let source = try? IPAddress(parsing: fields[0]),
                let last = UInt64(fields[1])
            else { throw .badValue(key: key, value: value) }
            var fingerprints: [ReplayFilter.Memory.Fingerprint] = []
            for item in fields[2].split(separator: ",") {
                let parts = item.split(separator: ":")
                guard parts.count == 3, let counter = UInt64(parts[0]), let advbase = UInt8(parts[1]),
                    let advskew = UInt8(parts[2])
                else { throw .badValue(key: key, value: value) }
                fingerprints.append(.init(counter: counter, advbase: advbase, advskew: advskew))
            }
            sources.append(
                .init(source: source, fingerprints: fingerprints, lastAccepted: MonotonicInstant(nanoseconds: last)))
        }
        return ReplayFilter.Memory(own: own, sources: sources)
    }

    static func dropped(_ values: [String: String]) throws(DecodingError) -> [DropReason: UInt64] {
        guard let text = values["dropped"] else { return [:] }
        var dropped: [DropReason: UInt64] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: " ")
            guard parts.count == 2, let reason = DropReason(rawValue: String(parts[0])), let count = UInt64(parts[1])
            else { throw .badValue(key: "dropped", value: text) }
            dropped[reason] = count
        }
        return dropped
    }
}
