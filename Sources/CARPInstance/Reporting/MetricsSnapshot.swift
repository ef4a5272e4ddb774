import CARPCore

/// What `--metrics-file` shows of one instance at one moment, and its metric families.
///
/// The names follow Prometheus' rules (`ucarp_` prefix, base units, `_total` for counters);
/// where the meaning is the same they follow keepalived-exporter's structure, which many
/// alerts are written against: the labels `iname` (instance name), `intf` (interface) and
/// `vrid` (here the vhid), `ip_address` on the state gauge, and its state numbers (0 INIT,
/// 1 BACKUP, 2 MASTER, 3 FAULT, keepalived's own). README's "Metrics" section has the table.
///
/// The etcd lease guard of a later issue adds its part here (an optional field) and its
/// families to ``families``: the instance, the schedule and the file stay as they are.
package struct MetricsSnapshot: Equatable, Sendable {
    struct HealthCheck: Equatable, Sendable {
        /// The last verdict; nil before the first.
        var healthy: Bool?
        var passed: UInt64
        var failed: UInt64
    }

    var version: String
    /// The `iname` label.
    var instanceName: String
    var interface: String
    var vhid: UInt8
    /// The virtual address as given (`ip_address`); several are space-separated, in order.
    var virtualAddress: String
    /// False in the file's last version, written at exit.
    var running: Bool
    var role: CARPStateMachine.Role
    var statistics: Statistics
    /// The wall-clock time of the last change of state, in seconds since the epoch.
    var lastTransition: Double?
    var advbase: UInt8
    /// The skew advertised: `--advskew`, or 240 while demoted after send errors.
    var advskew: UInt8
    /// nil without `--check`.
    var healthCheck: HealthCheck?
    /// The etcd guard's part; nil without `--etcd`.
    var etcd: Etcd?
    /// The demotion counter advertised with (maintenance, the group) and our own causes.
    var demotion: UInt32 = 0
    var demotionCauses: [DemotionCause] = []

    struct Etcd: Equatable, Sendable {
        /// The key is ours (mastership granted).
        var holdsKey: Bool
        /// Masterships the guard took back (lease lost, expired, key taken).
        var leaseLosses: UInt64
    }

    /// keepalived's numbers for its states, which its exporter exports. A stopped instance
    /// takes part in no election: 0, as INIT.
    var stateNumber: Double {
        guard running else { return 0 }
        switch role {
        case .initial: return 0
        case .backup: return 1
        case .master: return 2
        case .fault: return 3
        }
    }

    /// The families, in the order they are written.
    var families: [MetricFamily] {
        let instance: [(name: String, value: String)] = [
            ("iname", instanceName), ("intf", interface), ("vrid", "\(vhid)"),
        ]
        func one(_ value: Double) -> [MetricFamily.Sample] { [.init(instance, value)] }
        func count(_ value: UInt64) -> [MetricFamily.Sample] { one(Double(value)) }

        var families: [MetricFamily] = [
            .init(
                name: "ucarp_build_info", help: "SwiftCARP's version, in the version label; always 1.", kind: .gauge,
                samples: [.init([("version", version)], 1)]),
            .init(
                name: "ucarp_up", help: "1 while the instance runs, 0 once it has stopped.", kind: .gauge,
                samples: one(running ? 1 : 0)),
            .init(
                name: "ucarp_state",
                help:
                    "The instance's state: 0 INIT (or stopped), 1 BACKUP, 2 MASTER, 3 FAULT (as keepalived_vrrp_state).",
                kind: .gauge, samples: [.init(instance + [("ip_address", virtualAddress)], stateNumber)]),
            .init(
                name: "ucarp_advertisements_sent_total", help: "Advertisements sent.", kind: .counter,
                samples: count(statistics.advertisementsSent)),
            .init(
                name: "ucarp_advertisements_received_total",
                help: "Advertisements of this vhid received from other hosts and accepted.", kind: .counter,
                samples: count(statistics.advertisementsReceived)),
            .init(
                name: "ucarp_advertisement_send_errors_total", help: "Advertisements the system refused to send.",
                kind: .counter, samples: count(statistics.sendErrors)),
            .init(
                name: "ucarp_dropped_packets_total", help: "CARP packets dropped, by reason.", kind: .counter,
                samples: DropReason.allCases.map {
                    .init(instance + [("reason", $0.rawValue)], Double(statistics.dropped[$0] ?? 0))
                }),
            .init(
                name: "ucarp_transitions_total", help: "Changes of state, by the state changed to.", kind: .counter,
                samples: [CARPStateMachine.Role.backup, .master, .fault].map {
                    .init(instance + [("to", $0.rawValue)], Double(statistics.transitionsTo[$0] ?? 0))
                }),
        ]
        if let lastTransition {
            families.append(
                .init(
                    name: "ucarp_last_transition_timestamp_seconds",
                    help: "When the state last changed, in seconds since the epoch.", kind: .gauge,
                    samples: one(lastTransition)))
        }
        families += [
            .init(
                name: "ucarp_advbase_seconds", help: "The advertisement base interval (--advbase).", kind: .gauge,
                samples: one(Double(advbase))),
            .init(
                name: "ucarp_advskew",
                help: "The skew advertised, in 1/256 s (--advskew, or 240 while demoted after send errors).",
                kind: .gauge, samples: one(Double(advskew))),
            .init(
                name: "ucarp_advertisement_interval_seconds",
                help: "The interval advertised: advbase plus advskew/256 seconds.", kind: .gauge,
                samples: one(Double(advbase) + Double(advskew) / 256)),
            .init(
                name: "ucarp_address_restores_total",
                help: "Times the up script ran again and the address was announced while master (address-lost).",
                kind: .counter, samples: count(statistics.addressRestores)),
        ]
        families += [
            .init(
                name: "ucarp_demotion",
                help: "The demotion counter added to --advskew (maintenance, --group): 240 per cause, 0 when none.",
                kind: .gauge, samples: one(Double(demotion))),
            .init(
                name: "ucarp_demoted",
                help: "1 for each cause that demotes this instance itself (maintenance, carrier-lost, ...), 0 not.",
                kind: .gauge,
                samples: DemotionCause.allCases.map {
                    .init(instance + [("cause", $0.rawValue)], demotionCauses.contains($0) ? 1 : 0)
                }),
        ]
        if let healthCheck {
            if let healthy = healthCheck.healthy {
                families.append(
                    .init(
                        name: "ucarp_health_check_healthy",
                        help: "The health check's verdict (--check-fall/--check-rise applied): 1 healthy, 0 not.",
                        kind: .gauge, samples: one(healthy ? 1 : 0)))
            }
            families.append(
                .init(
                    name: "ucarp_health_checks_total", help: "Health check results, by result.", kind: .counter,
                    samples: [
                        .init(instance + [("result", "passed")], Double(healthCheck.passed)),
                        .init(instance + [("result", "failed")], Double(healthCheck.failed)),
                    ]))
        }
        if let etcd {
            families += [
                .init(
                    name: "ucarp_etcd_key_held", help: "1 while this instance holds the etcd key (--etcd), 0 not.",
                    kind: .gauge, samples: one(etcd.holdsKey ? 1 : 0)),
                .init(
                    name: "ucarp_etcd_lease_losses_total",
                    help: "Times the etcd guard took mastership back (lease lost or expired, key taken).",
                    kind: .counter, samples: count(etcd.leaseLosses)),
            ]
        }
        return families
    }

    /// The file's text.
    package var text: String { MetricFamily.text(of: families) }
}
