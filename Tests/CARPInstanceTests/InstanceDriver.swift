import CARPCore
import Logging
import SystemPackage
import UCarpConfiguration

@testable import CARPInstance

typealias Action = Instance.Action

let us = IPv4Address(192, 0, 2, 11)
let peer = IPv4Address(192, 0, 2, 12)

/// Settings of a test instance on eth0: up and down scripts, a state file, `--debug`, and the
/// address released at once on leaving (`--handover-wait=0`, ucarp's order; the hand-over's
/// own tests turn it on).
func testSettings(_ adjust: (inout Settings) -> Void = { _ in }) -> Settings {
    var settings = Settings(
        interface: "eth0", sourceAddress: us, vhid: 1, password: Array("love".utf8),
        virtualAddress: IPv4Address(192, 0, 2, 100))
    settings.upscript = "/etc/up"
    settings.downscript = "/etc/down"
    settings.stateFile = "/run/state"
    settings.debug = true
    settings.handOverWait = .nanoseconds(0)
    adjust(&settings)
    return settings
}

/// Drives an ``Instance`` as the shell does, on virtual time: every advertisement goes out
/// unless `sendFailure` says otherwise, spawns succeed unless their path is in
/// `failingSpawns`, metrics files are written unless `metricsFailure` says otherwise. The
/// addresses of interface 2 are watched. Each event returns every action carried out,
/// outcomes included, in order.
struct InstanceDriver {
    static let interfaceIndex: UInt32 = 2
    var instance: Instance
    var sendFailure: DaemonError?
    var failingSpawns: [String: Errno] = [:]
    var metricsFailure: DaemonError?
    /// The last counter of ``peerCounter()``.
    var peerCounters: UInt64 = 0
    /// What asking to reopen the vanished interface gives.
    var reopening = Instance.InterfaceReopening.absent
    /// How many times the instance asked to reopen the interface.
    var reopenings = 0
    /// The snapshots of the metrics files written since the last ``takeWritten()``.
    var written: [MetricsSnapshot] = []

    init(_ settings: Settings = testSettings()) {
        instance = Instance(settings: settings, interfaceName: "eth0", initialCounter: 1000, version: "9.9.9")
        instance.addressWatchStarted(interfaceIndex: Self.interfaceIndex)
    }

    mutating func carryOut(_ actions: [Action], at now: MonotonicInstant) -> [Action] {
        var done: [Action] = []
        for action in actions {
            done.append(action)
            switch action {
            case .sendAdvertisement:
                done += carryOut(instance.advertisementSent(failure: sendFailure, at: now), at: now)
            case .spawn(let id, let command):
                if let reason = failingSpawns[command.path] {
                    done += carryOut(instance.spawnFailed(id, reason: reason, at: now), at: now)
                }
            case .reopenInterface:
                reopenings += 1
                done += carryOut(instance.interfaceReopened(reopening, at: now), at: now)
            case .writeMetrics:
                written.append(instance.metricsSnapshot)
                done += carryOut(instance.metricsWritten(failure: metricsFailure, at: now), at: now)
            default:
                break
            }
        }
        return done
    }

    mutating func start(at now: MonotonicInstant = t0) -> [Action] {
        carryOut(instance.linkRead(.running, at: now) + instance.started(at: now), at: now)
    }

    mutating func signal(_ signal: Instance.Signal, at now: MonotonicInstant) -> [Action] {
        carryOut(instance.received(signal: signal, at: now), at: now)
    }

    mutating func link(_ state: LinkState, at now: MonotonicInstant) -> [Action] {
        carryOut(instance.linkRead(state, at: now), at: now)
    }

    mutating func frame(_ outcome: IPv4AdvertisementCodec.Outcome, at now: MonotonicInstant) -> [Action] {
        carryOut(instance.received(outcome, at: now), at: now)
    }

    mutating func advert(from source: IPv4Address = peer, advskew: UInt8 = 0, at now: MonotonicInstant) -> [Action] {
        frame(.accepted(.init(source: source, advbase: 1, advskew: advskew, counter: peerCounter())), at: now)
    }

    /// A peer's next counter: each advert a new one, as a peer sends them (an exact repeat is
    /// dropped as replayed).
    mutating func peerCounter() -> UInt64 {
        peerCounters += 1
        return peerCounters
    }

    mutating func exited(_ id: Child.ID, _ status: Child.Status, at now: MonotonicInstant)
        -> [Action]
    {
        carryOut(instance.childExited(id, status: status, at: now), at: now)
    }

    /// The running script and every one queued behind it end with status 0 at `now`.
    mutating func finishScripts(at now: MonotonicInstant) {
        while let running = instance.scripts.running {
            _ = exited(running.id, .exited(0), at: now)
        }
    }

    /// The metrics files written since the last call.
    mutating func takeWritten() -> [MetricsSnapshot] {
        defer { written = [] }
        return written
    }

    mutating func routes(_ messages: [RouteNetlink.Message], at now: MonotonicInstant) -> [Action] {
        carryOut(instance.routeChanged(messages, at: now), at: now)
    }

    mutating func time(_ now: MonotonicInstant) -> [Action] {
        carryOut(instance.timePassed(at: now), at: now)
    }

    /// Lets time run to each deadline up to `end`, reading `link` at each wake-up, as the
    /// poll loop does.
    mutating func run(until end: MonotonicInstant, link state: LinkState = .running) -> [Action] {
        var done: [Action] = []
        while let deadline = instance.nextDeadline, deadline <= end {
            done += link(state, at: deadline) + time(deadline)
        }
        return done
    }

    /// Started at `t0` (the down script reported finished at once), then run until the
    /// master-down timer made it master; returns when. The up script is reported finished
    /// unless `keepScriptRunning`.
    mutating func becomeMaster(keepScriptRunning: Bool = false) -> MonotonicInstant {
        for (id, _) in start().spawned {
            _ = exited(id, .exited(0), at: t0)
        }
        while let deadline = instance.nextDeadline, deadline < t0 + .seconds(60) {
            let actions = link(.running, at: deadline) + time(deadline)
            guard instance.machine.role == .master else { continue }
            if !keepScriptRunning, let id = actions.spawned.first?.0 {
                _ = exited(id, .exited(0), at: deadline)
            }
            return deadline
        }
        preconditionFailure("never became master")
    }
}

extension [Action] {
    var messages: [String] {
        compactMap {
            guard case .log(_, let message) = $0 else { return nil }
            return message
        }
    }

    func messages(at level: Logger.Level) -> [String] {
        compactMap {
            guard case .log(level, let message) = $0 else { return nil }
            return message
        }
    }

    var spawned: [(Child.ID, Child.Command)] {
        compactMap {
            guard case .spawn(let id, let command) = $0 else { return nil }
            return (id, command)
        }
    }

    var spawnedPaths: [String] { spawned.map(\.1.path) }

    var killed: [Child.ID] {
        compactMap {
            guard case .kill(let id) = $0 else { return nil }
            return id
        }
    }

    var terminated: [Child.ID] {
        compactMap {
            guard case .terminate(let id) = $0 else { return nil }
            return id
        }
    }

    var states: [String] {
        compactMap {
            guard case .recordState(let state, _, _) = $0 else { return nil }
            return state.rawValue
        }
    }

    var exits: [Action] {
        filter {
            switch $0 {
            case .exit, .dieOf: true
            default: false
            }
        }
    }

    var adverts: [Action] {
        filter {
            guard case .sendAdvertisement = $0 else { return false }
            return true
        }
    }
}
