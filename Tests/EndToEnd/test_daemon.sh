# shellcheck shell=bash
# Signals, scripts, carrier and daemonizing of SwiftCARP itself.

test_usr1_logs_the_state_line_and_counters() {
    two_hosts_with_h1_master
    kill -USR1 "$(pid_of h1)"
    wait_for 3 log_has h1 "\[INFO\] MASTER on eth0 id 7$" || fail "no MASTER status line"
    # Asked again until the backup has heard an advert.
    wait_for 3 counters_match h2 "Counters: sent 0, received [1-9]" || fail "the backup's counters do not show received adverts"
    log_has h2 "\[INFO\] BACKUP on eth0 id 7$" || fail "no BACKUP status line"
}

test_usr2_makes_the_master_step_down() {
    two_hosts_with_h1_master
    kill -USR2 "$(pid_of h1)"
    wait_for 6 only_owner h2 || fail "h2 did not take over after h1 stepped down (owners: $(owners))"
    holds_for 2 only_owner h2 || fail "h1 took the address back without --preempt (owners: $(owners))"
    [ "$(script_log h1 | tail -n 1)" = "DOWN eth0 $VIP" ] || fail "h1 did not run its down script last"
}

test_term_with_shutdown_runs_the_down_script_and_exits_zero() {
    topology_up 1
    start_carp h1 "$SWIFTCARP" --shutdown
    wait_for 6 owns h1 || fail "h1 never became master"
    kill -TERM "$(pid_of h1)"
    wait_for 5 has_exited h1 || fail "h1 did not exit on SIGTERM"
    [ "$(exit_status_of h1)" = 0 ] || fail "exit status $(exit_status_of h1), expected 0"
    ! owns h1 || fail "the down script did not remove the address"
}

test_hup_quit_int_with_shutdown_also_exit_cleanly() {
    local signal
    for signal in HUP QUIT INT; do
        topology_up 1
        start_carp h1 "$SWIFTCARP" --shutdown
        wait_for 6 owns h1 || fail "h1 never became master"
        kill "-$signal" "$(pid_of h1)"
        wait_for 5 has_exited h1 || fail "no exit on SIG$signal"
        [ "$(exit_status_of h1)" = 0 ] || fail "SIG$signal: exit status $(exit_status_of h1)"
        ! owns h1 || fail "SIG$signal: the address is still there"
        topology_down
    done
}

test_term_without_shutdown_leaves_without_scripts() {
    topology_up 1
    start_carp h1 "$SWIFTCARP"
    wait_for 6 owns h1 || fail "h1 never became master"
    kill -TERM "$(pid_of h1)"
    wait_for 5 has_exited h1 || fail "h1 did not die on SIGTERM"
    [ "$(exit_status_of h1)" = 143 ] || fail "exit status $(exit_status_of h1), expected 143 (killed by TERM)"
    owns h1 || fail "a down script ran although --shutdown was not given"
}

# ucarp waits for its scripts, so a slow up script stops the master's adverts and the
# backup takes over as well. Ours must keep advertising.
test_slow_up_script_does_not_stop_advertisements() {
    topology_up 2
    cat > "$WORK/slow-up" <<SCRIPT
#!/bin/sh
sleep 6
exec "$WORK/up" "\$@"
SCRIPT
    chmod +x "$WORK/slow-up"
    start_carp h1 "$SWIFTCARP" --advskew=0 --upscript="$WORK/slow-up"
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 8 log_has h1 "Switching to state: MASTER" || fail "h1 never became master"
    # h1's up script takes 6 s: for 5 of them h2 must stay backup.
    holds_for 5 not log_has h2 "Switching to state: MASTER" || fail "h2 became master while h1's up script ran"
    wait_for 5 only_owner h1 || fail "h1 does not own the address after its script (owners: $(owners))"
}

# A down script queued behind a slow up script runs after it, so the last word is "down".
test_scripts_run_one_at_a_time_in_transition_order() {
    topology_up 1
    cat > "$WORK/slow-up" <<SCRIPT
#!/bin/sh
sleep 2
exec "$WORK/up" "\$@"
SCRIPT
    chmod +x "$WORK/slow-up"
    start_carp h1 "$SWIFTCARP" --upscript="$WORK/slow-up" --neutral
    wait_for 6 log_has h1 "Switching to state: MASTER" || fail "h1 never became master"
    kill -USR2 "$(pid_of h1)"
    wait_for 5 script_count_at_least h1 2 || fail "the down script never ran"
    [ "$(script_log h1 | tr '\n' '|')" = "UP eth0 $VIP|DOWN eth0 $VIP|" ] \
        || fail "scripts ran out of order: $(script_log h1 | tr '\n' '|')"
    wait_for 3 not owns h1 || fail "the address is left after up then down"
}

test_xparam_is_passed_to_the_scripts() {
    topology_up 1
    start_carp h1 "$SWIFTCARP" --xparam=extra-value
    wait_for 6 owns h1 || fail "h1 never became master"
    script_log h1 | grep -qx "UP eth0 $VIP extra-value" || fail "no xparam in: $(script_log h1)"
}

test_carrier_loss_makes_the_master_a_backup() {
    two_hosts_with_h1_master
    ip -n "$(ns sw)" link set p1 down
    wait_for 3 log_has h1 "no carrier" || fail "h1 did not notice its carrier loss"
    wait_for 3 not owns h1 || fail "h1 kept the address without carrier"
    wait_for 6 owns h2 || fail "h2 did not take over"
    ip -n "$(ns sw)" link set p1 up
    wait_for 3 log_has h1 "carrier back" || fail "h1 did not notice its carrier coming back"
    holds_for 4 only_owner h2 || fail "after the carrier came back: owners $(owners), expected h2 alone"
    kill -0 "$(pid_of h1)" || fail "h1 exited"
}

test_daemonize_detaches_and_keeps_running() {
    topology_up 1
    ip netns exec "$(ns h1)" "$SWIFTCARP" -B -i eth0 -s "$(host_address 1)" -v 7 -p hunter2 -a "$VIP" \
        -u "$WORK/up" -d "$WORK/down" -f none > "$WORK/h1.log" 2>&1
    local status=$?
    [ "$status" = 0 ] || fail "the starting command exited $status"
    wait_for 6 owns h1 || fail "the detached daemon did not become master"
    local pid
    pid=$(ip netns pids "$(ns h1)" | head -n 1)
    [ -n "$pid" ] || fail "no daemon left running"
    [ "$(ps -o sid= -p "$pid" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ] \
        || fail "the daemon did not leave our session"
    [ ! -s "$WORK/h1.log" ] || fail "a daemonized instance wrote to the terminal: $(cat "$WORK/h1.log")"
}

test_startup_failure_is_reported_even_with_daemonize() {
    topology_up 1
    # An interface without an Ethernet address cannot carry CARP: start-up must fail loudly.
    ip netns exec "$(ns h1)" "$SWIFTCARP" -B -i lo -s 127.0.0.1 -v 7 -p hunter2 -a "$VIP" -f none \
        > "$WORK/h1.log" 2>&1
    local status=$?
    [ "$status" = 2 ] || fail "exit status $status, expected 2"
    log_has h1 "not Ethernet" || fail "no reason given: $(log_of h1)"
}
