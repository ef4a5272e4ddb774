# shellcheck shell=bash
# Make before break (issue 16): a master leaving on purpose keeps the address until the new
# master has announced it, so a client sending requests all along loses none of them.

handover_probe="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/Benchmarks/probe.py"

# handover_loses_no_probe BACKUP SIGNAL: h1 (SwiftCARP, --shutdown) master, h2 running BACKUP,
# a client h3 probing the address 500 times a second; SIGNAL to h1 in the middle.
handover_loses_no_probe() {
    local backup_bin=$1 how=$2 probes lost last
    needs python3
    topology_up 3
    run_named responder-h1 h1 python3 "$handover_probe" respond h1
    run_named responder-h2 h2 python3 "$handover_probe" respond h2
    start_carp h1 "$SWIFTCARP" --advskew=0 --shutdown
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$backup_bin" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    holds_for 1 only_owner h1 || fail "h1 lost the address (owners: $(owners))"
    probes="$WORK/probes"
    run_named client h3 python3 "$handover_probe" send "$VIP" --rate 500 --duration 6 \
        --out "$probes"
    # The scenario: two seconds of requests to the master before it leaves.
    sleep 2
    kill "-$how" "$(pid_of h1)"
    wait_for 10 has_exited client || fail "the client did not finish"
    [ "$(exit_status_of client)" = 0 ] || fail "the client failed: $(log_of client)"
    lost=$(awk '!/^#/ && $4 == "-"' "$probes" | wc -l)
    last=$(awk '!/^#/ && $4 != "-" { who = $5 } END { print who }' "$probes")
    [ "$last" = h2 ] || fail "the last probes were answered by '$last', expected h2"
    awk '!/^#/ && $5 == "h1"' "$probes" | grep -q . || fail "h1 never answered: no hand-over was measured"
    [ "$lost" = 0 ] || fail "$lost of $(grep -vc '^#' "$probes") probes lost during the $how hand-over"
    echo "    $how hand-over to $([ "$backup_bin" = "$SWIFTCARP" ] && echo SwiftCARP || echo ucarp): 0 of $(grep -vc '^#' "$probes") probes lost"
    wait_for 5 only_owner h2 || fail "h1 kept the address (owners: $(owners))"
}

test_handover_term_loses_no_request_to_swiftcarp() { handover_loses_no_probe "$SWIFTCARP" TERM; }
test_handover_term_loses_no_request_to_ucarp() { handover_loses_no_probe "$REFERENCE_UCARP" TERM; }
test_handover_usr2_loses_no_request_to_swiftcarp() { handover_loses_no_probe "$SWIFTCARP" USR2; }

# --handover-wait=0: ucarp's order, the down script with the leaving advertisement; by default
# a lone master waits (for a new master that never comes) before it lets go.
test_handover_wait_zero_releases_at_once() {
    topology_up 1
    start_carp h1 "$SWIFTCARP" --shutdown --handover-wait=0
    wait_for 6 owns h1 || fail "h1 never became master"
    kill -TERM "$(pid_of h1)"
    wait_for 5 has_exited h1 || fail "h1 did not exit"
    ! owns h1 || fail "the down script did not remove the address"
    ! log_has h1 "releasing it" || fail "--handover-wait=0 still waited for a new master"
    topology_down
    topology_up 1
    start_carp h1 "$SWIFTCARP" --shutdown
    wait_for 6 owns h1 || fail "h1 never became master"
    kill -TERM "$(pid_of h1)"
    wait_for 6 has_exited h1 || fail "h1 did not exit"
    ! owns h1 || fail "the down script did not remove the address"
    log_has h1 "The new master has \[$VIP\] \(or none came\): releasing it" || fail "no hand-over wait by default"
}
