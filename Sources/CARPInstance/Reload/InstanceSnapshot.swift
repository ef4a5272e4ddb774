import CARPCore
import EtcdGuard

/// What a process hands its successor when it re-executes itself (`ucarp --reload`), as an
/// explicit, versioned text encoding: one `key=value` a line after a `swiftcarp-state VERSION`
/// line. Instants are `CLOCK_MONOTONIC` nanoseconds, the same clock after `execve`.
///
/// A successor that does not know the version refuses the snapshot with a message naming
/// both versions (and the daemon falls back to the old binary). Keys added within a version
/// are optional, their absence meaning what a predecessor without them did (`auth`, `strict-peers`,
/// `strict-peer-N`, `demotion`, `last-peer`, `last-reason`, `last-transition-time`,
/// `host-record`, `sentinel`, `sentinel-pid`, `sentinels-retired`, `replay-own`, `replay-sources`, `replay-source-N`, `dropped`): a
/// package upgrade from that predecessor still reloads.
package struct InstanceSnapshot: Equatable, TextSnapshot {
    /// The version this build writes and reads.
    package static let version = 1
    package static let header = "swiftcarp-state"
    package static let subject = "the state handed over"

    package var machine: CARPStateMachine.Snapshot
    /// Whether the process had detached (`--daemonize`): the successor must not fork again.
    package var daemonized: Bool
    /// `--etcd`: the guard, and the lease of a granted master term.
    package var etcd: Etcd?
    /// A foreground instance's pipe to its sentinel (``SentinelStateMachine``), a descriptor
    /// that survives `execve`: the sentinel carries on watching the same pid.
    package var sentinel: Int32?
    /// That sentinel's pid, a child of ours: the successor retires it for a fresh one told its
    /// own settings, and reaps it.
    package var sentinelPID: Int32?
    /// Sentinels retired (or killed) and not yet reaped: the successor reaps them.
    package var retiredSentinels: [Int32] = []
    /// The scripts' queue: the one running (a child that survives `execve`, with its pid) and
    /// those queued, the children's numbering, a gratuitous ARP held for the up script.
    var scripts = Scripts()

    struct Scripts: Equatable {
        var lastChild: UInt64 = 0
        var running: ScriptQueue.Running?
        var runningPID: Int32?
        var queued: [ScriptQueue.Script] = []
        var announcementHeld = false
    }

    /// `--check`: the monitor's verdict and streak, the check running with its pid, the next start.
    var health: Health?

    /// The statistics' drop counts by reason, carried on (``Statistics``).
    var dropped: [DropReason: UInt64] = [:]

    /// What `--status` shows of the instance (``HostRecord``), carried on instead of "startup".
    package var host = Host()

    package struct Host: Equatable {
        /// The source of the last advertisement heard from another host.
        var lastPeer: IPAddress?
        /// Why the state last changed.
        var lastReason: ScriptReason?
        /// When it changed, by the wall clock (seconds since the epoch), for the metrics.
        var lastTransitionTime: Double?
        /// The predecessor's record in `--host-state` (the shell fills it): the successor removes
        /// it when its own is elsewhere (a reload that changed `--host-state`).
        package var recordPath: String?
    }

    struct Health: Equatable {
        var healthy: Bool?
        var streak = 0
        var running: HealthSchedule.Running?
        var runningPID: Int32?
        var nextStart: MonotonicInstant?
    }

    /// The running script's and check's children and pids, which the successor adopts.
    package var runningChildren: [(id: Child.ID, pid: Int32)] {
        var children: [(id: Child.ID, pid: Int32)] = []
        if let running = scripts.running, let pid = scripts.runningPID { children.append((running.id, pid)) }
        if let running = health?.running, let pid = health?.runningPID { children.append((running.id, pid)) }
        return children
    }

    package struct Etcd: Equatable {
        package var guardState: EtcdLeaseGuard.Snapshot
        package var grantedLease: Int64?

        package init(guardState: EtcdLeaseGuard.Snapshot, grantedLease: Int64?) {
            self.guardState = guardState
            self.grantedLease = grantedLease
        }
    }

    package init(machine: CARPStateMachine.Snapshot, daemonized: Bool = false, etcd: Etcd? = nil) {
        self.machine = machine
        self.daemonized = daemonized
        self.etcd = etcd
    }

    /// Why a snapshot cannot be read.
    package typealias DecodingError = SnapshotDecodingError<InstanceSnapshot>

    // MARK: Encoding

    package var encoded: String {
        var lines = ["\(Self.header) \(Self.version)"]
        switch machine.role {
        case .master(let advertiseAt, let announcements):
            lines += ["role=master", "advertise-at=\(advertiseAt.nanoseconds)"]
            switch announcements {
            case .none: break
            case .withAdvertisement(let countdown, let more):
                lines.append("announce-with-advert=\(countdown),\(more)")
            case .at(let deadline, let more):
                lines.append("announce-at=\(deadline.nanoseconds),\(more)")
            }
        case .backup(let timer, let holdUntil):
            lines.append("role=backup")
            switch timer {
            case .masterDown(let deadline): lines.append("master-down-at=\(deadline.nanoseconds)")
            case .masterLeft(let deadline): lines.append("master-left-at=\(deadline.nanoseconds)")
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
        if let authentication = machine.authentication { lines.append("auth=\(authentication.rawValue)") }
        if let peers = machine.strictPeers {
            lines.append("strict-peers=\(peers.count)")
            for (index, peer) in peers.enumerated() {
                lines.append("strict-peer-\(index)=\(peer.source) \(peer.counter)")
            }
        }
        lines.append("demotion=\(machine.demotion)")
        lines += replayLines + dropLines
        lines += host.lines
        lines.append("daemonized=\(daemonized)")
        if let sentinel { lines.append("sentinel=\(sentinel)") }
        if let sentinelPID { lines.append("sentinel-pid=\(sentinelPID)") }
        if !retiredSentinels.isEmpty {
            lines.append("sentinels-retired=\(retiredSentinels.map(String.init).joined(separator: " "))")
        }
        lines += scripts.lines
        if let health { lines += health.lines }
        if let etcd {
            let state = etcd.guardState
            if let lease = state.lease {
                lines += [
                    "etcd-lease=\(lease.id)", "etcd-lease-ttl=\(lease.ttl.nanoseconds)",
                    "etcd-confirmed-send=\(lease.confirmedSend.nanoseconds)",
                    "etcd-next-renewal=\(lease.nextRenewal.nanoseconds)",
                ]
            }
            lines += [
                "etcd-holds-key=\(state.holdsKey)", "etcd-master=\(state.isMaster)", "etcd-wanting=\(state.wanting)",
            ]
            if let granted = etcd.grantedLease { lines.append("etcd-granted-lease=\(granted)") }
        }
        return lines.map { $0 + "\n" }.joined()
    }

    package init(decoding text: String) throws(DecodingError) {
        let values = try Self.values(decoding: text)
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
            role = .master(advertiseAt: advertiseAt, announcements: try Self.announcements(values))
        case "backup":
            let timer: CARPStateMachine.Backup.Timer
            if let deadline = try instant("master-down-at") {
                timer = .masterDown(deadline)
            } else if let deadline = try instant("master-left-at") {
                timer = .masterLeft(deadline)
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
            role: role, counter: counter, healthy: try flag("healthy"), preemptsFrom: try instant("preempts-from"),
            authentication: try Self.authentication(values), strictPeers: try Self.strictPeers(values),
            demotion: try Self.demotion(values), replay: try Self.replay(values))
        dropped = try Self.dropped(values)
        host = try Host(values)
        daemonized = try flag("daemonized") ?? false
        if let value = values["sentinel"] {
            guard let descriptor = Int32(value), descriptor > 2 else { throw .badValue(key: "sentinel", value: value) }
            sentinel = descriptor
        }
        if let value = values["sentinel-pid"] {
            guard let pid = Int32(value), pid > 0 else { throw .badValue(key: "sentinel-pid", value: value) }
            sentinelPID = pid
        }
        if let value = values["sentinels-retired"] {
            let pids = value.split(separator: " ").map { Int32($0) }
            guard pids.allSatisfy({ ($0 ?? 0) > 0 }) else { throw .badValue(key: "sentinels-retired", value: value) }
            retiredSentinels = pids.compactMap { $0 }
        }
        etcd = try Self.etcd(values, instant: instant, flag: flag)
        scripts = try Scripts(values)
        health = try Health(values)
    }

    /// `auth=ucarp|strict`; nil without.
    private static func authentication(_ values: [String: String]) throws(DecodingError) -> AuthenticationMode? {
        guard let value = values["auth"] else { return nil }
        guard let mode = AuthenticationMode(rawValue: value) else { throw .badValue(key: "auth", value: value) }
        return mode
    }

    /// `strict-peers=N` then `strict-peer-I=SOURCE COUNTER` for each; nil without.
    private static func strictPeers(_ values: [String: String]) throws(DecodingError) -> [StrictState.Peer]? {
        guard let countText = values["strict-peers"] else { return nil }
        guard let count = Int(countText), (0...StrictReplayWindow.sourceMemory).contains(count) else {
            throw .badValue(key: "strict-peers", value: countText)
        }
        var peers: [StrictState.Peer] = []
        for index in 0..<count {
            let key = "strict-peer-\(index)"
            guard let value = values[key] else { throw .missing(key) }
            let fields = value.split(separator: " ")
            guard fields.count == 2, let source = try? IPAddress(parsing: fields[0]), let counter = UInt64(fields[1])
            else { throw .badValue(key: key, value: value) }
            peers.append(StrictState.Peer(source: source, counter: counter))
        }
        return peers
    }

    /// `demotion=N`; 0 without.
    private static func demotion(_ values: [String: String]) throws(DecodingError) -> UInt32 {
        guard let value = values["demotion"] else { return 0 }
        guard let demotion = UInt32(value) else { throw .badValue(key: "demotion", value: value) }
        return demotion
    }

    /// What a master's series of announcements still owes: `announce-with-advert=COUNTDOWN,MORE`
    /// or `announce-at=INSTANT,MORE`; none without either.
    private static func announcements(
        _ values: [String: String]
    ) throws(DecodingError) -> CARPStateMachine.PendingAnnouncements {
        for key in ["announce-with-advert", "announce-at"] {
            guard let value = values[key] else { continue }
            let parts = value.split(separator: ",")
            guard parts.count == 2, let first = UInt64(parts[0]), let more = Int(parts[1]), more >= 0,
                key == "announce-at" || first <= UInt64(Int.max)
            else { throw .badValue(key: key, value: value) }
            return key == "announce-at"
                ? .at(MonotonicInstant(nanoseconds: first), thenMore: more)
                : .withAdvertisement(countdown: Int(first), thenMore: more)
        }
        return .none
    }

    /// The `etcd-` lines, nil without them (an instance without `--etcd`).
    private static func etcd(
        _ values: [String: String], instant: (String) throws(DecodingError) -> MonotonicInstant?,
        flag: (String) throws(DecodingError) -> Bool?
    ) throws(DecodingError) -> Etcd? {
        guard let wanting = try flag("etcd-wanting") else { return nil }
        func number(_ key: String) throws(DecodingError) -> Int64? {
            guard let value = values[key] else { return nil }
            guard let parsed = Int64(value) else { throw .badValue(key: key, value: value) }
            return parsed
        }
        var lease: EtcdLeaseGuard.Snapshot.HeldLease?
        if let id = try number("etcd-lease") {
            guard let ttl = try number("etcd-lease-ttl"), ttl >= 0 else { throw .missing("etcd-lease-ttl") }
            guard let confirmed = try instant("etcd-confirmed-send") else { throw .missing("etcd-confirmed-send") }
            guard let renewal = try instant("etcd-next-renewal") else { throw .missing("etcd-next-renewal") }
            lease = .init(id: id, ttl: .nanoseconds(UInt64(ttl)), confirmedSend: confirmed, nextRenewal: renewal)
        }
        return Etcd(
            guardState: .init(
                lease: lease, holdsKey: try flag("etcd-holds-key") ?? false, isMaster: try flag("etcd-master") ?? false,
                wanting: wanting),
            grantedLease: try number("etcd-granted-lease"))
    }
}

extension InstanceSnapshot.Scripts {
    var lines: [String] {
        var lines = ["children-last=\(lastChild)", "announcement-held=\(announcementHeld)"]
        if let running, let runningPID {
            let deadline = running.deadline.map { "\($0.nanoseconds)" } ?? "-"
            let grace = running.graceDeadline.map { "\($0.nanoseconds)" } ?? "-"
            lines.append("script-running=\(running.id.value),\(runningPID),\(deadline),\(running.killed),\(grace)")
            lines.append("script-running-script=\(Self.encode(running.script))")
        }
        for (index, script) in queued.enumerated() { lines.append("script-queued-\(index)=\(Self.encode(script))") }
        return lines
    }

    init(_ values: [String: String]) throws(InstanceSnapshot.DecodingError) {
        if let value = values["children-last"] {
            guard let last = UInt64(value) else { throw .badValue(key: "children-last", value: value) }
            lastChild = last
        }
        switch values["announcement-held"] {
        case nil, "false": announcementHeld = false
        case "true": announcementHeld = true
        case let value?: throw .badValue(key: "announcement-held", value: value)
        }
        if let value = values["script-running"] {
            let fields = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            func instant(_ text: String) -> MonotonicInstant?? {
                text == "-" ? .some(nil) : UInt64(text).map { .some(MonotonicInstant(nanoseconds: $0)) }
            }
            guard fields.count == 5, let id = UInt64(fields[0]), let pid = Int32(fields[1]), pid > 0,
                let deadline = instant(fields[2]), let grace = instant(fields[4]),
                fields[3] == "true" || fields[3] == "false"
            else { throw .badValue(key: "script-running", value: value) }
            guard let text = values["script-running-script"] else { throw .missing("script-running-script") }
            running = ScriptQueue.Running(
                id: Child.ID(value: id), script: try Self.decode(text, key: "script-running-script"),
                deadline: deadline, killed: fields[3] == "true", graceDeadline: grace)
            runningPID = pid
        }
        var index = 0
        while let text = values["script-queued-\(index)"] {
            queued.append(try Self.decode(text, key: "script-queued-\(index)"))
            index += 1
        }
    }

    /// One script as one line: its flags (`a` adds the address, `r` releases the lease, `d`
    /// removes the address, `-` none), path, argument count, arguments, then the environment's
    /// names and values, each percent-encoded, separated by spaces.
    static func encode(_ script: ScriptQueue.Script) -> String {
        let flags = [(script.addsAddress, "a"), (script.releasesLease, "r"), (script.removesAddress, "d")]
            .filter(\.0).map(\.1).joined()
        let words =
            [flags.isEmpty ? "-" : flags, script.path, "\(script.arguments.count)"] + script.arguments
            + script.environment.flatMap { [$0.name, $0.value] }
        return words.map(percentEncoded).joined(separator: " ")
    }

    static func decode(_ text: String, key: String) throws(InstanceSnapshot.DecodingError) -> ScriptQueue.Script {
        var words: [String] = []
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            guard let decoded = percentDecoded(word) else { throw .badValue(key: key, value: text) }
            words.append(decoded)
        }
        guard words.count >= 3, let count = Int(words[2]), count >= 0, words.count >= 3 + count,
            (words.count - 3 - count) % 2 == 0
        else { throw .badValue(key: key, value: text) }
        let flags = words[0]
        let rest = words[(3 + count)...]
        let environment = stride(from: rest.startIndex, to: rest.endIndex, by: 2).map {
            Child.Variable(rest[$0], rest[$0 + 1])
        }
        return ScriptQueue.Script(
            path: words[1], arguments: Array(words[3..<(3 + count)]), environment: environment,
            addsAddress: flags.contains("a"), releasesLease: flags.contains("r"), removesAddress: flags.contains("d"))
    }

    /// Bytes other than letters, digits and `-._/:+@,` as `%XX` (so no space, newline or `=`).
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if byte < 0x80, character.isLetter || character.isNumber || "-._/:+@,".contains(character) {
                out.append(character)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var rest = text.utf8[...]
        while let byte = rest.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard rest.count >= 2, let value = UInt8(String(decoding: rest.prefix(2), as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(value)
            rest = rest.dropFirst(2)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension InstanceSnapshot.Host {
    var lines: [String] {
        var lines: [String] = []
        if let lastPeer { lines.append("last-peer=\(lastPeer)") }
        if let lastReason { lines.append("last-reason=\(lastReason)") }
        if let lastTransitionTime { lines.append("last-transition-time=\(lastTransitionTime)") }
        if let recordPath { lines.append("host-record=\(InstanceSnapshot.Scripts.percentEncoded(recordPath))") }
        return lines
    }

    init(_ values: [String: String]) throws(InstanceSnapshot.DecodingError) {
        if let value = values["last-peer"] {
            guard let peer = try? IPAddress(parsing: Substring(value)) else {
                throw .badValue(key: "last-peer", value: value)
            }
            lastPeer = peer
        }
        if let value = values["last-reason"] {
            guard let reason = ScriptReason(spelling: value) else { throw .badValue(key: "last-reason", value: value) }
            lastReason = reason
        }
        if let value = values["last-transition-time"] {
            guard let time = Double(value), time.isFinite else {
                throw .badValue(key: "last-transition-time", value: value)
            }
            lastTransitionTime = time
        }
        if let value = values["host-record"] {
            guard let path = InstanceSnapshot.Scripts.percentDecoded(Substring(value)), path.hasPrefix("/") else {
                throw .badValue(key: "host-record", value: value)
            }
            recordPath = path
        }
    }
}

extension ScriptReason {
    /// The reason `description` spells; nil for another word.
    init?(spelling: String) {
        if let reason = CARPStateMachine.TransitionReason(rawValue: spelling) {
            self = .transition(reason)
            return
        }
        let others: [ScriptReason] = [.addressLost, .supervisorLost, .error, .exit, .daemonDied]
        guard let reason = others.first(where: { $0.description == spelling }) else { return nil }
        self = reason
    }
}

extension InstanceSnapshot.Health {
    var lines: [String] {
        var lines = ["check-streak=\(streak)"]
        if let healthy { lines.append("check-healthy=\(healthy)") }
        if let nextStart { lines.append("check-next-start=\(nextStart.nanoseconds)") }
        if let running, let runningPID {
            lines.append(
                "check-running=\(running.id.value),\(runningPID),\(running.deadline.nanoseconds),\(running.timedOut)")
        }
        return lines
    }

    /// nil without a `check-streak` line (an instance without `--check`).
    init?(_ values: [String: String]) throws(InstanceSnapshot.DecodingError) {
        guard let streakText = values["check-streak"] else { return nil }
        guard let streak = Int(streakText), streak >= 0 else { throw .badValue(key: "check-streak", value: streakText) }
        self.streak = streak
        switch values["check-healthy"] {
        case nil: healthy = nil
        case "true": healthy = true
        case "false": healthy = false
        case let value?: throw .badValue(key: "check-healthy", value: value)
        }
        if let value = values["check-next-start"] {
            guard let nanoseconds = UInt64(value) else { throw .badValue(key: "check-next-start", value: value) }
            nextStart = MonotonicInstant(nanoseconds: nanoseconds)
        }
        if let value = values["check-running"] {
            let fields = value.split(separator: ",").map(String.init)
            guard fields.count == 4, let id = UInt64(fields[0]), let pid = Int32(fields[1]), pid > 0,
                let deadline = UInt64(fields[2]), fields[3] == "true" || fields[3] == "false"
            else { throw .badValue(key: "check-running", value: value) }
            running = HealthSchedule.Running(
                id: Child.ID(value: id), deadline: MonotonicInstant(nanoseconds: deadline),
                timedOut: fields[3] == "true")
            runningPID = pid
        }
    }
}
