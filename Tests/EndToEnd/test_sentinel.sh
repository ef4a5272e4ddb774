# shellcheck shell=bash
# The sentinel (issue 27: a killed foreground daemon leaves no address): a plain foreground
# instance (neither --daemonize nor --watchdog) stays the process that was started, as ucarp's,
# and forks a small child that releases the address if the daemon dies without leaving. Uses
# write_reason_script, reasons and kill_and_sample of test_death.sh, reload_write_config and
# reload_ask of test_reload.sh.

# sentinel_start HOST SKEW [options...]: a plain foreground SwiftCARP on HOST with the recording
# down script, the notify script and the state file $WORK/HOST.state.
sentinel_start() {
    local host=$1 skew=$2
    shift 2
    run_on "$host" "$SWIFTCARP" --interface=eth0 --srcip="$(host_address "${host#h}")" --vhid=7 --pass=hunter2 \
        --addr="$VIP" --upscript="$WORK/up" --downscript="$WORK/down-reason" --facility=none \
        --notify="$WORK/notify" --statefile="$WORK/$host.state" --advskew="$skew" "$@"
    wait_for 5 listening "$host" || fail "$host did not start: $(log_of "$host")"
}

# sentinel_pair [options...]: h1 a foreground master (advskew 0) with OPTIONS, h2 a plain
# SwiftCARP backup (advskew 100); h1 holds the address alone.
sentinel_pair() {
    topology_up 2
    write_reason_script
    sentinel_start h1 0 "$@"
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    sleep 0.5
}

# sentinel_of HOST: the pid of the sentinel, the child of HOST's daemon named ucarp-sentinel.
sentinel_of() {
    local pid
    for pid in $(ps -o pid= --ppid "$(pid_of "$1")"); do
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = ucarp-sentinel ] && echo "$pid"
    done
}

# sentinel_state_is HOST STATE REASON: HOST's state file says STATE, with REASON.
sentinel_state_is() {
    grep -qx "STATE=$2" "$WORK/$1.state" 2>/dev/null && grep -qx "REASON=$3" "$WORK/$1.state"
}

# sentinel_gone PID: the process PID has ended and was reaped (a zombie still answers kill -0).
sentinel_gone() { ! kill -0 "$1" 2>/dev/null; }

# sentinel_replaced HOST OLD: HOST's daemon has one sentinel, not OLD.
sentinel_replaced() {
    local now
    now=$(sentinel_of "$1")
    [ -n "$now" ] && [ "$now" != "$2" ] && [ "$(wc -w <<<"$now")" = 1 ]
}

test_sentinel_sigkill_of_a_foreground_master_releases_its_address() {
    sentinel_pair
    local sentinel
    sentinel=$(sentinel_of h1)
    [ -n "$sentinel" ] || fail "no sentinel under h1's daemon $(pid_of h1)"
    tr '\0' ' ' < "/proc/$sentinel/cmdline" | grep -q "^ucarp-sentinel: " \
        || fail "the sentinel's command line: $(tr '\0' ' ' < "/proc/$sentinel/cmdline")"
    kill_and_sample "$(pid_of h1)"
    [ "$(reasons h1 | tail -n 1)" = daemon-died ] || fail "down script reasons: $(reasons h1 | tr '\n' ' ')"
    log_has h1 "The instance \(pid $(pid_of h1)\) died while MASTER without leaving: the sentinel cleans up after it" \
        || fail "the sentinel did not say: $(log_of h1)"
    log_has h1 "Sent the leaving advertisement" || fail "no leaving advertisement: $(log_of h1)"
    sentinel_state_is h1 STOPPED daemon-died || fail "state file: $(cat "$WORK/h1.state")"
    [ "$(death_notified h1 | tail -n 1)" = "STOP daemon-died" ] || fail "notified: $(death_notified h1 | tr '\n' ' ')"
    wait_for 3 no_process_on h1 || fail "processes left: $(ip netns pids "$(ns h1)")"
}

# A TERM, or a Ctrl-C to the whole process group: the daemon leaves as it always did (with
# --shutdown, its down script once), the sentinel runs nothing and goes with it.
test_sentinel_a_clean_stop_runs_no_second_down_script() {
    sentinel_pair --shutdown
    local sentinel before
    sentinel=$(sentinel_of h1)
    [ -n "$sentinel" ] || fail "no sentinel under h1's daemon $(pid_of h1)"
    before=$(reasons h1 | wc -l)
    # INT to both, the sentinel first, as a terminal's Ctrl-C reaches the process group (the
    # tests' daemons share the runner's group, which must not be signalled): the sentinel
    # ignores it, the daemon leaves.
    kill -INT "$sentinel" "$(pid_of h1)"
    wait_for 3 has_exited h1 || fail "INT did not end h1"
    wait_for 3 sentinel_gone "$sentinel" || fail "the sentinel outlived a clean stop"
    wait_for 3 only_owner h2 || fail "h2 did not take over (owners: $(owners))"
    [ "$(reasons h1 | tail -n +$((before + 1)) | tr '\n' ' ')" = "shutdown " ] \
        || fail "down scripts after the stop: $(reasons h1 | tail -n +$((before + 1)) | tr '\n' ' ')"
    ! log_has h1 "sentinel cleans up" || fail "the sentinel acted: $(log_of h1)"
    grep -qx "STATE=STOPPED" "$WORK/h1.state" || fail "state file: $(cat "$WORK/h1.state")"
    ! grep -qx "REASON=daemon-died" "$WORK/h1.state" || fail "state file: $(cat "$WORK/h1.state")"
}

# A BACKUP killed has no address to release: no leaving advertisement (the master would not
# care, but a backup must never send one), no down script; STOPPED in the state file.
test_sentinel_sigkill_of_a_foreground_backup_sends_no_leaving_advertisement() {
    topology_up 2
    write_reason_script
    start_carp h2 "$SWIFTCARP" --advskew=0
    wait_for 10 only_owner h2 || fail "h2 did not become master (owners: $(owners))"
    sentinel_start h1 100
    holds_for 1 only_owner h2 || fail "h1 took the address (owners: $(owners))"
    local before sentinel
    sentinel=$(sentinel_of h1)
    before=$(reasons h1 | wc -l)
    kill -KILL "$(pid_of h1)"
    wait_for 3 sentinel_gone "$sentinel" || fail "the sentinel did not finish"
    log_has h1 "died while BACKUP without leaving" || fail "the sentinel did not say: $(log_of h1)"
    ! log_has h1 "leaving advertisement" || fail "a backup's sentinel sent a leaving advertisement: $(log_of h1)"
    [ "$(reasons h1 | wc -l)" = "$before" ] || fail "down scripts: $(reasons h1 | tr '\n' ' ')"
    sentinel_state_is h1 STOPPED daemon-died || fail "state file: $(cat "$WORK/h1.state")"
    holds_for 1 only_owner h2 || fail "owners: $(owners)"
}

# SIGSTOP freezes the daemon as it freezes ucarp (the pid is the daemon's): the backup takes
# over, the frozen master keeps its address, and the sentinel does nothing; SIGCONT resumes it.
test_sentinel_sigstop_freezes_the_daemon_and_the_sentinel_does_nothing() {
    sentinel_pair
    local sentinel before
    sentinel=$(sentinel_of h1)
    before=$(reasons h1 | wc -l)
    kill -STOP "$(pid_of h1)"
    wait_for 3 owns h2 || fail "h2 did not take over from the frozen master (owners: $(owners))"
    [ "$(awk '{print $3}' "/proc/$(pid_of h1)/stat")" = T ] || fail "the daemon is not stopped"
    holds_for 1 owns h1 || fail "the frozen master lost its address"
    kill -0 "$sentinel" 2>/dev/null || fail "the sentinel ended while the daemon was frozen"
    kill -CONT "$(pid_of h1)"
    wait_for 5 one_owner || fail "no single owner after SIGCONT (owners: $(owners))"
    ! log_has h1 "sentinel cleans up" || fail "the sentinel acted: $(log_of h1)"
    [ "$(reasons h1 | tail -n +$((before + 1)) | grep -c daemon-died)" = 0 ] \
        || fail "down scripts: $(reasons h1 | tr '\n' ' ')"
    [ "$(sentinel_of h1)" = "$sentinel" ] || fail "the sentinel changed"
}

# `ucarp --reload` re-executes the daemon in place: once the new binary carries on, a fresh
# sentinel takes the place of the old one (which goes quietly, reaped), and a SIGKILL afterwards
# is still cleaned up.
test_sentinel_a_reload_starts_a_fresh_one_that_still_cleans_up() {
    sentinel_pair
    local sentinel daemon fresh
    sentinel=$(sentinel_of h1)
    daemon=$(pid_of h1)
    wait_for 5 reload_ask h1 --statefile="$WORK/h1.state" || fail "--reload: $(cat "$WORK/reload.out")"
    grep -q "reloaded: pid $daemon " "$WORK/reload.out" || fail "reload: $(cat "$WORK/reload.out")"
    wait_for 3 sentinel_replaced h1 "$sentinel" || fail "no fresh sentinel: $(sentinel_of h1 | tr '\n' ' ')"
    wait_for 3 sentinel_gone "$sentinel" || fail "the old sentinel $sentinel is left"
    fresh=$(sentinel_of h1)
    tr '\0' ' ' < "/proc/$fresh/cmdline" | grep -q "^ucarp-sentinel: " \
        || fail "the fresh sentinel's command line: $(tr '\0' ' ' < "/proc/$fresh/cmdline")"
    # No descriptor of the hand-over leaks into the sentinel, nor its pipe into the scripts.
    [ "$(ip netns pids "$(ns h1)" | sort | tr '\n' ' ')" = "$(printf '%s\n' "$daemon" "$fresh" | sort | tr '\n' ' ')" ] \
        || fail "processes: $(ip netns pids "$(ns h1)" | tr '\n' ' ')"
    [ "$(find "/proc/$fresh/fd" -mindepth 1 | wc -l)" = 4 ] \
        || fail "the fresh sentinel holds: $(find "/proc/$fresh/fd" -mindepth 1 -printf '%f -> %l; ')"
    ! log_has h1 "sentinel cleans up" || fail "the old sentinel acted: $(log_of h1)"
    holds_for 1 only_owner h1 || fail "the reload moved the address (owners: $(owners))"
    kill_and_sample "$daemon"
    [ "$(reasons h1 | tail -n 1)" = daemon-died ] || fail "down script reasons: $(reasons h1 | tr '\n' ' ')"
    [ "$(log_of h1 | grep -c 'the sentinel cleans up')" = 1 ] || fail "the sentinels acted: $(log_of h1)"
    wait_for 3 no_process_on h1 || fail "processes left: $(ip netns pids "$(ns h1)")"
}

# new_reasons HOST: the CARP_REASON of each run of down-new on HOST, on one line.
new_reasons() { tr '\n' ' ' 2>/dev/null < "$WORK/new-reasons.$(ns "$1")"; }

# A reload that changes the down script: the sentinel of the start would run the old one. The
# fresh sentinel runs the new one, and the old one runs nothing.
test_sentinel_after_a_reload_runs_the_new_down_script() {
    topology_up 2
    write_reason_script
    cat > "$WORK/down-new" <<SCRIPT
#!/bin/sh
echo "\$CARP_REASON" >> "$WORK/new-reasons.\$(ip netns identify \$\$)"
exec "$WORK/down" "\$@"
SCRIPT
    chmod +x "$WORK/down-new"
    reload_write_config h1 0 "$WORK/up" "$WORK/down-reason"
    run_on h1 "$SWIFTCARP" --config="$WORK/h1.conf" --facility=none --statefile="$WORK/h1.state"
    wait_for 5 listening h1 || fail "h1 did not start: $(log_of h1)"
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    sleep 0.5
    local sentinel daemon before
    sentinel=$(sentinel_of h1)
    daemon=$(pid_of h1)
    before=$(reasons h1 | wc -l)
    reload_write_config h1 0 "$WORK/up" "$WORK/down-new"
    wait_for 5 reload_ask h1 || fail "--reload: $(cat "$WORK/reload.out")"
    wait_for 3 sentinel_replaced h1 "$sentinel" || fail "no fresh sentinel: $(sentinel_of h1 | tr '\n' ' ')"
    wait_for 3 sentinel_gone "$sentinel" || fail "the old sentinel $sentinel is left"
    kill_and_sample "$daemon"
    wait_for 3 no_process_on h1 || fail "processes left: $(ip netns pids "$(ns h1)")"
    [ "$(new_reasons h1)" = "daemon-died " ] || fail "the new down script ran with: $(new_reasons h1)"
    [ "$(reasons h1 | wc -l)" = "$before" ] || fail "the old down script ran: $(reasons h1 | tr '\n' ' ')"
    sentinel_state_is h1 STOPPED daemon-died || fail "state file: $(cat "$WORK/h1.state")"
}

# A sentinel killed by hand: the daemon reaps it (no zombie), says so once, and starts a fresh
# one, which cleans up after a SIGKILL of the daemon as the first would have.
test_sentinel_killed_by_hand_is_replaced() {
    sentinel_pair
    local sentinel daemon
    sentinel=$(sentinel_of h1)
    daemon=$(pid_of h1)
    kill -KILL "$sentinel"
    wait_for 3 log_has h1 "The sentinel \(pid $sentinel\) ended: a fresh one is started" \
        || fail "no warning: $(log_of h1)"
    wait_for 3 sentinel_replaced h1 "$sentinel" || fail "no fresh sentinel: $(sentinel_of h1 | tr '\n' ' ')"
    wait_for 3 sentinel_gone "$sentinel" || fail "the killed sentinel $sentinel is left a zombie"
    [ "$(log_of h1 | grep -c 'The sentinel (pid')" = 1 ] || fail "warnings: $(log_of h1 | grep 'sentinel')"
    holds_for 1 only_owner h1 || fail "owners: $(owners)"
    kill_and_sample "$daemon"
    [ "$(reasons h1 | tail -n 1)" = daemon-died ] || fail "down script reasons: $(reasons h1 | tr '\n' ' ')"
    log_has h1 "The instance \(pid $daemon\) died while MASTER without leaving: the sentinel cleans up after it" \
        || fail "the fresh sentinel did not say: $(log_of h1)"
    wait_for 3 no_process_on h1 || fail "processes left: $(ip netns pids "$(ns h1)")"
}

test_sentinel_none_with_no_sentinel() {
    topology_up 1
    write_reason_script
    sentinel_start h1 0 --no-sentinel
    wait_for 10 owns h1 || fail "h1 did not become master"
    [ "$(ip netns pids "$(ns h1)")" = "$(pid_of h1)" ] || fail "processes: $(ip netns pids "$(ns h1)" | tr '\n' ' ')"
    # As ucarp: a SIGKILL leaves the address behind.
    kill -KILL "$(pid_of h1)"
    wait_for 3 has_exited h1 || fail "h1 did not end"
    holds_for 1 owns h1 || fail "the address went without a sentinel"
}
