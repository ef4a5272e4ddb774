import CARPCore
import Testing

@testable import CARPInstance

@Suite struct MetricsSnapshotTests {
    func snapshot(_ adjust: (inout MetricsSnapshot) -> Void = { _ in }) -> MetricsSnapshot {
        var statistics = Statistics()
        statistics.advertisementsSent = 12
        statistics.advertisementsReceived = 30
        statistics.sendErrors = 1
        statistics.transitions = 3
        statistics.transitionsTo = [.backup: 2, .master: 1]
        statistics.countDrop(.badDigest)
        statistics.countDrop(.badDigest)
        statistics.countDrop(.badTTL)
        statistics.addressRestores = 1
        var snapshot = MetricsSnapshot(
            version: "0.1.0", instanceName: "vhid7", interface: "eth0", vhid: 7, virtualAddress: "192.0.2.100",
            running: true, role: .master, statistics: statistics, lastTransition: 1_764_581_234.5, advbase: 1,
            advskew: 64, healthCheck: nil)
        adjust(&snapshot)
        return snapshot
    }

    @Test func aMasterIsRenderedInTheTextFormatWithKeepalivedsLabels() {
        let labels = #"iname="vhid7",intf="eth0",vrid="7""#
        #expect(
            snapshot().text == """
                # HELP ucarp_build_info SwiftCARP's version, in the version label; always 1.
                # TYPE ucarp_build_info gauge
                ucarp_build_info{version="0.1.0"} 1
                # HELP ucarp_up 1 while the instance runs, 0 once it has stopped.
                # TYPE ucarp_up gauge
                ucarp_up{\(labels)} 1
                # HELP ucarp_state The instance's state: 0 INIT (or stopped), 1 BACKUP, 2 MASTER, 3 FAULT (as keepalived_vrrp_state).
                # TYPE ucarp_state gauge
                ucarp_state{\(labels),ip_address="192.0.2.100"} 2
                # HELP ucarp_advertisements_sent_total Advertisements sent.
                # TYPE ucarp_advertisements_sent_total counter
                ucarp_advertisements_sent_total{\(labels)} 12
                # HELP ucarp_advertisements_received_total Advertisements of this vhid received from other hosts and accepted.
                # TYPE ucarp_advertisements_received_total counter
                ucarp_advertisements_received_total{\(labels)} 30
                # HELP ucarp_advertisement_send_errors_total Advertisements the system refused to send.
                # TYPE ucarp_advertisement_send_errors_total counter
                ucarp_advertisement_send_errors_total{\(labels)} 1
                # HELP ucarp_dropped_packets_total CARP packets dropped, by reason.
                # TYPE ucarp_dropped_packets_total counter
                ucarp_dropped_packets_total{\(labels),reason="bad-ip-header"} 0
                ucarp_dropped_packets_total{\(labels),reason="truncated"} 0
                ucarp_dropped_packets_total{\(labels),reason="oversized"} 0
                ucarp_dropped_packets_total{\(labels),reason="bad-ttl"} 1
                ucarp_dropped_packets_total{\(labels),reason="bad-version"} 0
                ucarp_dropped_packets_total{\(labels),reason="bad-type"} 0
                ucarp_dropped_packets_total{\(labels),reason="other-vhid"} 0
                ucarp_dropped_packets_total{\(labels),reason="other-destination"} 0
                ucarp_dropped_packets_total{\(labels),reason="unknown-peer"} 0
                ucarp_dropped_packets_total{\(labels),reason="bad-checksum"} 0
                ucarp_dropped_packets_total{\(labels),reason="bad-digest"} 2
                ucarp_dropped_packets_total{\(labels),reason="reflected"} 0
                ucarp_dropped_packets_total{\(labels),reason="replayed"} 0
                ucarp_dropped_packets_total{\(labels),reason="other-auth-mode"} 0
                # HELP ucarp_transitions_total Changes of state, by the state changed to.
                # TYPE ucarp_transitions_total counter
                ucarp_transitions_total{\(labels),to="BACKUP"} 2
                ucarp_transitions_total{\(labels),to="MASTER"} 1
                ucarp_transitions_total{\(labels),to="FAULT"} 0
                # HELP ucarp_last_transition_timestamp_seconds When the state last changed, in seconds since the epoch.
                # TYPE ucarp_last_transition_timestamp_seconds gauge
                ucarp_last_transition_timestamp_seconds{\(labels)} 1764581234.5
                # HELP ucarp_advbase_seconds The advertisement base interval (--advbase).
                # TYPE ucarp_advbase_seconds gauge
                ucarp_advbase_seconds{\(labels)} 1
                # HELP ucarp_advskew The skew advertised, in 1/256 s (--advskew, or 240 while demoted after send errors).
                # TYPE ucarp_advskew gauge
                ucarp_advskew{\(labels)} 64
                # HELP ucarp_advertisement_interval_seconds The interval advertised: advbase plus advskew/256 seconds.
                # TYPE ucarp_advertisement_interval_seconds gauge
                ucarp_advertisement_interval_seconds{\(labels)} 1.25
                # HELP ucarp_address_restores_total Times the up script ran again and the address was announced while master (address-lost).
                # TYPE ucarp_address_restores_total counter
                ucarp_address_restores_total{\(labels)} 1
                # HELP ucarp_demotion The demotion counter added to --advskew (maintenance, --group): 240 per cause, 0 when none.
                # TYPE ucarp_demotion gauge
                ucarp_demotion{\(labels)} 0
                # HELP ucarp_demoted 1 for each cause that demotes this instance itself (maintenance, carrier-lost, ...), 0 not.
                # TYPE ucarp_demoted gauge
                ucarp_demoted{\(labels),cause="carrier-lost"} 0
                ucarp_demoted{\(labels),cause="check-failed"} 0
                ucarp_demoted{\(labels),cause="step-down"} 0
                ucarp_demoted{\(labels),cause="send-error"} 0
                ucarp_demoted{\(labels),cause="maintenance"} 0

                """)
    }

    @Test(arguments: [
        (CARPStateMachine.Role.initial, 0.0), (.backup, 1), (.master, 2), (.fault, 3),
    ])
    func stateNumbersAreKeepalivedsOwn(role: CARPStateMachine.Role, number: Double) {
        #expect(snapshot { $0.role = role }.stateNumber == number)
    }

    @Test func aStoppedInstanceIsDownAndInNoState() {
        let text = snapshot { $0.running = false }.text
        #expect(text.contains("\nucarp_up{iname=\"vhid7\",intf=\"eth0\",vrid=\"7\"} 0\n"))
        #expect(text.contains("\nucarp_state{iname=\"vhid7\",intf=\"eth0\",vrid=\"7\",ip_address=\"192.0.2.100\"} 0\n"))
        // The counters stay as they were.
        #expect(text.contains("\nucarp_advertisements_sent_total{iname=\"vhid7\",intf=\"eth0\",vrid=\"7\"} 12\n"))
    }

    @Test func withoutAWallClockThereIsNoTransitionTimestamp() {
        #expect(!snapshot { $0.lastTransition = nil }.text.contains("ucarp_last_transition_timestamp_seconds"))
    }

    @Test func aHealthCheckShowsItsVerdictOnceThereIsOneAndItsResults() {
        let before = snapshot { $0.healthCheck = .init(healthy: nil, passed: 0, failed: 1) }.text
        #expect(!before.contains("ucarp_health_check_healthy"))
        #expect(
            before.contains(
                "\nucarp_health_checks_total{iname=\"vhid7\",intf=\"eth0\",vrid=\"7\",result=\"failed\"} 1\n"))
        let after = snapshot { $0.healthCheck = .init(healthy: false, passed: 4, failed: 2) }.text
        #expect(after.contains("# TYPE ucarp_health_check_healthy gauge\n"))
        #expect(after.contains("\nucarp_health_check_healthy{iname=\"vhid7\",intf=\"eth0\",vrid=\"7\"} 0\n"))
        #expect(
            after.contains(
                "\nucarp_health_checks_total{iname=\"vhid7\",intf=\"eth0\",vrid=\"7\",result=\"passed\"} 4\n"))
        // Without --check, none of it.
        #expect(!snapshot().text.contains("health"))
    }

    @Test func everyNameFollowsPrometheusRules() {
        let all = snapshot { $0.healthCheck = .init(healthy: true, passed: 1, failed: 0) }.families
        for family in all {
            #expect(family.name.hasPrefix("ucarp_"))
            #expect(family.name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
            #expect(family.name.hasSuffix("_total") == (family.kind == .counter), "\(family.name)")
            #expect(!family.samples.isEmpty)
        }
        #expect(Set(all.map(\.name)).count == all.count)
    }

    @Test func labelValuesAndHelpAreEscaped() {
        let family = MetricFamily(
            name: "ucarp_x", help: "back\\slash\nnewline", kind: .gauge,
            samples: [.init([("intf", "a\"b\\c\nd")], 1)])
        #expect(
            MetricFamily.text(of: [family]) == """
                # HELP ucarp_x back\\\\slash\\nnewline
                # TYPE ucarp_x gauge
                ucarp_x{intf="a\\"b\\\\c\\nd"} 1

                """)
    }

    @Test func numbersAreWrittenAsPrometheusReadsThem() {
        #expect(MetricFamily.number(0) == "0")
        #expect(MetricFamily.number(18_446_744_073_709) == "18446744073709")
        #expect(MetricFamily.number(1.25) == "1.25")
        #expect(MetricFamily.number(1_764_581_234.123) == "1764581234.123")
        #expect(MetricFamily.number(.infinity) == "+Inf")
        #expect(MetricFamily.number(-.infinity) == "-Inf")
        #expect(MetricFamily.number(.nan) == "NaN")
    }
}

extension MetricsSnapshotTests {
    @Test func theEtcdGuardAddsTheKeyHeldAndTheLeaseLossesOnlyUnderEtcd() {
        let labels = #"iname="vhid7",intf="eth0",vrid="7""#
        #expect(!snapshot().text.contains("ucarp_etcd"))
        let text = snapshot { $0.etcd = .init(holdsKey: true, leaseLosses: 2) }.text
        #expect(
            text.hasSuffix(
                """
                # HELP ucarp_etcd_key_held 1 while this instance holds the etcd key (--etcd), 0 not.
                # TYPE ucarp_etcd_key_held gauge
                ucarp_etcd_key_held{\(labels)} 1
                # HELP ucarp_etcd_lease_losses_total Times the etcd guard took mastership back (lease lost or expired, key taken).
                # TYPE ucarp_etcd_lease_losses_total counter
                ucarp_etcd_lease_losses_total{\(labels)} 2

                """))
    }
}
