# shellcheck shell=bash
# Health checks (--check): the address follows the service, not just the host.

# start_checked HOST SKEW [options]: a daemon whose service is healthy while $WORK/HOST.ok exists.
start_checked() {
    local host=$1 skew=$2
    shift 2
    touch "$WORK/$host.ok"
    start_carp "$host" "$SWIFTCARP" --advskew="$skew" --check="test -f $WORK/$host.ok" \
        --statefile="$WORK/$host.state" "$@"
}

test_failed_check_hands_the_address_over_and_preempts_back() {
    topology_up 2
    start_checked h1 0 --preempt
    start_checked h2 100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    rm "$WORK/h1.ok"
    local removed
    removed=$(now_ms)
    # interval 1 s x fall 2, plus a second (with room for a slow machine: the log line below
    # shows that the hand-over itself was immediate).
    wait_for 8 only_owner h2 || fail "h2 did not take over after h1's check failed (owners: $(owners))"
    echo "    check failure to takeover: $(( $(now_ms) - removed )) ms"
    log_has h1 "Switching to state: FAULT" || fail "h1 did not log FAULT"
    wait_for 3 grep -qx "STATE=FAULT" "$WORK/h1.state" || fail "state file: $(cat "$WORK/h1.state")"
    grep -qx "REASON=health-check-failed" "$WORK/h1.state" || fail "state file: $(cat "$WORK/h1.state")"
    log_has h2 "Putting MASTER DOWN \(going to time out\)" || fail "h2 took over by timeout, not at once"
    kill -USR1 "$(pid_of h1)"
    wait_for 3 log_has h1 "FAULT on eth0 id 7" || fail "USR1 does not show FAULT"
    holds_for 3 only_owner h2 || fail "h1 in FAULT took the address back (owners: $(owners))"
    touch "$WORK/h1.ok"
    wait_for 8 only_owner h1 || fail "h1, healthy again with --preempt, did not take the address back (owners: $(owners))"
}

test_unhealthy_backup_never_becomes_master() {
    topology_up 1
    start_carp h1 "$SWIFTCARP" --check=false --check-interval=0.5
    holds_for 5 not owns h1 || fail "an instance whose check always fails became master"
    log_has h1 "Switching to state: FAULT" || fail "no FAULT logged"
}

test_hanging_check_times_out_as_a_failure() {
    topology_up 1
    start_carp h1 "$SWIFTCARP" --check="sleep 100" --check-interval=0.5 --check-timeout=0.3 --check-fall=1
    wait_for 5 log_has h1 "timed out: killed" || fail "the hanging check was not killed"
    wait_for 3 log_has h1 "Switching to state: FAULT" || fail "a timed-out check did not count as a failure"
    # A new check starts every 0.5 s, so one may be running; killed ones must not remain after
    # two seconds of them (the scenario: four checks started and timed out).
    sleep 2
    [ "$(ps -o args= -p "$(ip netns pids "$(ns h1)" | paste -sd, -)" | grep -c '^sleep 100')" -le 1 ] \
        || fail "killed checks pile up"
}
